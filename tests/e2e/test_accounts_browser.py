"""A resident registers, logs out and logs in through the pages in Chromium."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.browser import SQLITE_ONLY, open_menu
from tests.support.mail import MailCatcher
from tests.support.paths import ARTIFACTS
from tests.support.server import LiveServer

pytestmark = [pytest.mark.browser, SQLITE_ONLY]

TEXT = {
    "en": {
        "register": "Register",
        "create": "Create account",
        "login": "Log in",
        "logout": "Log out",
        "account": "My account",
        "district": "North",
        "created": "Your account has been created.",
        "subject": "Confirm your e-mail address for Veche",
        "unconfirmed": "not confirmed",
        "confirmed": "confirmed",
        "wrong": "The e-mail address or the password is wrong.",
    },
    "ru": {
        "register": "Регистрация",
        "create": "Создать учётную запись",
        "login": "Войти",
        "logout": "Выйти",
        "account": "Личный кабинет",
        "district": "Северный",
        "created": "Ваша учётная запись создана.",
        "subject": "Подтвердите адрес электронной почты для Вече",
        "unconfirmed": "не подтверждён",
        "confirmed": "подтверждён",
        "wrong": "Неверный адрес электронной почты или пароль.",
    },
}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_register_then_log_in(
    browser: Any, live_server: LiveServer, smtp: MailCatcher, lang: str
) -> None:
    text = TEXT[lang]
    context = browser.new_context(
        locale="ru-RU" if lang == "ru" else "en-GB", viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        assert page.locator("html").get_attribute("lang") == lang
        open_menu(page)
        page.get_by_role("link", name=text["register"], exact=True).first.click()
        page.get_by_label("E-mail" if lang == "en" else "Адрес электронной почты").fill(
            f"{lang}-resident@example.org"
        )
        page.locator("#display_name").fill("Мария" if lang == "ru" else "Mary")
        page.locator("#district").select_option(label=text["district"])
        page.locator("#password").fill("short")
        page.get_by_role("button", name=text["create"]).click()
        # The server refuses the weak password and says why, next to the field.
        assert page.locator("#password-error").is_visible()
        page.locator("#password").fill("river-stone-orchard-7")
        page.get_by_role("button", name=text["create"]).click()
        page.wait_for_url(re.compile(r".*/account\?welcome=1&sent=1$"))
        assert page.get_by_text(text["created"]).is_visible()
        assert page.locator("#email-status").inner_text() == text["unconfirmed"]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"account-{lang}.png"), full_page=True)
        # The link arrives through the suite's SMTP server, in the reader's language;
        # following it in the browser confirms the address.
        mail = smtp.last_to(f"{lang}-resident@example.org")
        assert mail.subject == text["subject"]
        link = re.search(r"http://\S+/confirm-email/\S+", mail.text)
        assert link is not None and link.group(0).startswith(live_server.url)
        page.goto(link.group(0))
        page.locator("#confirmed").wait_for()
        page.goto(live_server.url + "/account")
        assert page.locator("#email-status").inner_text() == text["confirmed"]

        page.get_by_role("button", name=text["logout"]).first.click()
        page.wait_for_url(live_server.url + "/")
        page.goto(live_server.url + "/login")
        page.locator("#email").fill(f"{lang}-resident@example.org")
        page.locator("#password").fill("wrong-password-000")
        page.get_by_role("button", name=text["login"]).click()
        assert page.get_by_text(text["wrong"]).is_visible()
        page.locator("#password").fill("river-stone-orchard-7")
        page.get_by_role("button", name=text["login"]).click()
        page.wait_for_url(live_server.url + "/")
        open_menu(page)
        page.get_by_role("link", name=text["account"], exact=True).click()
        assert page.locator("#account-name").inner_text() == ("Мария" if lang == "ru" else "Mary")
    finally:
        context.close()


def test_language_switch_in_the_header(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    try:
        page.goto(live_server.url + "/login")
        page.get_by_role("link", name="Русский").click()
        page.wait_for_url(live_server.url + "/login")
        assert page.locator("h1").inner_text() == "Войти"
        assert page.locator("html").get_attribute("lang") == "ru"
    finally:
        context.close()
