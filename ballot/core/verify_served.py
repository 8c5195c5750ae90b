"""What the server serves against what it logged (docs/protocol.md §10.4 step 9): with
a log read from a server, ``veche verify`` holds every election's served result against
the ``result.published`` entry its log holds."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from audit.core.entry import parse_entry
from audit.core.errors import AuditError
from ballot.core import kinds
from ballot.core.config import to_json
from ballot.core.verify_report import ElectionFailure, ElectionReport

# A path of the server under audit to its answer: (HTTP status, body) (``audit.cli.Fetch``).
Fetch = Callable[[str], tuple[int, bytes]]

_RESULT_MARKERS = (
    f'"kind":"{kinds.ELECTION_OPENED}"'.encode(),
    f'"kind":"{kinds.RESULT_PUBLISHED}"'.encode(),
)
# The members of a served result view that copy the logged result body.
_COPIED = ("rule", "winners", "spent", "budget", "scores", "counted")


def _logged_results(
    lines: Sequence[bytes],
) -> dict[str, tuple[str, int, list[tuple[int, kinds.ResultPublished]]]]:
    """Per election id (the latest opening of it): its hash, the seq of its opening and
    its logged results, from the ``election.opened`` and ``result.published`` entries."""
    by_hash: dict[str, tuple[str, int, list[tuple[int, kinds.ResultPublished]]]] = {}
    latest: dict[str, str] = {}
    for line in lines:
        if not any(marker in line for marker in _RESULT_MARKERS):
            continue
        try:
            entry = parse_entry(line, kinds.ELECTION_ENTRIES)
        except AuditError:
            continue  # reported by the log checks
        body = entry.body
        if isinstance(body, kinds.ElectionOpened) and body.manifest_hash not in by_hash:
            by_hash[body.manifest_hash] = (body.manifest_hash, entry.seq, [])
            latest[body.manifest.id] = body.manifest_hash
        elif isinstance(body, kinds.ResultPublished) and body.election in by_hash:
            by_hash[body.election][2].append((entry.seq, body))
    return {election_id: by_hash[digest] for election_id, digest in latest.items()}


def _served_differences(
    served: Any, digest: str, seq: int, logged: kinds.ResultPublished
) -> list[str]:
    """The members of a served result view that are not the logged result's."""
    if not isinstance(served, dict):
        return ["the whole answer (not a JSON object)"]
    body = to_json(logged)
    wrong = [name for name in _COPIED if served.get(name) != body[name]]
    if served.get("result") != body:
        wrong.insert(0, "result")
    if served.get("election") != digest:
        wrong.append("election")
    if served.get("seq") != seq:
        wrong.append("seq")
    return wrong


def _refusal(status: int, raw: bytes) -> str:
    try:
        answer = json.loads(raw)
        return f"{status} {answer['error']}: {answer['detail']}"
    except (ValueError, KeyError, TypeError):
        return f"{status}"


def check_served_results(lines: Sequence[bytes], fetch: Fetch, report: ElectionReport) -> None:
    """Hold every election's result as the server serves it (``GET
    /api/v1/elections/{id}/result``) against the one its log holds: the same signed body,
    election, seq and copied numbers (``served_result_mismatch``); no result served for
    an election whose log holds none (``served_result_unlogged``)."""
    summaries = {e.hash: e for e in report.elections}
    for election_id, (digest, opened_seq, results) in _logged_results(lines).items():
        summary = summaries.get(digest)
        status, raw = fetch(f"/api/v1/elections/{election_id}/result")
        if not results:
            if status == 200:
                report.failures.append(
                    ElectionFailure(
                        opened_seq,
                        "served_result_unlogged",
                        f"{election_id}: the server serves a result that its log does not hold",
                    )
                )
                if summary is not None:
                    summary.served_result = "served, but not logged"
            continue
        seq, logged = results[0]
        if status != 200:
            wrong = f"the server answers {_refusal(status, raw)} instead of the result logged"
        else:
            try:
                served = json.loads(raw)
            except ValueError:
                served = None
            differences = _served_differences(served, digest, seq, logged)
            wrong = (
                f"the served result differs in {', '.join(differences)} from the one logged"
                if differences
                else ""
            )
        if summary is not None:
            summary.served_result = "MISMATCH" if wrong else "the logged one"
        if wrong:
            report.failures.append(
                ElectionFailure(
                    seq, "served_result_mismatch", f"{election_id}: {wrong} at seq {seq}"
                )
            )
