"""The web pages of the domain packages (voting, results, the audit explorer, the admin
dashboard), gathered here so that ``veche.app`` registers them in one line.

The election pages' admin dashboard shows the proposals pipeline: the proposals package
contributes that section here, and the summaries, photos and links of the ballot's
projects made from proposals, since the voting side does not know proposals.
"""

from __future__ import annotations

from typing import Any

from audit.http.pages import ExplorerPages
from ballot.http.pages import election_pages
from ballot.http.survey_builder import SurveyBuilder
from ballot.http.survey_pages import SurveyPages
from kernel.http.districts_pages import DistrictPages
from proposals.http.dashboard import ballot_details, pipeline_panel
from proposals.http.office import ProgramOfficePages
from proposals.http.office_results import ResultOfficePages
from reports.http.analytics import AnalyticsPage
from reports.http.pages import ReportPages

PAGE_CONTROLLERS: list[Any] = [
    election_pages(dashboard_panels=[pipeline_panel], project_details=[ballot_details]),
    SurveyPages,
    ExplorerPages,
    # The back office: the municipality's districts, programmes, applying results.
    DistrictPages,
    ProgramOfficePages,
    ResultOfficePages,
    ReportPages,
    AnalyticsPage,
    # Surveys and one-question polls, built in the back office (docs/protocol.md §19).
    SurveyBuilder,
]
