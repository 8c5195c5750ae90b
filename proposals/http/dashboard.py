"""The proposals pipeline on an election's admin dashboard: proposals by status and how
long their reviews took. The composition root adds it to the election pages
(``ballot.http.pages.election_pages``), which do not know the proposals package."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ballot.http.ballot_page import ProjectDetails
from ballot.http.dashboard import DashboardPanel
from proposals.core.display import STATUS_NAMES
from proposals.services.models import Image, Program, Proposal, StatusChange

__all__ = ["PIPELINE_TEMPLATE", "ballot_details", "pipeline_panel", "proposal_pipeline"]

PIPELINE_TEMPLATE = "proposals/_dashboard_pipeline.html"


def proposal_pipeline(db: Session) -> dict[str, Any]:
    """Proposals by status, in the lifecycle's order, and the review times in hours."""
    counts = db.execute(select(Proposal.status, func.count()).group_by(Proposal.status)).all()
    entered: dict[int, int] = {}
    decided: dict[int, int] = {}
    for proposal_id, to_status, at in db.execute(
        select(StatusChange.proposal_id, StatusChange.to_status, StatusChange.at).order_by(
            StatusChange.at
        )
    ):
        if "review" in to_status:
            entered.setdefault(proposal_id, at)
        elif to_status in {"accepted", "rejected"} and proposal_id in entered:
            decided.setdefault(proposal_id, at)
    hours = sorted((decided[p] - entered[p]) // 3600 for p in decided)
    return {
        # In the lifecycle's order, by the names the proposal pages use.
        "statuses": [
            {"status": STATUS_NAMES.get(s, s), "count": int(c)}
            for s, c in sorted(counts, key=lambda r: [*STATUS_NAMES, r[0]].index(r[0]))
        ],
        "reviewed": len(hours),
        "median_hours": hours[len(hours) // 2] if hours else None,
        "longest_hours": hours[-1] if hours else None,
    }


def pipeline_panel(db: Session) -> DashboardPanel:
    """The dashboard section (``ballot.http.dashboard.PanelSource``)."""
    return DashboardPanel(PIPELINE_TEMPLATE, proposal_pipeline(db))


def ballot_details(db: Session, projects: list[dict[str, Any]]) -> dict[str, ProjectDetails]:
    """The summary, first photo and page of each ballot project made from a proposal
    (its manifest entry names the proposal: ``"proposal": "<id>"``)."""
    wanted = {
        int(p["proposal"]): p["id"]
        for p in projects
        if str(p.get("proposal") or "").isdigit() and int(p["proposal"]) < 2**62
    }
    if not wanted:
        return {}
    rows = db.scalars(
        select(Proposal).where(Proposal.id.in_(list(wanted)), Proposal.status != "draft")  # type: ignore[union-attr]
    ).all()
    images: dict[int, str] = {}
    for proposal_id, image_id in db.execute(
        select(Image.proposal_id, Image.id)
        .where(Image.proposal_id.in_(list(wanted)), Image.milestone_id.is_(None))  # type: ignore[union-attr]
        .order_by(Image.id)
    ):
        images.setdefault(int(proposal_id), f"/uploads/{image_id}")
    tiles = dict(
        db.execute(
            select(Program.id, Program.map_tile_url).where(
                Program.id.in_({p.program_id for p in rows})  # type: ignore[union-attr]
            )
        ).all()
    )
    return {
        wanted[p.id]: ProjectDetails(
            summary=p.summary,
            image=images.get(p.id),
            link=f"/proposals/{p.id}",
            lat_e6=p.lat_e6,
            lon_e6=p.lon_e6,
            page_id=p.id,
            map_tiles=tiles.get(p.program_id),
        )
        for p in rows
        if p.id is not None
    }
