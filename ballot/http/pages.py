"""Election pages: the list, the ballot (voting happens in the browser, see
``kernel/static/js/ballot-page.js``), the results with their explanation, "check my
ballot", and the admin dashboard of an election.

The pages read what the API serves and add nothing to it: a page never sees a
credential's private key, and the numbers it shows are the published result's.

Other packages may add sections to the admin dashboard (``DashboardPanel``): the
composition root passes their sources to ``election_pages``; this package knows none
of them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any, ClassVar

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.core.checkpoint import verify_checkpoint
from audit.core.merkle import verify_inclusion
from audit.services.models import LogEntry
from audit.services.store import LogStore
from ballot.core.client import ClientError, ballot_digest, check_cast_entry, sent_cast
from ballot.core.manifest import manifest_dict
from ballot.core.record import currency_unit
from ballot.http.state import ElectionState
from ballot.http.survey_pages import survey_results_page
from ballot.http.survey_view import ballot_questions, is_survey
from ballot.services.elections import ElectionService
from ballot.services.errors import ElectionNotFound
from ballot.services.models import CastBallot, CredentialIssuance, Election, RollEntry
from ballot.services.results import ResultView
from kernel import i18n
from kernel.accounts.models import District, User
from kernel.i18n import NP_
from kernel.web import DB, Viewer, render, request_language, requires_role
from tally.model import parse_frac

# --- numbers for people --------------------------------------------------------------------


def money(amount: int | Fraction, currency: str, lang: str = "en") -> str:
    """Minor units in the currency's units, in the page's language through Babel:
    ``180000000`` RUB is ``1 800 000 ₽`` in Russian. A fraction (an MES price) is
    rounded down to a minor unit and marked ``≈``."""
    return i18n.money(lang, Fraction(amount), currency or "RUB")


def percent(part: int, whole: int, lang: str = "en") -> str:
    return i18n.percent(lang, part, whole)


def _manifest(row: Election) -> dict[str, Any]:
    raw = row.manifest if row.manifest is not None else row.config
    data: dict[str, Any] = msgspec.json.decode(raw)
    return data


def _published(service: ElectionService, db: Session, election_id: str) -> Election:
    """An election residents may see: a draft is nobody's business yet (404)."""
    row = service.get(db, election_id)
    if row.status == "draft":
        raise ElectionNotFound("no_such_election", f"There is no election {election_id!r}.")
    return row


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- the results' chart and explanation ------------------------------------------------------

# The longest random wait between obtaining a credential and casting on the same page;
# deployments that accept test keys (tests, local trials) wait less.
CAST_DELAY_MS = 8000
CAST_DELAY_TEST_MS = 400

CHART_WIDTH = 400
# Trace values that are money (minor units, or fractions of them for MES prices).
MONEY_VALUES = frozenset(
    {"cost", "left", "money_behind", "per_voter", "per_voter_used", "price", "price_per_voter"}
)
ROW_HEIGHT = 44
# The opening note of a rule's trace, by how the counting code words it (tally/greedy.py,
# tally/seq_phragmen.py): the page says it in the reader's language instead.
RULE_INTROS = (("greedy", "greedy"), ("sequential Phragm", "phragmen"))
# Trace values that are counts, shown with their noun in the reader's language.
PLURAL_WORDS = {
    "score": NP_("%(num)s vote", "%(num)s votes"),
    "votes": NP_("%(num)s vote", "%(num)s votes"),
    "payers": NP_("%(num)s supporter", "%(num)s supporters"),
    "prefer_mes": NP_("%(num)s voter", "%(num)s voters"),
    "prefer_greedy": NP_("%(num)s voter", "%(num)s voters"),
}


