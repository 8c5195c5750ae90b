"""What ``veche verify`` checks of a trustee election (docs/protocol.md §10.4, §14.11).

``ballot.core.verify`` checks every election; for one whose manifest names trustees it
asks this module for the checks that need the ceremony:

- the manifest's trustees block: every member's k commitments are group points, every
  proof of knowledge verifies, every public share follows from the commitments and every
  acknowledgement's signature verifies (``bad_dealing`` / ``bad_ack``, naming the
  trustee); the manifest's ``sealing_key`` is the joint key's X25519 form
  (``wrong_sealing_key``);
- the close: which trustees released valid key shares (the invalid ones and a wrong
  scalar are reported while the record is read, ``ballot.core.record_trustees``), and
  ``not_unsealed`` when fewer than k did, so that nothing opens.

Spoiled ballots are recomputed by the count and compared with the result's list there.
"""

from __future__ import annotations

from typing import Any

from audit.core.canonical import b64url_encode
from ballot.core import group
from ballot.core.dkg_verify import check_manifest_trustees
from ballot.core.errors import TrusteeRejected
from ballot.core.manifest import trustees_of
from ballot.core.record_types import ElectionRecord, Problem

__all__ = ["check_trustee_election", "not_unsealed", "summary_lines", "trustees_summary"]


def check_trustee_election(rec: ElectionRecord) -> list[Problem]:
    """The problems of a trustee election's manifest block and sealing key; empty for
    an election without trustees."""
    block = trustees_of(rec.manifest)
    if block is None:
        return []
    name = rec.manifest.id
    try:
        joint = check_manifest_trustees(name, block)
    except TrusteeRejected as exc:
        return [Problem(rec.opened_seq, exc.code, f"{name}: trustee {exc.trustee}: {exc.detail}")]
    if b64url_encode(group.x25519_of(joint)) != rec.manifest.sealing_key:
        return [
            Problem(
                rec.opened_seq,
                "wrong_sealing_key",
                f"{name}: the manifest's sealing key is not the trustees' joint key, so "
                "someone other than the trustees may hold its private key",
            )
        ]
    return []


def not_unsealed(rec: ElectionRecord) -> Problem:
    """Why a closed election's ballots cannot be opened."""
    block = trustees_of(rec.manifest)
    if block is None:
        detail = "closed, but its sealing key was never published, so nobody can open the ballots"
    else:
        detail = (
            f"closed, but {len(rec.key_shares)} of the {block.threshold} trustees needed "
            "released a valid key share (or the scalar was not published), so nothing opens"
        )
    return Problem(rec.closed_seq, "not_unsealed", f"{rec.manifest.id}: {detail}")


def trustees_summary(rec: ElectionRecord) -> dict[str, Any] | None:
    """For the report: ``{"threshold", "members", "released": [j, …]}`` or None."""
    block = trustees_of(rec.manifest)
    if block is None:
        return None
    return {
        "threshold": block.threshold,
        "members": len(block.members),
        "released": sorted(rec.key_shares),
    }


def summary_lines(
    trustees: dict[str, Any] | None, spoiled: list[dict[str, Any]] | None
) -> list[str]:
    """The report's lines about an election's trustees and spoiled ballots."""
    if trustees is None:
        return []
    released = ", ".join(map(str, trustees["released"])) or "none"
    lines = [
        f"  trustees:               {trustees['threshold']} of {trustees['members']} needed;"
        f" key shares released by: {released}"
    ]
    if spoiled is not None:
        listed = ", ".join(f"seq {s['seq']} ({s['code']})" for s in spoiled[:20])
        more = f", … and {len(spoiled) - 20:,} more" if len(spoiled) > 20 else ""
        lines.append(
            f"  ballots spoiled:        {len(spoiled):,}" + (f": {listed}{more}" if spoiled else "")
        )
    return lines
