"""What the reports' handlers use of the application's state (typed; see ``kernel.web``)."""

from __future__ import annotations

from kernel.web import KernelState
from reports.services.open311 import Open311
from reports.services.photos import ReportPhotos
from reports.services.service import ReportService
from reports.services.views import ReportViews


class ReportState(KernelState):
    reports: ReportService
    report_photos: ReportPhotos
    report_views: ReportViews
    open311: Open311
