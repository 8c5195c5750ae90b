"""Checking a manifest's trustees block as anyone can, from the block alone.

docs/protocol.md §14.5. The manifest keeps, per member, the dealer's k commitments and
proof of knowledge, the public share and the acknowledgement's signature; the sealed
shares and dealing signatures stay in the ceremony (``ballot.core.dkg``). That is
enough to recompute the ceremony id, check every proof and public share, check that each
member signed ``{ceremony, public_share, transcript, trustee}``, and rebuild the joint
key.
"""

from __future__ import annotations

from audit.core.canonical import CanonicalError, b64url_decode, b64url_encode, hex_decode
from ballot.core import group
from ballot.core.dkg import ack_message, ceremony_id, check_pok, verify_signature
from ballot.core.errors import AckRejected, DealingRejected, GroupError
from ballot.core.trustees import ManifestTrustees

__all__ = ["check_manifest_trustees"]


def check_manifest_trustees(election_id: str, block: ManifestTrustees) -> group.Point:
    """Check a manifest's trustees block as a verifier can (§14.5) and give the joint key
    ``P = Σ_i C_i0``: k valid commitments per member, every proof of knowledge, every
    public share recomputed from the commitments, every acknowledgement's signature over
    ``{ceremony, public_share, transcript, trustee}``. ``AckRejected`` or
    ``DealingRejected`` names the member at fault."""
    ceremony = ceremony_id(election_id, block.threshold, block.members)
    commitments: list[list[group.Point]] = []
    for j, member in enumerate(block.members, start=1):
        if len(member.commitments) != block.threshold:
            raise DealingRejected(j, f"a member has {block.threshold} commitments")
        try:
            points = [group.check_point(b64url_decode(c), "commitment") for c in member.commitments]
        except (CanonicalError, GroupError):
            raise DealingRejected(j, "a commitment is not a point of the group") from None
        pok = {"commitment": member.pok.commitment, "response": member.pok.response}
        if not check_pok(ceremony, j, points[0], pok):
            raise DealingRejected(j, "the proof of knowledge does not verify")
        commitments.append(points)
    hex_decode(block.transcript, length=32)
    for j, member in enumerate(block.members, start=1):
        try:
            expected = b64url_encode(
                group.linear_combination(
                    (pow(j, power, group.L), c)
                    for points in commitments
                    for power, c in enumerate(points)
                )
            )
        except GroupError:  # the identity: no key share has it as its public share
            expected = ""
        if member.public_share != expected:
            raise AckRejected(j, "the public share is not the one the commitments give")
        ack = {
            "ceremony": ceremony.hex(),
            "public_share": member.public_share,
            "transcript": block.transcript,
            "trustee": j,
        }
        if not verify_signature(member.signing_key, member.ack_signature, ack_message(ack)):
            raise AckRejected(j, "the acknowledgement's signature does not verify")
    try:
        return group.linear_combination((1, points[0]) for points in commitments)
    except GroupError:
        raise DealingRejected(0, "the joint key is the identity") from None
