"""Writing a ``PabulibFile`` back to ``.pb`` bytes."""

from __future__ import annotations

import csv
import io

from tally.model import ApprovalBallot, CumulativeBallot, OrdinalBallot
from tally.pabulib.file import PabulibFile, money_text

__all__ = ["money_text", "write_pb"]

_LIMITS = ("min_length", "max_length", "max_sum_cost", "max_sum_points")


def write_pb(pf: PabulibFile) -> bytes:
    """The file as UTF-8 bytes (no byte-order mark, ``\\n`` line ends). META keys that
    the election determines (budget, counts, vote type, limits) are written from it."""
    e = pf.election
    meta = dict(pf.meta)
    meta["budget"] = money_text(e.budget, e.unit)
    meta["num_projects"] = str(len(e.projects))
    meta["num_votes"] = str(len(pf.ballots))
    meta["vote_type"] = pf.vote_type
    for key in _LIMITS:
        value = getattr(e, key)
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = money_text(value, e.unit) if key == "max_sum_cost" else str(value)
    out = io.StringIO(newline="")
    w = csv.writer(out, delimiter=";", lineterminator="\n")
    w.writerow(["META"])
    w.writerow(["key", "value"])
    for key, value_text in meta.items():
        w.writerow([key, value_text])
    w.writerow(["PROJECTS"])
    w.writerow(["project_id", "cost", "name", *pf.project_columns])
    for k, p in enumerate(e.projects):
        extra = pf.project_extra[k] if pf.project_extra else [""] * len(pf.project_columns)
        w.writerow([p.id, money_text(p.cost, e.unit), p.name, *extra])
    w.writerow(["VOTES"])
    cumulative = e.kind == "cumulative"
    w.writerow(["voter_id", "vote", *(["points"] if cumulative else []), *pf.vote_columns])
    for k, (vid, b) in enumerate(zip(pf.voter_ids, pf.ballots, strict=True)):
        extra = pf.vote_extra[k] if pf.vote_extra else [""] * len(pf.vote_columns)
        if isinstance(b, CumulativeBallot):
            row = [vid, ",".join(b.points), ",".join(map(str, b.points.values()))]
        elif isinstance(b, OrdinalBallot):
            row = [vid, ",".join(b.rank)]
        elif isinstance(b, ApprovalBallot):
            row = [vid, ",".join(b.approve)]
        else:
            row = [vid, ",".join(b.choose)]
        w.writerow([*row, *extra])
    return out.getvalue().encode("utf-8")
