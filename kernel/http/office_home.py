"""The back office's front page (``/office``): every staff page, by role, in one place,
so that the site's menu keeps one entry for staff."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from kernel.web import Viewer, render, requires_role

__all__ = ["OfficeHome"]


class OfficeHome(Controller):
    include_in_schema = False

    @get("/office", guards=[requires_role("admin", "moderator")], sync_to_thread=False)
    def home(self, request: Request[Any, Any, Any], viewer: Viewer) -> Response[str]:
        """Links to the staff pages the viewer's role opens."""
        return render(request, "office/home.html", {}, viewer=viewer)
