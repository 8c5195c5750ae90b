"""Who may vote, tried as an attacker would (docs/protocol.md §5.1, §6.6, §6.11).

A self-registered account proves nothing: eligibility comes from the municipality's roll
(reached by a one-time access code or by an account whose e-mail address is confirmed
through a link sent by a real SMTP server) or from staff who verified a resident. Every
way in resolves to one voter key per person, the electorate is committed when the
election opens, the roll is frozen from then on, and voters added while it is open are a
logged entry that ``veche verify`` reports.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from audit.core.canonical import decode_canonical
from audit.core.entry import parse_entry
from ballot.core.client import ClientError, VoterClient
from ballot.core.electorate import electorate_digest
from ballot.core.verify import check_elections
from kernel.settings import Settings
from tests.support.accounts import PASSWORD, Client, login, verify_resident
from tests.support.elections import EARLY_CLOSE, RESIDENTS, config, create_election, log_lines
from tests.support.forge import read_entries, rechain
from tests.support.mail import MailCatcher
from veche.app import create_app
from veche.commands import export_local_log
from veche.kinds import entry_kinds
from veche.setup import NewUser, create_user, initialize

KINDS = entry_kinds()


def unique(name: str) -> str:
    """An address no other test of the session uses (the SMTP server is shared)."""
    return f"{name}-{uuid.uuid4().hex[:8]}@example.org"


def register(client: Client, email: str, district: str = "centre", **headers: str) -> int:
    """Register through the public API, as anyone on the Internet can; the account id."""
    done = client.post(
        "/api/v1/auth/register",
        json={
            "email": email,
            "display_name": "Someone",
            "district": district,
            "password": PASSWORD,
        },
        headers=headers or None,
    )
    assert done.status_code == 201, done.text
    return int(done.json()["id"])


def roll_election(
    client: Client, admin: dict[str, str], roll: str, *, codes: bool = True, **changes: object
) -> tuple[str, dict[str, str]]:
    """A roll election (e-mail and, with ``codes``, access codes) opened with ``roll``;
    its id and the codes by voter id."""
    eligibility = {"residents": False, "roll": True, "access_codes": codes}
    election_id = create_election(
        client,
        admin,
        eligibility=eligibility,
        **changes,  # type: ignore[arg-type]
    )
    imported = client.post(
        f"/api/v1/elections/{election_id}/roll",
        content=roll.encode(),
        headers={**admin, "content-type": "text/csv"},
    )
    assert imported.status_code == 201, imported.text
    made: dict[str, str] = {}
    if codes:
        text = client.post(f"/api/v1/elections/{election_id}/access-codes", headers=admin).text
        made = dict(line.split(",") for line in text.strip().split("\n")[1:])  # type: ignore[misc]
    opened = client.post(f"/api/v1/elections/{election_id}/open", headers=admin)
    assert opened.status_code == 200, opened.text
    return election_id, made


def issued(client: Client) -> int:
    return sum(1 for line in log_lines(client) if b'"kind":"credential.issued"' in line)


def try_credential(
    voter: VoterClient, election_id: str, *, code: str | None = None, headers: dict[str, str]
) -> str:
    """``issued`` or the refusal's code."""
    info = voter.election(election_id, allow_test_keys=True)
    try:
        voter.obtain_credential(info, access_code=code, headers=headers if code is None else None)
    except ClientError as exc:
        return exc.code
    return "issued"


# --- e-mail confirmation through a real SMTP server ---------------------------------------


