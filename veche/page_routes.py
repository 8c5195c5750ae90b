"""The web pages of the domain packages (voting, results, the audit explorer, the admin
dashboard), gathered here so that ``veche.app`` registers them in one line.

The election pages' admin dashboard shows the proposals pipeline: the proposals package
contributes that section here, since the voting side does not know proposals.
"""

from __future__ import annotations

from typing import Any

from audit.http.pages import ExplorerPages
from ballot.http.pages import election_pages
from proposals.http.dashboard import pipeline_panel
from reports.http.pages import ReportPages

PAGE_CONTROLLERS: list[Any] = [
    election_pages(dashboard_panels=[pipeline_panel]),
    ExplorerPages,
    ReportPages,
]
