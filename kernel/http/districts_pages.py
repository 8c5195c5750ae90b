"""The municipality's page for administrators: its districts, each with a name and a
budget typed in roubles (docs/protocol.md §18.1).

A district's budget is what a new programme offers the district; the budgets that bind
are the programme's, published in its ``program.created`` log entry. So neither a
district nor its budget is logged here, as districts never were.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect

from kernel.accounts.schemas import DistrictChange, DistrictIn
from kernel.amounts import AmountRefused, format_roubles, parse_roubles
from kernel.errors import DomainError
from kernel.markers import N_
from kernel.web import DB, KernelState, Viewer, render, requires_role

Form = URLEncodedBody[dict[str, Any]]
admin = requires_role("admin")
PAGE = "/office/districts"


def _field(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value).strip()


def read_district(form: dict[str, Any], errors: dict[str, str]) -> tuple[str, int | None]:
    """The typed name and budget; what is wrong goes into ``errors`` by field."""
    name = _field(form, "name")
    if not name:
        errors["name"] = N_("Enter the district's name.")
    elif len(name) > 200:
        errors["name"] = N_("This text is too long.")
    budget: int | None = None
    try:
        budget = parse_roubles(_field(form, "budget") or "0")
    except AmountRefused as exc:
        errors["budget"] = exc.message
    return name, budget


class DistrictPages(Controller):
    include_in_schema = False
    guards = [admin]  # noqa: RUF012 - Litestar reads a plain list

    def _page(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        state: KernelState,
        viewer: Viewer,
        *,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        editing: str = "",
        status_code: int = 200,
    ) -> Response[str]:
        with db.begin():
            districts = state.accounts.list_districts(db)
        return render(
            request,
            "office/districts.html",
            {
                "districts": districts,
                "total": sum(d.budget for d in districts),
                "roubles": format_roubles,
                "form": form or {},
                "errors": errors or {},
                "editing": editing,
                "saved": request.query_params.get("saved", ""),
            },
            viewer=viewer,
            status_code=status_code,
        )

    @get(PAGE, sync_to_thread=True)
    def list_page(
        self, request: Request[Any, Any, Any], db: DB, state: KernelState, viewer: Viewer
    ) -> Response[str]:
        return self._page(request, db, state, viewer)

    @post(PAGE, sync_to_thread=True)
    def add(
        self,
        request: Request[Any, Any, Any],
        data: Form,
        db: DB,
        state: KernelState,
        viewer: Viewer,
    ) -> Response[Any]:
        form = {k: _field(data, k) for k in ("code", "name", "budget")}
        errors: dict[str, str] = {}
        name, budget = read_district(data, errors)
        code = form["code"].lower()
        try:
            district = msgspec.convert({"code": code, "name": name or "-"}, DistrictIn)
        except msgspec.ValidationError:
            errors["code"] = N_(
                "Enter a short code of Latin letters, digits, '-' or '_', like north-east."
            )
        if not errors:
            try:
                with db.begin():
                    state.accounts.create_district(db, district, budget or 0)
            except DomainError as exc:
                errors["code"] = exc.detail
        if errors:
            return self._page(request, db, state, viewer, form=form, errors=errors, status_code=400)
        return Redirect(f"{PAGE}?saved={code}#district-{code}", status_code=303)

    @post(f"{PAGE}/{{code:str}}", sync_to_thread=True)
    def change(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: Form,
        db: DB,
        state: KernelState,
        viewer: Viewer,
    ) -> Response[Any]:
        form = {"name": _field(data, "name"), "budget": _field(data, "budget")}
        errors: dict[str, str] = {}
        name, budget = read_district(data, errors)
        if not errors:
            with db.begin():
                state.accounts.change_district(
                    db, code, DistrictChange(name=name, budget=budget or 0)
                )
            return Redirect(f"{PAGE}?saved={code}#district-{code}", status_code=303)
        return self._page(
            request,
            db,
            state,
            viewer,
            form=form,
            errors=errors,
            editing=code,
            status_code=400,
        )