def test_registration_sends_a_link_in_the_readers_language_and_following_it_confirms(
    client: Client, admin: dict[str, str], smtp: MailCatcher
) -> None:
    email = unique("olga")
    client.cookies.clear()
    register(client, email, **{"Accept-Language": "ru"})
    mail = smtp.last_to(email)
    assert mail.subject == "Подтвердите адрес электронной почты для Вече"
    assert "Здравствуйте" in mail.text
    headers = login(client, email)
    assert client.get("/api/v1/auth/me").json()["email_confirmed"] is False
    # A made-up token confirms nothing.
    wrong = client.get("/confirm-email/" + "A" * 43)
    assert wrong.status_code == 404
    page = client.get(mail.confirmation_path())
    assert page.status_code == 200, page.text
    assert 'id="confirmed"' in page.text
    assert client.get("/api/v1/auth/me").json()["email_confirmed"] is True
    # The link is spent; asking for another is refused now that the address is confirmed.
    assert client.get(mail.confirmation_path()).status_code == 404
    again = client.post("/api/v1/auth/confirmation", headers=headers)
    assert again.status_code == 409
    assert again.json()["error"] == "already_confirmed"


def test_links_sent_again_are_limited(
    client: Client, admin: dict[str, str], smtp: MailCatcher, settings: Settings
) -> None:
    email = unique("resend")
    client.cookies.clear()
    register(client, email)
    headers = login(client, email)
    statuses = [
        client.post("/api/v1/auth/confirmation", headers=headers).status_code
        for _ in range(settings.email_resend_max)
    ]
    assert statuses[: settings.email_resend_max - 1] == [200] * (settings.email_resend_max - 1)
    assert statuses[-1] == 429
    assert len(smtp.to(email)) == settings.email_resend_max
    # The newest link works, as does an older one still valid.
    assert client.get(smtp.to(email)[0].confirmation_path()).status_code == 200


# --- attacks on eligibility ---------------------------------------------------------------


def test_many_self_registered_accounts_get_no_credential(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str], smtp: MailCatcher
) -> None:
    """Accounts anyone can register, naming the district and even confirming their
    addresses, vote nowhere: not in a residents election (nobody verified them), not
    in a roll election (they are not on it)."""
    residents_election = create_election(client, admin, "fake-residents", eligibility=RESIDENTS)
    assert (
        client.post(f"/api/v1/elections/{residents_election}/open", headers=admin).status_code
        == 200
    )
    roll_id, _codes = roll_election(
        client, admin, "voter_id,email\nR1,real@example.org\n", election_id="fake-roll"
    )
    voter = VoterClient(client)
    outcomes = []
    for n in range(6):
        email = unique(f"sock{n}")
        client.cookies.clear()
        register(client, email)
        headers = login(client, email)
        if n % 2:
            assert client.get(smtp.last_to(email).confirmation_path()).status_code == 200
        outcomes.append(try_credential(voter, residents_election, headers=headers))
        outcomes.append(try_credential(voter, roll_id, headers=headers))
    assert set(outcomes) == {"not_in_electorate", "not_eligible"}, outcomes
    assert issued(client) == 0


def test_registering_a_roll_voters_email_without_confirming_it_gets_nothing(
    client: Client, admin: dict[str, str], smtp: MailCatcher
) -> None:
    victim = unique("victim")
    election_id, _codes = roll_election(
        client, admin, f"voter_id,email\nV1,{victim}\n", codes=False
    )
    voter = VoterClient(client)
    client.cookies.clear()
    register(client, victim)  # the attacker does not read the victim's mailbox
    headers = login(client, victim)
    with pytest.raises(ClientError) as refused:
        voter.obtain_credential(voter.election(election_id, allow_test_keys=True), headers=headers)
    assert refused.value.status == 403
    assert refused.value.code == "email_not_confirmed"
    assert "confirm" in refused.value.detail.lower()
    assert issued(client) == 0
    # Whoever reads the mailbox follows the link, and the roll entry votes (once).
    assert client.get(smtp.last_to(victim).confirmation_path()).status_code == 200
    assert try_credential(voter, election_id, headers=headers) == "issued"
    assert try_credential(voter, election_id, headers=headers) == "already_issued"


PATHS = ("code", "roll_email", "resident")