def vote_chart(manifest: dict[str, Any], view: ResultView) -> dict[str, Any]:
    """Rows of a horizontal bar chart (drawn by the template as SVG), most votes first."""
    winners = set(view.winners)
    projects = manifest["projects"]
    top = max([view.scores.get(p["id"], 0) for p in projects] + [1])
    label_room = 56  # user units kept right of the longest bar for its number
    rows = []
    ordered = sorted(projects, key=lambda p: (-view.scores.get(p["id"], 0), p["id"]))
    for k, project in enumerate(ordered):
        score = view.scores.get(project["id"], 0)
        rows.append(
            {
                "id": project["id"],
                "label": _short(project["title"]),
                "title": project["title"],
                "score": score,
                "won": project["id"] in winners,
                "y": k * ROW_HEIGHT,
                "bar": max(2, (CHART_WIDTH - label_room) * score // top) if score else 0,
            }
        )
    return {"rows": rows, "width": CHART_WIDTH, "height": len(rows) * ROW_HEIGHT + 4}


def explain(manifest: dict[str, Any], view: ResultView, lang: str = "en") -> list[dict[str, Any]]:
    """The rule's trace as steps the template words in the reader's language: the
    project's title instead of its id, money in the currency's units."""
    currency = manifest.get("currency", "")
    titles = {p["id"]: p["title"] for p in manifest["projects"]}
    steps = []
    for raw in view.trace:
        values = dict(raw.get("values", {}))
        shown: dict[str, Any] = {}
        for key, value in values.items():
            if key in MONEY_VALUES:
                shown[key] = money(parse_frac(str(value)), currency, lang)
            elif isinstance(value, int):
                shown[key] = i18n.number(lang, value)
                # The count in words, with the noun in the right form ("1 vote", "2 votes").
                if key in PLURAL_WORDS:
                    one, many = PLURAL_WORDS[key]
                    shown[f"{key}_words"] = i18n.plural(lang, one, many, value)
            else:
                shown[key] = value
        project = raw.get("project")
        text = str(raw.get("text", ""))
        intro = next((rule for prefix, rule in RULE_INTROS if text.startswith(prefix)), None)
        steps.append(
            {
                "round": raw.get("round", 0),
                "action": raw.get("action", "note"),
                "text": text,
                "intro": intro if project is None else None,
                "project": titles.get(project, project) if project else None,
                "v": shown,
            }
        )
    return steps


# --- the admin dashboard's numbers ------------------------------------------------------------


@dataclass(frozen=True)
class DashboardPanel:
    """A section of an election's admin dashboard that another package contributes: the
    page includes ``template``, which finds this object as ``panel`` (``panel.data``)."""

    template: str
    data: Any


# Gives the panel to show, or None, reading in the page's transaction.
PanelSource = Callable[[Session], DashboardPanel | None]


@dataclass(frozen=True)
class ProjectDetails:
    """What the ballot shows of a project beyond the manifest's title and cost, given by
    the package the project came from (a proposal): a summary, a photo, a page."""

    summary: str = ""
    image: str | None = None
    link: str | None = None
    # Where the project is (millionths of a degree), its page's id for the map's link, and
    # the map tiles of the programme it came from.
    lat_e6: int | None = None
    lon_e6: int | None = None
    page_id: int | None = None
    map_tiles: str | None = None


def _degrees(e6: int) -> str:
    """Millionths of a degree as the decimal text a map reads, exactly."""
    sign = "-" if e6 < 0 else ""
    whole, part = divmod(abs(e6), 10**6)
    return f"{sign}{whole}.{part:06d}"


# Gives the details of the manifest's projects that have any, by project id, reading in
# the page's transaction (the manifest's projects as the argument).
DetailsSource = Callable[[Session, list[dict[str, Any]]], dict[str, ProjectDetails]]


def _entry_times(db: Session, seqs: list[int]) -> dict[int, str]:
    """The ``at`` of log entries by seq (public times, to the second)."""
    times: dict[int, str] = {}
    for start in range(0, len(seqs), 500):
        chunk = seqs[start : start + 500]
        for seq, data in db.execute(
            select(LogEntry.seq, LogEntry.data).where(LogEntry.seq.in_(chunk))  # type: ignore[attr-defined]
        ):
            times[seq] = str(json.loads(bytes(data))["at"])
    return times


def _timeline(issued: list[str], cast: list[str]) -> dict[str, Any]:
    """Cumulative counts of credentials and ballots over time, as SVG polylines."""
    moments = sorted(issued + cast)
    if not moments:
        return {"points": [], "issued": "", "cast": "", "buckets": []}
    first = datetime.fromisoformat(moments[0])
    last = datetime.fromisoformat(moments[-1])
    span = max(1, int((last - first).total_seconds()))
    # Buckets of a minute, an hour or a day, so that a chart has a few of them.
    key_len = 16 if span <= 3 * 3600 else 13 if span <= 3 * 86400 else 10
    buckets = sorted({m[:key_len] for m in moments})
    issued_by = Counter(m[:key_len] for m in issued)
    cast_by = Counter(m[:key_len] for m in cast)
    rows = []
    total_i = total_c = 0
    for bucket in buckets:
        total_i += issued_by[bucket]
        total_c += cast_by[bucket]
        rows.append(
            {
                "label": bucket.replace("T", " ") + (":00" if key_len == 13 else ""),
                "issued": issued_by[bucket],
                "cast": cast_by[bucket],
                "issued_total": total_i,
                "cast_total": total_c,
            }
        )
    width, height = 400, 160
    top = max(total_i, total_c, 1)
    n = len(rows)

    def line(key: str) -> str:
        # From zero at the left edge, one point at the end of each bucket.
        pts = [f"0,{height}"]
        for k, row in enumerate(rows, start=1):
            pts.append(f"{k * width // n},{height - row[key] * (height - 10) // top}")
        return " ".join(pts)

    return {
        "buckets": rows,
        "issued": line("issued_total"),
        "cast": line("cast_total"),
        "width": width,
        "height": height,
        "top": top,
        "unit": {16: "minute", 13: "hour", 10: "day"}[key_len],
        "first": rows[0]["label"],
        "last": rows[-1]["label"],
    }


def dashboard_numbers(db: Session, row: Election) -> dict[str, Any]:
    issuances = list(
        db.execute(
            select(CredentialIssuance.voter_key, CredentialIssuance.seq).where(
                CredentialIssuance.election_id == row.id
            )
        )
    )
    casts = list(
        db.execute(
            select(CastBallot.seq, CastBallot.credential).where(CastBallot.election_id == row.id)
        )
    )
    times = _entry_times(db, [seq for _k, seq in issuances] + [seq for seq, _c in casts])
    timeline = _timeline(
        [times[seq] for _k, seq in issuances if seq in times],
        [times[seq] for seq, _c in casts if seq in times],
    )
    # Who obtained a credential is known by account ("user:<public id>") or by roll entry
    # ("roll:<ref>"); accounts give their district, roll entries are their own group.
    user_ids = [key[5:] for key, _seq in issuances if key.startswith("user:")]
    district_of: dict[str, str | None] = {}
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start : start + 500]
        for public_id, district in db.execute(
            select(User.public_id, User.district).where(User.public_id.in_(chunk))  # type: ignore[attr-defined]
        ):
            district_of[public_id] = district
    by_district: Counter[str | None] = Counter(district_of.get(uid) for uid in user_ids)
    roll_issued = sum(1 for key, _seq in issuances if key.startswith("roll:"))
    residents = dict(
        db.execute(
            select(User.district, func.count())
            .where(User.role == "resident")
            .group_by(User.district)
        ).all()
    )
    roll_size = db.scalar(
        select(func.count()).select_from(RollEntry).where(RollEntry.election_id == row.id)
    )
    names = {d.code: d.name for d in db.scalars(select(District))}
    districts = []
    for code in sorted(set(names) | {c for c in by_district if c}):
        districts.append(
            {
                "name": names.get(code, code),
                "eligible": int(residents.get(code, 0)),
                "issued": by_district.get(code, 0),
                "share": percent(by_district.get(code, 0), int(residents.get(code, 0))),
                "home": code == row.district,
            }
        )
    return {
        "issued": len(issuances),
        "ballots": len(casts),
        "voters": len({c for _s, c in casts}),
        "timeline": timeline,
        "districts": districts,
        "roll": {
            "eligible": int(roll_size or 0),
            "issued": roll_issued,
            "share": percent(roll_issued, int(roll_size or 0)),
        },
    }


