"""Pages over HTTP: asking for HTML, and the CSRF token a form carries."""

from __future__ import annotations

import re

import pytest

HTML = {"accept": "text/html"}


def csrf_from(html: str) -> str:
    """The value of the form's hidden ``csrf_token`` field."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form has no CSRF field"
    return match.group(1)


# Pages render what the services read, which the API and service tests check on both
# database engines: page tests run on SQLite only.
PAGES_ON_SQLITE = pytest.mark.parametrize("engine_name", ["sqlite"])
