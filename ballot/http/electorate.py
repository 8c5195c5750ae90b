"""Voters added to an open election (administrators): ``POST
/api/v1/elections/{id}/electorate`` (docs/protocol.md §5.1, §6.11).

The roll and the access codes are frozen when the election opens; an addition while it
is open gives its reason and is logged as ``electorate.added`` (commitments only), which
``veche verify`` reports.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec
from litestar import Controller, post
from litestar.params import FromPath, JSONBody

from ballot.http.state import ElectionState
from ballot.services.roll import AddedVoters
from kernel.web import requires_role


class VotersToAdd(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``roll``: CSV text as for the roll import (an election that admits its roll);
    ``residents``: public ids of accounts verified as residents of the district."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    roll: Annotated[str, msgspec.Meta(max_length=1_000_000)] | None = None
    residents: Annotated[list[str], msgspec.Meta(max_length=1000)] = msgspec.field(
        default_factory=list
    )


class ElectorateController(Controller):
    path = "/api/v1/elections"
    tags: ClassVar[list[str]] = ["elections"]

    @post(
        "/{election_id:str}/electorate",
        operation_id="addVoters",
        status_code=201,
        sync_to_thread=True,
        guards=[requires_role("admin")],
    )
    def add_voters(
        self, election_id: FromPath[str], data: JSONBody[VotersToAdd], state: ElectionState
    ) -> AddedVoters:
        """Add voters to an open election with a reason (logged as electorate.added)."""
        return state.elections.add_voters(
            election_id, data.reason, roll=data.roll, residents=data.residents
        )
