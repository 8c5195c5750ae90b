"""A parsed Pabulib file, and the warnings its reader can give."""

from __future__ import annotations

import hashlib

import msgspec

from tally.model import Ballot, Election

__all__ = ["PabulibFile", "PabulibWarning", "file_seed", "money_text"]


class PabulibWarning(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Something the reader accepted but changed: ``line`` is the 1-based line, ``code``
    a short machine name and ``detail`` a sentence.

    - ``repeated_project``: a vote names a project more than once; it counts once, at its
      first place (real files do this: Warsaw 2022 Wola, 18 districts of Warsaw 2026).
    """

    line: int
    code: str
    detail: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.detail}"


class PabulibFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A parsed ``.pb`` file: the election and ballots a rule needs, plus everything else
    the file says (kept as text) so that writing it back loses nothing.

    ``meta`` holds every META entry as written; ``project_columns``/``project_extra`` and
    ``vote_columns``/``vote_extra`` hold the columns other than the ones the tally uses
    (``vote_extra`` is empty when there are no other vote columns); each row of
    them is a tuple, in column order.
    ``selected`` lists the projects whose ``selected`` column is ``1``, in file order
    (``None`` when there is no such column). ``warnings`` lists what the reader accepted
    but changed, in line order (never written back).
    """

    election: Election
    ballots: list[Ballot]
    voter_ids: list[str]
    vote_type: str
    meta: dict[str, str]
    project_columns: list[str] = msgspec.field(default_factory=list)
    project_extra: list[tuple[str, ...]] = msgspec.field(default_factory=list)
    vote_columns: list[str] = msgspec.field(default_factory=list)
    vote_extra: list[tuple[str, ...]] = msgspec.field(default_factory=list)
    selected: list[str] | None = None
    warnings: list[PabulibWarning] = msgspec.field(default_factory=list)

    @property
    def declared_rule(self) -> str:
        return self.meta.get("rule", "")


def file_seed(data: bytes) -> bytes:
    """The lot's seed for a .pb file: SHA-256 of the file's bytes."""
    return hashlib.sha256(data).digest()


def money_text(amount: int, unit: int) -> str:
    """``amount`` minor units as the file writes it: ``unit`` is a power of ten."""
    places = len(str(unit)) - 1
    if unit != 10**places:
        raise ValueError(f"the election's unit {unit} is not a power of ten")
    if places == 0:
        return str(amount)
    whole, part = divmod(amount, unit)
    return f"{whole}.{part:0{places}d}"
