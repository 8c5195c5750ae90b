"""A Pabulib file read for a tally only: the election and its voters grouped into types
(``profile.Profile``), without a ballot per voter.

``veche tally`` needs no more: an approval file's votes are counted by their text and
each distinct vote is parsed once, straight into the sorted project indices that
``build_profile`` would group it by, so no ballot struct is made per distinct vote and no
ballot is hashed. The result is the same as ``read_pb`` followed by ``build_profile``;
that is what runs for other files and whenever anything in the votes needs a closer
look (an unknown or repeated project, spaces, a repeated voter id, any error), so every
error and warning is the reader's own.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from itertools import repeat
from operator import add, eq, itemgetter

import msgspec

from tally.errors import PabulibError
from tally.model import Election
from tally.pabulib.file import PabulibWarning
from tally.pabulib.read import election_of, parsed_sections, project_list, read_pb
from tally.profile import Profile, build_profile

__all__ = ["TallyFile", "read_for_tally"]


class TallyFile(msgspec.Struct, frozen=True):
    """What a tally needs of a ``.pb`` file: its election, the voters grouped into types,
    META (as ``PabulibFile.meta`` has it) and the reader's warnings."""

    election: Election
    profile: Profile
    meta: dict[str, str]
    warnings: list[PabulibWarning]

    @property
    def declared_rule(self) -> str:
        return self.meta.get("rule", "")


def read_for_tally(data: bytes) -> TallyFile:
    """The election and its voter types from a ``.pb`` file's bytes; ``PabulibError`` as
    ``read_pb`` raises it."""
    try:
        fast = _approval(data)
    except PabulibError:
        fast = None  # read_pb says what is wrong, and where
    if fast is not None:
        return fast
    pf = read_pb(data)
    return TallyFile(pf.election, build_profile(pf.election, pf.ballots), pf.meta, pf.warnings)


def _approval(data: bytes) -> TallyFile | None:
    """The fast way, for approval files whose every vote lists known projects, each once,
    exactly as written, and whose voter ids are distinct; ``None`` otherwise."""
    meta, _, kind, projects, votes = parsed_sections(data)
    if kind != "approval":
        return None
    plist, _, _, places, money = project_list(meta, projects)
    header = votes.header
    voter_ids = votes.column(header.index("voter_id"))
    texts = votes.column(header.index("vote"))
    if len(set(voter_ids)) != len(voter_ids):
        return None
    counted = Counter(texts)
    index = {p.id: i for i, p in enumerate(plist)}
    index[""] = -1  # an empty vote (then it approves nothing), or an empty id (refused)
    ids_of = map(partial(map, index.__getitem__), map(str.split, counted, repeat(",")))
    try:
        keys = list(map(tuple, map(sorted, map(set, ids_of))))
    except KeyError:
        return None  # a project that is not in PROJECTS (or spaces around an id)
    written = map(add, map(str.count, counted, repeat(",")), repeat(1))
    if list(map(len, keys)) != list(written):
        return None  # a vote that names a project twice
    if sum(map(eq, map(itemgetter(0), keys), repeat(-1))) != ("" in counted):
        return None  # an empty id in a vote
    if "" in counted:
        keys[list(counted).index("")] = ()
    election = election_of(meta, kind, plist, places, money, len(texts))
    types = dict(zip(keys, counted.values(), strict=True))
    if len(types) < len(keys):  # the same projects in another order: one type
        types = {}
        for key, k in zip(keys, counted.values(), strict=True):
            types[key] = types.get(key, 0) + k
    votes_of = [0] * len(plist)
    for key, m in types.items():
        for i in key:
            votes_of[i] += m
    profile = Profile(
        n_voters=len(texts),
        ids=tuple(p.id for p in plist),
        costs=tuple(p.cost for p in plist),
        projects=tuple(types),
        mult=tuple(types.values()),
        votes=tuple(votes_of),
        points=tuple(votes_of),
    )
    return TallyFile(election, profile, meta, [])
