"""Who is in an election's electorate, read from the roll or the verified residents.

docs/protocol.md §6.6 (voter keys) and §6.11 (the committed electorate). An election
admits either its roll or verified residents (``mixed_eligibility``):

- roll: every roll entry that one of the election's ways can reach -- an entry with an
  e-mail address when ``roll`` is admitted, an entry with an access code when
  ``access_codes`` is; its voter key is ``roll:<voter id>``;
- residents: every account that staff verified as a resident of the election's
  district (``kernel.accounts.models.ResidentVerification``); its voter key is
  ``user:<public id>``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ballot.core.config import ElectionConfig
from ballot.core.electorate import voter_commitment
from ballot.services.models import RollEntry
from kernel.accounts.models import ResidentVerification, User

__all__ = ["gather_electorate", "roll_key", "user_key"]


def roll_key(voter_ref: str) -> str:
    return f"roll:{voter_ref}"


def user_key(public_id: str) -> str:
    return f"user:{public_id}"


def gather_electorate(db: Session, config: ElectionConfig, key: bytes) -> dict[str, str]:
    """Voter key → commitment for everyone the election admits now."""
    eligibility = config.eligibility
    keys: list[str] = []
    if eligibility.roll or eligibility.access_codes:
        rows = db.execute(
            select(RollEntry.voter_ref, RollEntry.email, RollEntry.code_hash).where(
                RollEntry.election_id == config.id
            )
        )
        for ref, email, code in rows:
            if (eligibility.roll and email) or (eligibility.access_codes and code):
                keys.append(roll_key(ref))
    if eligibility.residents:
        public_ids = db.scalars(
            select(User.public_id)
            .join(ResidentVerification, ResidentVerification.user_id == User.id)  # type: ignore[arg-type]
            .where(ResidentVerification.district == config.district)
        )
        keys.extend(user_key(public_id) for public_id in public_ids)
    return {k: voter_commitment(key, config.id, k) for k in keys}
