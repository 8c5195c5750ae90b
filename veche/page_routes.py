"""The web pages of the domain packages (voting, results, the audit explorer, the admin
dashboard), gathered here so that ``veche.app`` registers them in one line."""

from __future__ import annotations

from typing import Any

from audit.http.pages import ExplorerPages
from ballot.http.pages import ElectionPages

PAGE_CONTROLLERS: list[Any] = [ElectionPages, ExplorerPages]
