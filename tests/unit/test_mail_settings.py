"""The mail settings refuse what would leak a password or mislead a link, and the
confirmation message is written in the reader's language with the link in it."""

from __future__ import annotations

import pytest

from kernel.mail import confirmation_mail
from kernel.settings import SettingsError, load_settings


def test_an_smtp_password_never_crosses_the_network_in_clear() -> None:
    env = {"VECHE_SMTP_HOST": "mail.example.org", "VECHE_SMTP_USER": "veche"}
    with pytest.raises(SettingsError, match="smtp_starttls"):
        load_settings({**env, "VECHE_SMTP_STARTTLS": "false"})
    assert load_settings({**env, "VECHE_SMTP_STARTTLS": "true"}).smtp_starttls is True
    # This machine's own server may take a log-in without TLS.
    local = {"VECHE_SMTP_HOST": "127.0.0.1", "VECHE_SMTP_USER": "u", "VECHE_SMTP_STARTTLS": "0"}
    assert load_settings(local).smtp_user == "u"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VECHE_PUBLIC_URL", "vote.example.org"),
        ("VECHE_MAIL_FROM", "nobody"),
        ("VECHE_SMTP_PORT", "70000"),
        ("VECHE_REGISTER_IP_MAX", "0"),
        ("VECHE_ARGON2_MAX_CONCURRENT", "0"),
    ],
)
def test_unusable_mail_and_limit_settings_are_refused(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name.removeprefix("VECHE_").lower()):
        load_settings({name: value})


def test_the_confirmation_message_speaks_the_readers_language() -> None:
    link = "https://vote.example.org/confirm-email/abc"
    english = confirmation_mail("en", "a@example.org", "Anna", link, 48)
    russian = confirmation_mail("ru", "a@example.org", "Анна", link, 48)
    assert english.subject == "Confirm your e-mail address for Veche"
    assert russian.subject == "Подтвердите адрес электронной почты для Вече"
    assert "Hello, Anna." in english.body and "Здравствуйте, Анна." in russian.body
    assert link in english.body and link in russian.body
    assert "48" in english.body and "48" in russian.body
