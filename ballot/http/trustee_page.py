"""The trustee page (docs/protocol.md §17.8): a trustee's side of the key ceremony and
the close in the browser, with the same messages as ``veche trustee`` (§17). The page
is static but for its language and the election id it starts with; everything it does
runs in the trustee's browser (``/static/js/trustee-page.js``)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from ballot.http.state import ElectionState
from kernel.web import Viewer, render

__all__ = ["TrusteePage"]

ELECTION_ID_LIMIT = 200


class TrusteePage(Controller):
    include_in_schema = False

    @get("/trustee", sync_to_thread=False)
    def page(
        self, request: Request[Any, Any, Any], state: ElectionState, viewer: Viewer
    ) -> Response[str]:
        """The page; ``?election=ID`` fills in the election."""
        election = str(request.query_params.get("election", ""))[:ELECTION_ID_LIMIT]
        return render(
            request,
            "trustee/page.html",
            {"election_id": election, "allow_test_keys": state.settings.allow_test_keys},
            viewer=viewer,
        )