# --- checking a receipt without JavaScript ----------------------------------------------------

# What a pasted credential file holds that is secret: it is never kept nor shown again.
SECRET_WALLET_FIELDS = ("credential_private", "recovery_code", "token")
CHECK_INPUT_LIMIT = 100_000  # characters of pasted text
CHECK_RECEIPTS_LIMIT = 50  # receipts of one wallet checked at once
RECEIPT_FIELDS = ("election", "seq", "leaf_hash", "checkpoint", "size", "proof", "ballot_digest")


class CheckInputRefused(ValueError):
    """The pasted text is not a receipt nor a wallet (answered 400 by the page)."""


def parse_check_input(text: str) -> tuple[list[dict[str, Any]], bool]:
    """The receipts in a pasted receipt or wallet, and whether the text held a secret.

    JSON nested deeper than canonical JSON allows, or not JSON, or not a receipt or
    wallet, is refused (``CheckInputRefused``), never a server error.
    """
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise CheckInputRefused("not JSON") from None
    if not isinstance(value, dict):
        raise CheckInputRefused("not an object")
    secret = any(name in value for name in SECRET_WALLET_FIELDS)
    if "receipts" in value:
        receipts = value["receipts"]
        if not isinstance(receipts, list) or not receipts:
            raise CheckInputRefused("a wallet without receipts")
        receipts = receipts[-CHECK_RECEIPTS_LIMIT:]
    else:
        receipts = [value]
    if not all(isinstance(r, dict) and "seq" in r for r in receipts):
        raise CheckInputRefused("not a receipt")
    try:
        check_value_depth(receipts)
    except RecursionError:
        raise CheckInputRefused("too deep") from None
    return receipts, secret


