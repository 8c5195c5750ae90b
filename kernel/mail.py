"""Outgoing e-mail through an SMTP server (the standard library's ``smtplib``).

Settings (``kernel.settings``): ``smtp_host``, ``smtp_port``, ``smtp_starttls``,
``smtp_user``, ``smtp_password`` and ``mail_from``. With ``smtp_starttls`` the
connection is upgraded with STARTTLS (certificate checked against the system's
authorities) before the log-in and the message; a password is never sent in clear to
any host but this machine's. With an empty ``smtp_host`` nothing is sent: the message
is written to the server's log, which is for development only.

Messages are written in the reader's language (the gettext catalogs of
``kernel.i18n``); the only message today is the link that confirms an account's
e-mail address.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from kernel import i18n
from kernel.markers import N_
from kernel.settings import Settings

__all__ = ["MailError", "Mailer", "OutgoingMail", "confirmation_mail"]

log = logging.getLogger("veche.mail")
TIMEOUT_SECONDS = 15


class MailError(Exception):
    """The message could not be handed to the SMTP server; the text says why."""


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    body: str


class Mailer:
    """Sends one message per call over a fresh SMTP connection."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def configured(self) -> bool:
        return bool(self.settings.smtp_host)

    def send(self, mail: OutgoingMail) -> bool:
        """Hand the message to the SMTP server: True once it took it, False when no
        server is configured (the message went to the log); ``MailError`` if it failed."""
        settings = self.settings
        message = EmailMessage()
        message["From"] = settings.mail_from
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=settings.mail_from.rsplit("@", 1)[-1])
        message.set_content(mail.body)
        if not self.configured:
            log.warning(
                "no SMTP server is configured (smtp_host); this message was not sent:\n%s",
                message.as_string(),
            )
            return False
        try:
            with smtplib.SMTP(
                settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS
            ) as smtp:
                smtp.ehlo()
                if settings.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if settings.smtp_user:
                    smtp.login(settings.smtp_user, settings.smtp_password)
                smtp.send_message(message)
            return True
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(
                f"the SMTP server {settings.smtp_host}:{settings.smtp_port} "
                f"did not take the message: {exc}"
            ) from exc


def confirmation_mail(lang: str, to: str, display_name: str, link: str, hours: int) -> OutgoingMail:
    """The message with the link that confirms ``to``, in ``lang``."""
    t = i18n.translations(lang).gettext
    subject = t(N_("Confirm your e-mail address for Veche"))
    body = "\n\n".join(
        [
            t(N_("Hello, {name}.")).format(name=display_name),
            t(
                N_(
                    "Someone, probably you, registered an account on Veche with this "
                    "e-mail address. To confirm that it is yours, open this link:"
                )
            ),
            link,
            t(N_("The link works for {hours} hours.")).format(hours=hours),
            t(
                N_(
                    "Until the address is confirmed the account cannot vote with the "
                    "municipality's voter roll nor support, co-fund or rate proposals. "
                    "If you did not register, ignore this message."
                )
            ),
        ]
    )
    return OutgoingMail(to=to, subject=subject, body=body + "\n")