@pytest.mark.parametrize(("first", "second"), list(itertools.permutations(PATHS, 2)))
def test_every_pair_of_paths_gives_one_credential(
    client: Client,
    app: Litestar,
    settings: Settings,
    admin: dict[str, str],
    smtp: MailCatcher,
    first: str,
    second: str,
) -> None:
    """One person holds every way in that exists: a roll entry with their e-mail and an
    access code, a confirmed account with that e-mail, a second account that staff
    verified as a resident (and a third that tried the same document). Whatever path
    they take first, the second gets no second credential, in any election."""
    person = unique("person")
    other = unique("person-alt")
    create_user(
        settings, app.state.engine, NewUser(person, PASSWORD, "P", "resident", "centre", True)
    )
    create_user(
        settings, app.state.engine, NewUser(other, PASSWORD, "P2", "resident", "centre", True)
    )
    verify_resident(app, other, number="4510 123456")
    third = unique("person-third")
    create_user(
        settings, app.state.engine, NewUser(third, PASSWORD, "P3", "resident", "centre", True)
    )
    with pytest.raises(Exception) as reused:  # one document, one verified account
        verify_resident(app, third, number="45 10 123 456")
    assert getattr(reused.value, "code", "") == "document_used"

    roll_id, codes = roll_election(
        client, admin, f"voter_id,email\nP1,{person}\n", election_id="by-roll"
    )
    residents_id = create_election(client, admin, "by-residence", eligibility=RESIDENTS)
    assert client.post(f"/api/v1/elections/{residents_id}/open", headers=admin).status_code == 200
    mixed = client.post(
        "/api/v1/elections",
        json=config("both", eligibility={"residents": True, "roll": True, "access_codes": True}),
        headers=admin,
    )
    assert mixed.status_code == 400
    assert mixed.json()["error"] == "mixed_eligibility"

    voter = VoterClient(client)

    def attempt(path: str, election_id: str) -> str:
        client.cookies.clear()
        if path == "code":
            return try_credential(voter, election_id, code=codes["P1"], headers={})
        if path == "roll_email":
            return try_credential(voter, election_id, headers=login(client, person))
        outcome = try_credential(voter, election_id, headers=login(client, other))
        third_try = try_credential(voter, election_id, headers=login(client, third))
        assert third_try in {"not_eligible", "not_in_electorate"}
        return outcome

    for election_id in (roll_id, residents_id):
        outcomes = [attempt(first, election_id), attempt(second, election_id)]
        assert outcomes.count("issued") <= 1, (election_id, outcomes)
    per_election: dict[str, int] = {}
    for line in log_lines(client):
        if b'"kind":"credential.issued"' in line:
            election = str(decode_canonical(line)["body"]["election"])  # type: ignore[index]
            per_election[election] = per_election.get(election, 0) + 1
    assert all(n == 1 for n in per_election.values()), per_election


def test_a_roll_with_one_address_twice_is_refused(client: Client, admin: dict[str, str]) -> None:
    election_id = create_election(client, admin)
    twice = client.post(
        f"/api/v1/elections/{election_id}/roll",
        content=b"voter_id,email\nA,same@example.org\nB,Same@example.org\n",
        headers={**admin, "content-type": "text/csv"},
    )
    assert twice.status_code == 400
    assert "appears twice" in twice.json()["detail"]


# --- the committed electorate ---------------------------------------------------------


def test_the_roll_and_codes_are_frozen_once_open(client: Client, admin: dict[str, str]) -> None:
    election_id, _codes = roll_election(client, admin, "voter_id,email\nA,a@example.org\nB,\n")
    for path, body in (("roll", b"voter_id\nC\n"), ("access-codes", b"")):
        late = client.post(
            f"/api/v1/elections/{election_id}/{path}",
            content=body,
            headers={**admin, "content-type": "text/csv"},
        )
        assert late.status_code == 409, late.text
        assert late.json()["error"] == "electorate_frozen"
        assert "frozen" in late.json()["detail"] and "reason" in late.json()["detail"]


