"""Every refusal's HTTP status is its class's: the one error handler reads nothing else."""

from __future__ import annotations

import pytest

from audit.core.errors import AuditError, EntryRejected
from ballot.core.choices import BallotConflict, BallotRejected
from ballot.core.errors import BlindSignatureError, ManifestRejected, SigningFailure
from ballot.services.errors import (
    BadCredentialRequest,
    ElectionNotFound,
    ElectionRecordBroken,
    ElectionStateConflict,
    RollRejected,
    VoterNotAuthenticated,
    VoterNotEligible,
)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (BallotConflict("closed", "voting closed"), 409),
        (BallotConflict("not_open_yet", "voting opens later"), 409),
        (BallotConflict("already_voted", "this credential has voted"), 409),
        (BallotRejected("bad_seal", "the sealed ballot is not base64url"), 400),
        (ManifestRejected("bad_time", "not a time", "window.opens_at"), 400),
        (BlindSignatureError("the message is too long"), 400),
        (SigningFailure("the signature failed its own check"), 500),
        (AuditError("refused"), 400),
        (EntryRejected("bad_body", "the body is refused"), 400),
        (ElectionNotFound("no_such_election", "There is no election 'x'."), 404),
        (ElectionStateConflict("closed", "The election is closed."), 409),
        (RollRejected("bad_roll", "The roll has errors."), 400),
        (BadCredentialRequest("bad_request", "blinded_message is not base64url."), 400),
        (VoterNotAuthenticated("not_authenticated", "Log in or give an access code."), 401),
        (VoterNotEligible("not_eligible", "You are not on the list."), 403),
        (ElectionRecordBroken("no_record", "The log holds no record."), 500),
    ],
)
def test_the_status_is_the_class_s(error: Exception, status: int) -> None:
    assert type(error).status == status  # type: ignore[attr-defined]
    assert error.status == status  # type: ignore[attr-defined]


def test_codes_and_details_are_what_clients_see() -> None:
    error = VoterNotEligible("bad_access_code", "This access code is not valid.")
    assert (error.code, error.detail) == ("bad_access_code", "This access code is not valid.")
    conflict = BallotConflict("already_voted", "this credential has voted")
    assert isinstance(conflict, BallotRejected)
    assert (conflict.code, conflict.detail) == ("already_voted", "this credential has voted")
