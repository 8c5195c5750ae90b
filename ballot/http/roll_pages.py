"""The administrators' voter-roll page of a draft election, access-code letters, and the
confirmations of the steps that cannot be undone (open, close, count).

The roll is uploaded as a CSV file (or pasted), read and shown before anything is saved:
every row, and every problem with its line number in the reader's language. Importing
takes the same text again, so what is saved is what was shown. Access codes are made once
and given either as printable letters (a PDF, one page per voter with a QR code,
``ballot.services.letters``) or as CSV; only their hashes are kept.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect

from ballot.core.config import ElectionConfig, parse_config
from ballot.core.errors import BallotCryptoError
from ballot.http.state import ElectionState
from ballot.services.errors import ElectionError
from ballot.services.letters import LETTER_LANGUAGES, access_code_letters_pdf
from ballot.services.models import Election
from ballot.services.roll import RollPreview, access_codes_csv
from kernel import i18n
from kernel.markers import N_
from kernel.web import DB, Viewer, render, request_language, requires_role

__all__ = ["RollPages"]

MAX_ROLL_BYTES = 5 * 1024 * 1024
TOO_BIG = N_("The roll file is larger than 5 MB; split it and upload the parts one by one.")
NOT_TEXT = N_("The roll file is not text in UTF-8: save it from the spreadsheet as CSV UTF-8.")
EMPTY = N_("Choose a CSV file or paste the rows.")
ACTIONS = ("open", "close", "tally")

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def _roll_text(data: dict[str, Any]) -> str:
    """The roll from the uploaded file if one was chosen, else from the text box."""
    upload = data.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = upload.file.read(MAX_ROLL_BYTES + 1)
        if len(raw) > MAX_ROLL_BYTES:
            raise ValueError(TOO_BIG)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError(NOT_TEXT) from None
    else:
        text = str(data.get("text", ""))
    if not text.strip():
        raise ValueError(EMPTY)
    return text.replace("\r\n", "\n")


class RollPages(Controller):
    path = "/admin/elections/{election_id:str}"
    include_in_schema = False
    guards = [requires_role("admin")]  # noqa: RUF012 - Litestar reads it as a class attribute

    def _page(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
        election_id: str,
        *,
        status_code: int = 200,
        **context: Any,
    ) -> Response[str]:
        with db.begin():
            row = state.elections.get(db, election_id)
            size = state.elections.roll_size(db, election_id)
            missing = state.elections.codes_missing(db, election_id)
        return render(
            request,
            "elections_admin/roll.html",
            {
                "election": row,
                "config": config_of(row),
                "roll_size": size,
                "codes_missing": missing,
                "languages": LETTER_LANGUAGES,
                "problems": [],
                "preview": None,
                "text": "",
                **context,
            },
            viewer=viewer,
            status_code=status_code,
        )

    def _refused(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
        election_id: str,
        exc: Exception,
    ) -> Response[str]:
        """The page again with the refusal's sentence and status (400 for a bad file)."""
        if isinstance(exc, ValueError):
            status, detail = 400, str(exc)
        else:
            status, detail = int(getattr(exc, "status", 400)), str(getattr(exc, "detail", exc))
        return self._page(
            request, db, state, viewer, election_id, status_code=status, problems=[detail]
        )

    @get("/roll", sync_to_thread=True)
    def roll(
        self,
        request: Request[Any, Any, Any],
        election_id: FromPath[str],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[str]:
        return self._page(request, db, state, viewer, election_id)

    @post("/roll/preview", sync_to_thread=True)
    def preview(
        self,
        request: Request[Any, Any, Any],
        election_id: FromPath[str],
        data: Form,
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[str]:
        """Read the roll and show it with its problems; nothing is saved."""
        try:
            text = _roll_text(data)
            with db.begin():
                shown: RollPreview = state.elections.preview_roll(db, election_id, text)
        except (ValueError, ElectionError, BallotCryptoError) as exc:
            return self._refused(request, db, state, viewer, election_id, exc)
        gettext = i18n.translations(request_language(request)).gettext
        problems = [(p.line, p.text(gettext)) for p in shown.problems]
        return self._page(
            request,
            db,
            state,
            viewer,
            election_id,
            status_code=400 if problems else 200,
            preview=shown,
            row_problems=problems,
            text=text,
        )

    @post("/roll/import", sync_to_thread=True)
    def import_roll(
        self,
        request: Request[Any, Any, Any],
        election_id: FromPath[str],
        data: Form,
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[str]:
        """Save the rows shown in the preview (all of them, or none)."""
        try:
            text = _roll_text(data)
            with db.begin():
                added = state.elections.import_roll(db, election_id, text)
        except (ValueError, ElectionError, BallotCryptoError) as exc:
            return self._refused(request, db, state, viewer, election_id, exc)
        return self._page(request, db, state, viewer, election_id, imported=added)

    @post("/access-codes", sync_to_thread=True, status_code=200)
    def access_codes(
        self,
        request: Request[Any, Any, Any],
        election_id: FromPath[str],
        data: Form,
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[Any]:
        """Make the missing codes once, as printable letters (PDF) or as CSV."""
        fmt = str(data.get("format", "pdf"))
        lang = str(data.get("lang", request_language(request)))
        try:
            with db.begin():
                row = state.elections.get(db, election_id)
                made = state.elections.make_access_codes(db, election_id)
        except (ElectionError, BallotCryptoError) as exc:
            return self._refused(request, db, state, viewer, election_id, exc)
        if not made:
            return self._page(
                request,
                db,
                state,
                viewer,
                election_id,
                status_code=409,
                problems=[N_("Every voter on the roll already has an access code.")],
            )
        name = f"access-codes-{election_id}"
        if fmt == "csv":
            return Response(
                access_codes_csv(made),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
            )
        config = config_of(row)
        settings = state.settings
        pdf = access_code_letters_pdf(
            election_id=election_id,
            election_title=config.title,
            opens_at=config.window.opens_at,
            closes_at=config.window.closes_at,
            revoting=config.revoting,
            codes=made,
            public_url=settings.public_url,
            lang=lang,
            time_zone=settings.time_zone,
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )

    @get("/confirm/{action:str}", sync_to_thread=True)
    def confirm(
        self,
        request: Request[Any, Any, Any],
        election_id: FromPath[str],
        action: FromPath[str],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[Any]:
        """What opening, closing or counting does, before the administrator does it."""
        if action not in ACTIONS:
            return Redirect(f"/admin/elections/{election_id}/roll", status_code=303)
        with db.begin():
            row = state.elections.get(db, election_id)
            size = state.elections.roll_size(db, election_id)
        return render(
            request,
            "elections_admin/confirm.html",
            {"election": row, "config": config_of(row), "action": action, "roll_size": size},
            viewer=viewer,
        )


def config_of(row: Election) -> ElectionConfig:
    """The configuration of an election row."""
    return parse_config(msgspec.json.decode(row.config))