def test_the_manifest_commits_the_electorate(client: Client, admin: dict[str, str]) -> None:
    election_id, _codes = roll_election(
        client, admin, "voter_id,email\nA,a@example.org\nB,\nC,c@example.org\n"
    )
    manifest = client.get(f"/api/v1/elections/{election_id}/manifest").json()["manifest"]
    electorate = manifest["eligibility"]["electorate"]
    assert electorate["size"] == 3
    assert len(electorate["commitments"]) == 64
    # Without e-mail (codes only) the entry without a code could not vote: not committed.
    codes_only = create_election(
        client,
        admin,
        "codes-only",
        eligibility={"residents": False, "roll": False, "access_codes": True},
    )
    client.post(
        f"/api/v1/elections/{codes_only}/roll",
        content=b"voter_id\nX\nY\n",
        headers={**admin, "content-type": "text/csv"},
    )
    assert client.post(f"/api/v1/elections/{codes_only}/open", headers=admin).status_code == 200
    view = client.get(f"/api/v1/elections/{codes_only}/manifest").json()["manifest"]
    assert view["eligibility"]["electorate"] == {"commitments": electorate_digest([]), "size": 0}
    assert "personal" not in str(view) and "a@example.org" not in str(view)


def test_voters_added_while_open_are_logged_with_their_reason_and_reported(
    client: Client, admin: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    election_id, _codes = roll_election(client, admin, "voter_id,email\nA,\nB,\n")
    no_reason = client.post(
        f"/api/v1/elections/{election_id}/electorate",
        json={"reason": " ", "roll": "voter_id\nC\n"},
        headers=admin,
    )
    assert no_reason.status_code == 400
    added = client.post(
        f"/api/v1/elections/{election_id}/electorate",
        json={
            "reason": "Court order 12/2027: two residents left off the roll",
            "roll": "voter_id\nC\nD\n",
        },
        headers=admin,
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["added"] == 2
    new_codes = dict(body["access_codes"])
    entry = parse_entry(log_lines(client)[body["seq"]], KINDS)
    assert entry.kind == "electorate.added"
    assert entry.body.count == 2  # type: ignore[attr-defined]
    assert "C" not in str(entry.body.commitments)  # type: ignore[attr-defined]
    again = client.post(
        f"/api/v1/elections/{election_id}/electorate",
        json={"reason": "again", "roll": "voter_id\nC\n"},
        headers=admin,
    )
    assert again.status_code == 400
    client.cookies.clear()
    voter = VoterClient(client)
    assert try_credential(voter, election_id, code=new_codes["C"], headers={}) == "issued"
    export_local_log(settings, tmp_path / "log")
    lines = (tmp_path / "log" / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    report = check_elections(lines, workers=1)
    assert not report.failures, report.failures
    (summary,) = report.elections
    assert (summary.electorate, summary.added) == (2, 2)
    assert summary.additions[0]["reason"].startswith("Court order")


def test_residents_verified_after_opening_vote_only_when_added(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str]
) -> None:
    early = unique("early")
    late = unique("late")
    for email in (early, late):
        create_user(
            settings, app.state.engine, NewUser(email, PASSWORD, "R", "resident", "centre", True)
        )
    verify_resident(app, early)
    election_id = create_election(client, admin, eligibility=RESIDENTS)
    assert client.post(f"/api/v1/elections/{election_id}/open", headers=admin).status_code == 200
    verify_resident(app, late)
    voter = VoterClient(client)
    assert try_credential(voter, election_id, headers=login(client, early)) == "issued"
    assert try_credential(voter, election_id, headers=login(client, late)) == "not_in_electorate"
    admin = login(client, "admin@example.org")
    public_id = client.get("/api/v1/staff/residents", params={"email": late}, headers=admin).json()[
        "account"
    ]["public_id"]
    added = client.post(
        f"/api/v1/elections/{election_id}/electorate",
        json={"reason": "Verified on the first day of voting", "residents": [public_id]},
        headers=admin,
    )
    assert added.status_code == 201, added.text
    assert try_credential(voter, election_id, headers=login(client, late)) == "issued"
    lines = log_lines(client)
    report = check_elections(lines, workers=1)
    assert not report.failures, report.failures


def test_an_operator_issuing_more_credentials_than_the_electorate_is_caught(
    client: Client, app: Litestar, admin: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    """The operator holds the database and every key: it writes credential.issued
    entries for voters who do not exist, re-chains and re-signs the log. The log verifies
    as a log; the electorate check does not."""
    election_id, codes = roll_election(client, admin, "voter_id\nA\nB\nC\n", codes=True)
    voter = VoterClient(client)
    client.cookies.clear()
    for ref in ("A", "B"):
        assert try_credential(voter, election_id, code=codes[ref], headers={}) == "issued"
    admin = login(client, "admin@example.org")
    closed = client.post(f"/api/v1/elections/{election_id}/close", json=EARLY_CLOSE, headers=admin)
    assert closed.status_code == 200, closed.text
    export_local_log(settings, tmp_path / "honest")
    entries = read_entries(tmp_path / "honest")
    honest = [
        line for line in (tmp_path / "honest" / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    ]
    assert not check_elections(honest, workers=1).failures

    at = next(i for i, e in enumerate(entries) if e["kind"] == "credential.issued")
    template = entries[at]
    forged = [
        {**template, "body": {**template["body"], "commitment": f"{n:064x}"}} for n in range(1, 3)
    ]
    entries[at + 1 : at + 1] = forged
    directory = rechain(entries, app.state.authority_key, settings.origin, tmp_path / "forged")
    from audit.core.export import KeyInfo
    from audit.core.verify import verify_log

    key = KeyInfo.from_private_key(settings.origin, app.state.authority_key).verifier_key
    assert verify_log(directory, pinned_verifier_key=key, kinds=KINDS).ok
    lines = (directory / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    codes_found = {f.code for f in check_elections(lines, workers=1).failures}
    assert "more_credentials_than_electorate" in codes_found

    # The same voter's commitment twice (a second credential) is caught too.
    entries = read_entries(tmp_path / "honest")
    entries[at + 1 : at + 1] = [template]
    lines_twice = (
        (
            rechain(entries, app.state.authority_key, settings.origin, tmp_path / "twice")
            / "entries.ndjson"
        )
        .read_bytes()
        .split(b"\n")[:-1]
    )
    assert "duplicate_commitment" in {
        f.code for f in check_elections(lines_twice, workers=1).failures
    }


# --- limits -------------------------------------------------------------------------------


@pytest.fixture(name="limited")
def fx_limited(settings: Settings) -> Iterator[TestClient[Litestar]]:
    limited = settings.with_changes(register_ip_max=3, register_max=5, login_ip_max_attempts=4)
    engine = initialize(limited)
    app = create_app(limited, engine=engine)
    with TestClient(app, base_url="http://testserver.local") as client:
        yield client
    engine.dispose()


def test_a_registration_flood_is_refused_with_retry_after(limited: TestClient[Litestar]) -> None:
    from veche.setup import DEMO_DISTRICTS, add_districts

    settings: Settings = limited.app.state.settings
    add_districts(settings, limited.app.state.engine, DEMO_DISTRICTS)
    statuses = []
    for n in range(4):
        limited.cookies.clear()
        response = limited.post(
            "/api/v1/auth/register",
            json={
                "email": unique(f"flood{n}"),
                "display_name": "F",
                "district": "centre",
                "password": PASSWORD,
            },
        )
        statuses.append(response.status_code)
    assert statuses == [201, 201, 201, 429]
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["error"] == "too_many_requests"
    # From other addresses the overall limit holds (five per window in all).
    other = limited.post(
        "/api/v1/auth/register",
        json={
            "email": unique("elsewhere"),
            "display_name": "F",
            "district": "centre",
            "password": PASSWORD,
        },
        headers={"X-Forwarded-For": "203.0.113.9"},  # ignored: the address is the peer's
    )
    assert other.status_code == 429
    # The page says it too, in the reader's language.
    page = limited.get("/register")
    form = limited.post(
        "/register",
        data={
            "email": unique("page"),
            "display_name": "F",
            "district": "centre",
            "password": PASSWORD,
            "csrf_token": limited.cookies.get("veche_csrf", ""),
        },
        headers={"Accept-Language": "ru"},
    )
    assert page.status_code == 200
    assert form.status_code == 429
    assert "Retry-After" in form.headers


def test_a_log_in_flood_is_refused_with_retry_after(limited: TestClient[Litestar]) -> None:
    statuses = [
        limited.post(
            "/api/v1/auth/login", json={"email": unique("x"), "password": "wrong password 1"}
        ).status_code
        for _ in range(5)
    ]
    assert statuses == [401, 401, 401, 401, 429]


def test_password_hashing_waits_for_a_free_slot() -> None:
    import threading

    from kernel.accounts.passwords import HashingSlots
    from kernel.errors import TooManyRequests

    slots = HashingSlots(1, wait_seconds=1)
    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with slots.turn():
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(5)
    with pytest.raises(TooManyRequests) as busy, slots.turn():
        pass
    assert busy.value.retry_after > 0
    release.set()
    holder.join()
    with slots.turn():  # free again
        pass


# --- what counts only from confirmed accounts ------------------------------------------


def test_supports_and_ratings_need_a_confirmed_address(
    client: Client, app: Litestar, settings: Settings, smtp: MailCatcher
) -> None:
    from tests.support.proposals import log_in_all, make_program, phase, setup_people, submitted
    from tests.support.proposals import login as actor_login

    setup_people(app, settings)
    people = log_in_all(client)
    program = make_program(people["admin"])
    proposal_id = submitted(people, program)
    phase(people["admin"], program, "support")
    email = unique("unconfirmed")
    client.cookies.clear()
    register(client, email)
    newcomer = actor_login(client, email)
    refused = newcomer.call("POST", f"/api/v1/proposals/{proposal_id}/support")
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "email_not_confirmed"
    assert "confirm your e-mail" in refused.json()["detail"].lower()
    assert newcomer.use().get(smtp.last_to(email).confirmation_path()).status_code == 200
    accepted = newcomer.call("POST", f"/api/v1/proposals/{proposal_id}/support")
    assert accepted.status_code == 200, accepted.text


# --- staff verification -----------------------------------------------------------------


def test_staff_verification_is_logged_without_personal_data(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str]
) -> None:
    email = unique("resident")
    create_user(settings, app.state.engine, NewUser(email, PASSWORD, "Rita", "resident", "north"))
    create_user(settings, app.state.engine, NewUser("mod@example.org", PASSWORD, "M", "moderator"))
    someone = unique("someone")
    create_user(settings, app.state.engine, NewUser(someone, PASSWORD, "S", "resident", "north"))
    resident_headers = login(client, someone)
    found = client.get("/api/v1/staff/residents", params={"email": email}, headers=resident_headers)
    assert found.status_code == 403  # residents do not verify residents
    moderator = login(client, "mod@example.org")
    account = client.get(
        "/api/v1/staff/residents", params={"email": email}, headers=moderator
    ).json()
    assert account["verification"] is None
    done = client.post(
        f"/api/v1/staff/residents/{account['account']['id']}/verification",
        json={
            "district": "centre",
            "document_type": "Passport of Rita",
            "document_number": "4509 777888",
        },
        headers=moderator,
    )
    assert done.status_code == 201, done.text
    line = log_lines(client)[done.json()["seq"]]
    entry = decode_canonical(line)
    assert entry["kind"] == "resident.verified"  # type: ignore[index]
    assert set(entry["body"]) == {"district", "resident", "staff"}  # type: ignore[index]
    assert entry["body"]["district"] == "centre"  # type: ignore[index]
    for secret in (b"Rita", b"4509", b"777888", b"Passport", email.encode()):
        assert secret not in line
    twice = client.post(
        f"/api/v1/staff/residents/{account['account']['id']}/verification",
        json={"district": "centre", "document_type": "passport", "document_number": "1111 222333"},
        headers=moderator,
    )
    assert twice.status_code == 409
    assert twice.json()["error"] == "already_verified"
    # The staff page finds the account and shows the verification.
    page = client.get("/staff/residents", params={"email": email})
    assert page.status_code == 200
    assert str(done.json()["seq"]) in page.text
    assert "777888" not in page.text


def test_pledges_and_ratings_need_a_confirmed_address_too(app: Litestar) -> None:
    """The services refuse them before reading anything: no proposal needs to exist."""
    from kernel.accounts.models import User
    from kernel.errors import Forbidden
    from proposals.core.schemas import PledgeCreate, RatingCreate

    unconfirmed = User(
        id=10**6,
        public_id="ab" * 16,
        email="nobody@example.org",
        display_name="N",
        role="resident",
        password_hash="x",
        created_at=0,
    )
    for attempt in (
        lambda: app.state.pledges.pledge(unconfirmed, 1, PledgeCreate(amount=100)),
        lambda: app.state.implementation.rate(unconfirmed, 1, RatingCreate(stars=5)),
    ):
        with pytest.raises(Forbidden) as refused:
            attempt()
        assert refused.value.code == "email_not_confirmed"


def test_an_operator_who_pads_a_residents_electorate_is_caught(
    client: Client, app: Litestar, admin: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    """In an election of verified residents the committed size must be the number of
    residents the log shows verified for the district before the opening: an operator
    who drops a verification from the log (or commits more voters than were verified)
    is caught."""
    from tests.support.elections import verified_residents

    verified_residents(app, settings, "vika", "vlad")
    election_id = create_election(client, admin, eligibility=RESIDENTS)
    assert client.post(f"/api/v1/elections/{election_id}/open", headers=admin).status_code == 200
    export_local_log(settings, tmp_path / "honest")
    entries = read_entries(tmp_path / "honest")
    honest = (tmp_path / "honest" / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    (summary,) = check_elections(honest, workers=1).elections
    assert summary.electorate == 2
    assert not check_elections(honest, workers=1).failures
    # Only one of the two verifications stays in the log, before the opening.
    dropped = [e for e in entries if e["kind"] != "resident.verified"]
    dropped.insert(1, next(e for e in entries if e["kind"] == "resident.verified"))
    directory = rechain(dropped, app.state.authority_key, settings.origin, tmp_path / "forged")
    lines = (directory / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    failures = check_elections(lines, workers=1).failures
    assert [f.code for f in failures] == ["electorate_mismatch"], failures


def test_an_operator_who_leaves_the_electorate_out_of_a_manifest_is_caught(
    client: Client, app: Litestar, admin: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    """A manifest re-signed without its electorate looks like one of an earlier release;
    in a log where an earlier election committed its electorate it is a failure."""
    import hashlib

    from audit.core.canonical import b64url_encode, canonical_bytes
    from ballot.core.manifest import MANIFEST_DOMAIN

    roll_election(client, admin, "voter_id\nA\n", election_id="first")
    second, codes = roll_election(client, admin, "voter_id\nB\nC\n", election_id="second")
    client.cookies.clear()
    voter = VoterClient(client)
    assert try_credential(voter, second, code=codes["B"], headers={}) == "issued"
    export_local_log(settings, tmp_path / "honest")
    entries = read_entries(tmp_path / "honest")
    at = [i for i, e in enumerate(entries) if e["kind"] == "election.opened"][1]
    body = entries[at]["body"]
    manifest = {**body["manifest"]}
    manifest["eligibility"] = {
        k: v for k, v in manifest["eligibility"].items() if k != "electorate"
    }
    raw = canonical_bytes(manifest)
    new_hash = hashlib.sha256(raw).hexdigest()
    signature = b64url_encode(app.state.authority_key.sign(MANIFEST_DOMAIN + raw))
    old_hash = body["manifest_hash"]
    entries[at] = {
        **entries[at],
        "body": {"manifest": manifest, "manifest_hash": new_hash, "signature": signature},
    }
    import json

    entries = [
        json.loads(json.dumps(e).replace(old_hash, new_hash)) if i > at else e
        for i, e in enumerate(entries)
    ]
    directory = rechain(entries, app.state.authority_key, settings.origin, tmp_path / "forged")
    lines = (directory / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    report = check_elections(lines, workers=1)
    assert [f.code for f in report.failures] == ["electorate_not_committed"], report.failures
    assert [s.electorate for s in report.elections] == [1, None]