def public_receipt(receipt: dict[str, Any]) -> dict[str, Any]:
    """Only a receipt's own fields (docs/protocol.md §8.1, and the ballot sent): whatever
    else was pasted with it is not shown again."""
    kept = {name: receipt[name] for name in RECEIPT_FIELDS if name in receipt}
    try:
        kept["cast"] = sent_cast(receipt)
    except ClientError:
        kept.pop("cast", None)
    return kept


def check_value_depth(value: object, depth: int = 0) -> None:
    """Refuse values nested deeper than canonical JSON (64 levels, docs/protocol.md §2.1)."""
    if depth > 64:
        raise RecursionError
    if isinstance(value, dict):
        for item in value.values():
            check_value_depth(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_value_depth(item, depth + 1)


def check_one_receipt(db: Session, store: LogStore, receipt: dict[str, Any]) -> dict[str, Any]:
    """What the page's script checks (docs/protocol.md §8.2, §8.3), done on the server for
    browsers without it: the checkpoint's signature, that the entry at ``seq`` holds
    exactly the ballot and signature the receipt says were sent, the inclusion proof,
    and that the log still holds the entry."""
    seq = receipt.get("seq")
    outcome: dict[str, Any] = {"ok": False, "seq": seq if isinstance(seq, int) else None}
    try:
        cast = sent_cast(receipt)
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise ClientError("malformed", "no seq")
        size = receipt.get("size")
        if not isinstance(size, int) or isinstance(size, bool):
            raise ClientError("malformed", "no size")
        try:
            checkpoint = verify_checkpoint(
                str(receipt.get("checkpoint")), store.key_info.verifier_key
            )
        except Exception:
            raise ClientError("bad_checkpoint", "not signed") from None
        if checkpoint.size != size:
            raise ClientError("bad_receipt", "another size")
        if receipt.get("ballot_digest") != ballot_digest(cast):
            raise ClientError("not_your_ballot", "another digest")
        lines = store.entries(db, seq, seq + 1) if seq < store.size(db) else []
        if not lines:
            raise ClientError("not_in_log", "no such entry")
        leaf = check_cast_entry(lines[0], receipt, cast)
        try:
            proof = [bytes.fromhex(p) for p in receipt["proof"]]
            verify_inclusion(leaf, seq, size, proof, checkpoint.root)
        except Exception:
            raise ClientError("bad_receipt", "the proof fails") from None
    except ClientError as exc:
        outcome["code"] = exc.code
        return outcome
    return {**outcome, "ok": True, "size": store.size(db)}


def check_receipt_server(db: Session, store: LogStore, text: str) -> dict[str, Any]:
    """Check every receipt of a pasted receipt or wallet; what the page shows again is the
    receipts alone, never a wallet's private key, token or recovery code."""
    try:
        receipts, secret = parse_check_input(text)
    except CheckInputRefused:
        return {"malformed": True, "results": [], "echo": "", "secret": False}
    results = [check_one_receipt(db, store, receipt) for receipt in receipts]
    shown = [public_receipt(receipt) for receipt in receipts]
    public = shown[0] if len(shown) == 1 and not secret else {"receipts": shown}
    return {
        "malformed": False,
        "results": results,
        "ok": all(r["ok"] for r in results),
        "echo": json.dumps(public, indent=2, ensure_ascii=False),
        "secret": secret,
    }


# --- the pages --------------------------------------------------------------------------------


def _base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/")


class ElectionPages(Controller):
    include_in_schema = False
    # The dashboard's extra sections, in order (see ``election_pages``).
    dashboard_panels: ClassVar[tuple[PanelSource, ...]] = ()
    # Summaries, photos and links of the ballot's projects (see ``election_pages``).
    project_details: ClassVar[tuple[DetailsSource, ...]] = ()

    @get("/elections", sync_to_thread=True)
    def elections(
        self, request: Request[Any, Any, Any], db: DB, state: ElectionState, viewer: Viewer
    ) -> Response[str]:
        service: ElectionService = state.elections
        with db.begin():
            rows = [r for r in service.list(db) if r.status != "draft"]
            names = {d.code: d.name for d in db.scalars(select(District))}
        return render(
            request, "vote/elections.html", {"elections": rows, "districts": names}, viewer=viewer
        )

    @get("/elections/{election_id:str}", sync_to_thread=True)
    def ballot(
        self,
        request: Request[Any, Any, Any],
        election_id: FromPath[str],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[str]:
        service: ElectionService = state.elections
        with db.begin():
            row = _published(service, db, election_id)
            manifest = _manifest(row)
            details: dict[str, ProjectDetails] = {}
            for source in self.project_details:
                details.update(source(db, manifest["projects"]))
        currency = manifest.get("currency", "")
        lang = request_language(request)
        projects = [
            {
                **p,
                "cost_text": money(p.get("cost", 0), currency, lang),
                "details": details.get(p["id"]),
            }
            for p in manifest["projects"]
        ]
        spec = manifest["ballot"]
        limit = spec.get("max_total_cost")
        placed = [
            (p, d)
            for p in manifest["projects"]
            if (d := details.get(p["id"])) and d.lat_e6 is not None and d.lon_e6 is not None
        ]
        ballot_map = (
            {
                "tiles": placed[0][1].map_tiles or "",
                "points": json.dumps(
                    [
                        {
                            "id": d.page_id,
                            "title": p["title"],
                            "lat": _degrees(d.lat_e6 or 0),
                            "lon": _degrees(d.lon_e6 or 0),
                        }
                        for p, d in placed
                    ],
                    ensure_ascii=False,
                ),
            }
            if placed
            else None
        )
        return render(
            request,
            "vote/ballot.html",
            {
                "election": row,
                "manifest": manifest,
                "projects": projects,
                "spec": spec,
                "budget_text": money(manifest.get("budget", 0), currency, lang),
                "limit_text": money(limit, currency, lang) if limit is not None else None,
                "unit": currency_unit(currency),
                "allow_test_keys": state.settings.allow_test_keys,
                "cast_delay_ms": CAST_DELAY_TEST_MS
                if state.settings.allow_test_keys
                else CAST_DELAY_MS,
                "base_url": _base_url(request),
                "ballot_map": ballot_map,
                "questions": ballot_questions(manifest, lang) if is_survey(manifest) else [],
            },
            viewer=viewer,
        )

    @get("/elections/{election_id:str}/results", sync_to_thread=True)
    def results(
        self,
        request: Request[Any, Any, Any],
        election_id: FromPath[str],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[str]:
        service: ElectionService = state.elections
        with db.begin():
            row = _published(service, db, election_id)
            # What the page shows is read from the log's bytes (docs/protocol.md §9.9):
            # the manifest from its opening entry, the result from its signed entry.
            manifest = manifest_dict(state.results.logged_election(db, row).manifest)
            view = state.results.view(db, row)
            if is_survey(manifest):
                # A survey's results page (docs/protocol.md §19): per question.
                return survey_results_page(request, db, state, viewer, row, manifest, view)
        currency = manifest.get("currency", "")
        context: dict[str, Any] = {
            "election": row,
            "manifest": manifest,
            "view": view,
            "base_url": _base_url(request),
            "verifier_key": state.log_store.key_info.verifier_key,
        }
        if view is not None:
            titles = {p["id"]: p for p in manifest["projects"]}
            lang = request_language(request)
            context.update(
                chart=vote_chart(manifest, view),
                steps=explain(manifest, view, lang),
                budget_words=money(manifest.get("budget", view.budget), currency, lang),
                winners=[
                    {**titles[w], "cost_text": money(titles[w]["cost"], currency, lang)}
                    for w in view.winners
                    if w in titles
                ],
                projects=[
                    {
                        **p,
                        "cost_text": money(p["cost"], currency, lang),
                        "score": view.scores.get(p["id"], 0),
                        "won": p["id"] in view.winners,
                    }
                    for p in sorted(
                        manifest["projects"], key=lambda p: -view.scores.get(p["id"], 0)
                    )
                ],
                spent_text=money(view.spent, currency, lang),
                budget_text=money(view.budget, currency, lang),
                left_text=money(view.budget - view.spent, currency, lang),
                spent_share=percent(view.spent, view.budget, lang),
                spent_width=(300 * view.spent // view.budget) if view.budget else 0,
            )
        return render(request, "results/results.html", context, viewer=viewer)

    @get("/check", sync_to_thread=True)
    def check_form(
        self, request: Request[Any, Any, Any], state: ElectionState, viewer: Viewer
    ) -> Response[str]:
        return render(
            request,
            "vote/check.html",
            {"outcome": None, "receipt": "", "allow_test_keys": state.settings.allow_test_keys},
            viewer=viewer,
        )

    @post("/check", sync_to_thread=True, status_code=200)
    def check(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[dict[str, Any]],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[str]:
        text = data.get("receipt", "")
        text = text[-1] if isinstance(text, list) else str(text)
        if len(text) > CHECK_INPUT_LIMIT:
            outcome: dict[str, Any] = {"malformed": True, "results": [], "echo": ""}
        else:
            with db.begin():
                outcome = check_receipt_server(db, state.log_store, text)
        return render(
            request,
            "vote/check.html",
            {
                "outcome": outcome,
                "receipt": outcome["echo"],
                "allow_test_keys": state.settings.allow_test_keys,
            },
            viewer=viewer,
            status_code=400 if outcome["malformed"] else 200,
        )

    @get("/admin/elections", guards=[requires_role("admin")], sync_to_thread=True)
    def admin_elections(
        self, request: Request[Any, Any, Any], db: DB, state: ElectionState, viewer: Viewer
    ) -> Response[str]:
        with db.begin():
            rows = state.elections.list(db)
            names = {d.code: d.name for d in db.scalars(select(District))}
        return render(
            request, "admin/elections.html", {"elections": rows, "districts": names}, viewer=viewer
        )

    @get("/admin/elections/{election_id:str}", guards=[requires_role("admin")], sync_to_thread=True)
    def dashboard(
        self,
        request: Request[Any, Any, Any],
        election_id: FromPath[str],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[str]:
        with db.begin():
            row = state.elections.get(db, election_id)
            numbers = dashboard_numbers(db, row)
            panels = [p for source in self.dashboard_panels if (p := source(db)) is not None]
        return render(
            request,
            "admin/dashboard.html",
            {"election": row, "manifest": _manifest(row), "n": numbers, "panels": panels},
            viewer=viewer,
        )


def election_pages(
    *,
    dashboard_panels: Iterable[PanelSource] = (),
    project_details: Iterable[DetailsSource] = (),
) -> type[ElectionPages]:
    """The election pages, with these extra sections on the admin dashboard and these
    sources of what the ballot shows of each project."""
    return type(
        "ElectionPages",
        (ElectionPages,),
        {
            "dashboard_panels": tuple(dashboard_panels),
            "project_details": tuple(project_details),
        },
    )
