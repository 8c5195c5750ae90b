"""A survey over HTTP from opening to ``veche verify`` (docs/protocol.md §19), and the
attacks on it: a ballot answering a hidden question, a forged result, a withheld text
naming no ballot, a survey ballot breaking the limits in a trustee election."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from audit.core.canonical import b64url_decode, b64url_encode, canonical_bytes, decode_canonical
from audit.core.export import KeyInfo
from audit.core.verify import verify_log
from ballot.cli.trustee import (
    acknowledge,
    deal,
    load_identity,
    new_identity,
    public_part,
    save_identity,
)
from ballot.cli.trustee import release as release_share
from ballot.core import kinds, seal
from ballot.core.ballot import Ballot, BallotToken, ballot_json, sign_ballot
from ballot.core.client import ElectionInfo, VoterClient, Wallet
from ballot.core.config import parse_config
from ballot.core.record import currency_unit, rule_config
from ballot.core.record_survey import survey_questions
from ballot.core.survey import budget_question
from ballot.core.survey_kinds import SURVEY_TEXT_WITHHELD
from ballot.core.verify import check_elections
from kernel.keys import load_authority_key
from kernel.settings import Settings
from tally.survey import tally_survey
from tests.support.accounts import Client, login
from tests.support.elections import EARLY_CLOSE, when
from tests.support.operator import Entries, of_kind, rebuild, resign_result
from veche.bench.survey import city_survey, random_answers
from veche.commands import export_local_log
from veche.kinds import entry_kinds

KINDS = entry_kinds()
SURVEY = "city-survey-2027"
SECRET_TEXT = "Call me at the number I gave"


def survey_config(**changes: Any) -> dict[str, Any]:
    return city_survey(
        district="centre",
        window={"opens_at": when(-5), "closes_at": when(60)},
        rsa_key_bits=1024,
        **changes,
    )


def _create(client: Client, admin: dict[str, str], voters: int, **changes: Any) -> list[str]:
    """Create the survey with a roll of ``voters``; their access codes."""
    created = client.post("/api/v1/elections", json=survey_config(**changes), headers=admin)
    assert created.status_code == 201, created.text
    roll = "voter_id\n" + "\n".join(f"V{k}" for k in range(voters)) + "\n"
    imported = client.post(
        f"/api/v1/elections/{SURVEY}/roll",
        content=roll.encode(),
        headers={**admin, "content-type": "text/csv"},
    )
    assert imported.status_code == 201, imported.text
    made = client.post(f"/api/v1/elections/{SURVEY}/access-codes", headers=admin)
    assert made.status_code == 201, made.text
    return [line.split(",")[1] for line in made.text.strip().split("\n")[1:]]


def _open(client: Client, admin: dict[str, str]) -> None:
    opened = client.post(f"/api/v1/elections/{SURVEY}/open", headers=admin)
    assert opened.status_code == 200, opened.text


def _vote(client: Client, codes: list[str]) -> dict[int, dict[str, Any]]:
    """Every voter answers (the first with a text to withhold; some twice): each counted
    ballot's seq → its answers."""
    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election(SURVEY, allow_test_keys=True)
    rng = random.Random(7)
    counted: dict[int, dict[str, Any]] = {}
    for k, code in enumerate(codes):
        wallet = voter.obtain_credential(info, access_code=code)
        answers = random_answers(rng)
        if k == 0:
            answers["comment"] = SECRET_TEXT
        receipt = voter.cast(info, wallet, {"answers": answers})
        if k % 4 == 1:  # a change of mind: the newest ballot counts
            answers = random_answers(rng)
            receipt = voter.cast(info, wallet, {"answers": answers})
        counted[receipt["seq"]] = answers
    return counted


def _expected_questions(counted: dict[int, dict[str, Any]], withheld: int) -> dict[str, Any]:
    """The questions' results computed here, apart from the server: tally.survey over the
    answers the voters gave (the budget question by the greedy rule, no tie to break)."""
    manifest = parse_config(survey_config())
    question = budget_question(manifest.ballot)  # type: ignore[arg-type]
    assert question is not None
    config = rule_config(manifest, b"", question.rule)  # type: ignore[arg-type]
    questions = survey_questions(manifest, config, currency_unit("RUB"))  # type: ignore[arg-type]
    answers = [counted[seq] for seq in sorted(counted)]
    return tally_survey(questions, answers, withheld={"comment": withheld})


def _verify_dir(directory: Path, settings: Settings) -> list[tuple[int | None, str]]:
    key = load_authority_key(settings.keys_dir)
    log = verify_log(
        directory,
        pinned_verifier_key=KeyInfo.from_private_key(settings.origin, key).verifier_key,
        kinds=KINDS,
    )
    assert log.ok, log.failures
    lines = (directory / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    return [(f.seq, f.code) for f in check_elections(lines, workers=1).failures]


@pytest.fixture(name="surveyed")
def fx_surveyed(
    client: Client, app: Litestar, admin: dict[str, str], settings: Settings, tmp_path: Path
) -> tuple[Entries, dict[int, dict[str, Any]], Settings]:
    """A survey voted, closed, a text withheld, counted: its log's entries and answers."""
    codes = _create(client, admin, voters=10)
    _open(client, admin)
    counted = _vote(client, codes)
    admin = login(client, "admin@example.org")
    closed = client.post(f"/api/v1/elections/{SURVEY}/close", json=EARLY_CLOSE, headers=admin)
    assert closed.status_code == 200, closed.text
    secret_seq = next(s for s, a in counted.items() if a.get("comment") == SECRET_TEXT)
    body = {"seq": secret_seq, "question": "comment", "reason": "Personal data"}
    withheld = client.post(f"/api/v1/elections/{SURVEY}/withheld-texts", json=body, headers=admin)
    assert withheld.status_code == 201, withheld.text
    published = client.post(f"/api/v1/elections/{SURVEY}/tally", headers=admin)
    assert published.status_code == 201, published.text
    export = tmp_path / "honest"
    export_local_log(settings, export)
    lines = (export / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    return [decode_canonical(line) for line in lines], counted, settings  # type: ignore[misc]


def test_a_survey_is_voted_moderated_counted_and_verified(
    client: Client, app: Litestar, admin: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    codes = _create(client, admin, voters=9)
    _open(client, admin)
    early = client.get(f"/api/v1/elections/{SURVEY}/answers")
    assert early.status_code == 409 and early.json()["error"] == "not_closed"
    counted = _vote(client, codes)
    admin = login(client, "admin@example.org")
    closed = client.post(f"/api/v1/elections/{SURVEY}/close", json=EARLY_CLOSE, headers=admin)
    assert closed.status_code == 200, closed.text

    # After the close anyone reads the opened answers, in log order.
    opened = client.get(f"/api/v1/elections/{SURVEY}/answers")
    assert opened.status_code == 200, opened.text
    assert [(a["seq"], a["answers"]) for a in opened.json()] == sorted(counted.items())

    # Withholding: staff only, a counted ballot's text only, once, with a reason.
    secret_seq = next(s for s, a in counted.items() if a.get("comment") == SECRET_TEXT)
    url = f"/api/v1/elections/{SURVEY}/withheld-texts"
    body = {"seq": secret_seq, "question": "comment", "reason": "Personal data"}
    client.cookies.clear()
    assert client.post(url, json=body).status_code in (401, 403)
    admin = login(client, "admin@example.org")
    nothing = client.post(url, json={**body, "question": "transport"}, headers=admin)
    assert nothing.status_code == 400 and nothing.json()["error"] == "no_such_text"
    nothing = client.post(url, json={**body, "seq": 1}, headers=admin)
    assert nothing.status_code == 400 and nothing.json()["error"] == "no_such_text"
    bad = client.post(url, json={**body, "reason": " padded"}, headers=admin)
    assert bad.status_code == 400 and bad.json()["error"] == "bad_reason"
    done = client.post(url, json=body, headers=admin)
    assert done.status_code == 201, done.text
    again = client.post(url, json=body, headers=admin)
    assert again.status_code == 409 and again.json()["error"] == "already_withheld"
    entry = decode_canonical(
        client.get(f"/api/v1/log/entries?start={done.json()['seq']}").content.split(b"\n")[0]
    )
    assert entry["kind"] == SURVEY_TEXT_WITHHELD  # type: ignore[index]
    assert set(entry["body"]) == {"election", "question", "reason", "seq"}  # type: ignore[index]
    shown = {a["seq"]: a for a in client.get(f"/api/v1/elections/{SURVEY}/answers").json()}
    assert "comment" not in shown[secret_seq]["answers"]
    assert shown[secret_seq]["withheld"] == {"comment": "Personal data"}
    assert SECRET_TEXT not in client.get(f"/api/v1/elections/{SURVEY}/answers").text

    # The count: every question's result, as computed here from the voters' answers.
    published = client.post(f"/api/v1/elections/{SURVEY}/tally", headers=admin)
    assert published.status_code == 201, published.text
    result = published.json()["result"]
    assert result["rule"] == "survey" and result["counted"] == len(counted)
    assert result["questions"] == _expected_questions(counted, withheld=1)
    assert result["winners"] == result["questions"]["projects"]["winners"]
    served = client.get(f"/api/v1/elections/{SURVEY}/result").json()
    assert served["result"] == result
    late = client.post(url, json={**body, "question": "comment"}, headers=admin)
    assert late.status_code == 409 and late.json()["error"] == "not_closed"
    assert client.get(f"/api/v1/elections/{SURVEY}/export.pb").status_code == 200

    # veche verify recomputes all of it.
    export = tmp_path / "export"
    export_local_log(settings, export)
    assert _verify_dir(export, settings) == []
    run = subprocess.run(
        [sys.executable, "-m", "veche.cli", "verify", str(export), "--no-state"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "OVERALL: OK" in run.stdout
    assert "8 questions, each recomputed with the result; 1 text(s) withheld" in run.stdout


def _forged_ballot(info: ElectionInfo, wallet: Wallet, answers: dict[str, Any]) -> dict[str, Any]:
    """A ballot sealing ``answers`` as they are (no client check), properly signed."""
    assert wallet.token is not None
    plaintext = canonical_bytes(
        {"choices": {"answers": answers}, "nonce": b64url_encode(os.urandom(16))}
    )
    credential = wallet.private_key.public_key().public_bytes_raw()
    sealed = seal.seal(
        b64url_decode(info.manifest.sealing_key), bytes.fromhex(info.hash), plaintext, credential
    )
    ballot = Ballot(
        counter=wallet.counter + 1,
        credential=b64url_encode(credential),
        election=info.hash,
        sealed=b64url_encode(sealed),
        token=BallotToken(prefix=wallet.token["prefix"], signature=wallet.token["signature"]),
        v=2,
    )
    return {"ballot": ballot_json(ballot), "signature": sign_ballot(wallet.private_key, ballot)}


HIDDEN = {
    "transport": "car",
    "bike-lanes": "yes",  # shown only to those who ride or walk
    "problems": ["roads"],
    "satisfaction": 3,
    "priorities": ["schools"],
    "projects": ["park"],
}


def test_a_ballot_answering_a_hidden_question_is_refused(
    client: Client, admin: dict[str, str]
) -> None:
    codes = _create(client, admin, voters=2)
    _open(client, admin)
    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election(SURVEY, allow_test_keys=True)
    wallet = voter.obtain_credential(info, access_code=codes[0])
    answer = client.post(
        f"/api/v1/elections/{SURVEY}/ballots", json=_forged_ballot(info, wallet, HIDDEN)
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "hidden_question_answered"
    missing = {k: v for k, v in HIDDEN.items() if k not in ("bike-lanes", "satisfaction")}
    answer = client.post(
        f"/api/v1/elections/{SURVEY}/ballots", json=_forged_ballot(info, wallet, missing)
    )
    assert answer.status_code == 400 and answer.json()["error"] == "missing_answer"
    # The honest client refuses to send such a ballot at all.
    with pytest.raises(Exception, match="hidden"):
        voter.cast(info, wallet, {"answers": HIDDEN})


def test_the_honest_survey_log_verifies(
    surveyed: tuple[Entries, dict[int, dict[str, Any]], Settings], tmp_path: Path
) -> None:
    entries, _counted, settings = surveyed
    key = load_authority_key(settings.keys_dir)
    assert _verify_dir(rebuild(entries, key, settings.origin, tmp_path / "x"), settings) == []


def test_a_forged_survey_result_is_caught_and_the_question_named(
    surveyed: tuple[Entries, dict[int, dict[str, Any]], Settings], tmp_path: Path
) -> None:
    entries, _counted, settings = surveyed
    key = load_authority_key(settings.keys_dir)
    at = of_kind(entries, kinds.RESULT_PUBLISHED)[0]
    questions = entries[at]["body"]["questions"]
    counts = dict(questions["satisfaction"]["counts"])
    counts["5"] += 1
    counts["1"] = max(counts["1"] - 1, 0)
    forged = {**questions, "satisfaction": {**questions["satisfaction"], "counts": counts}}
    seq = resign_result(entries, key, questions=forged)
    directory = rebuild(entries, key, settings.origin, tmp_path / "forged")
    failures = _verify_dir(directory, settings)
    assert failures == [(seq, "result_mismatch")]
    lines = (directory / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    (failure,) = check_elections(lines, workers=1).failures
    assert "question 'satisfaction'" in failure.detail


def test_a_forged_withheld_count_is_caught(
    surveyed: tuple[Entries, dict[int, dict[str, Any]], Settings], tmp_path: Path
) -> None:
    entries, _counted, settings = surveyed
    key = load_authority_key(settings.keys_dir)
    at = of_kind(entries, kinds.RESULT_PUBLISHED)[0]
    questions = entries[at]["body"]["questions"]
    forged = {**questions, "comment": {**questions["comment"], "withheld": 0}}
    seq = resign_result(entries, key, questions=forged)
    failures = _verify_dir(rebuild(entries, key, settings.origin, tmp_path / "f"), settings)
    assert failures == [(seq, "result_mismatch")]


def test_a_withheld_text_of_no_ballot_is_caught(
    surveyed: tuple[Entries, dict[int, dict[str, Any]], Settings], tmp_path: Path
) -> None:
    entries, _counted, settings = surveyed
    key = load_authority_key(settings.keys_dir)
    real = entries[of_kind(entries, SURVEY_TEXT_WITHHELD)[0]]
    result = of_kind(entries, kinds.RESULT_PUBLISHED)[0]
    # The operator withholds a "text" of a ballot that does not exist, before the result.
    ghost = {**real, "body": {**real["body"], "seq": 99_999, "reason": "Insult"}}
    entries.insert(result, ghost)
    # And another text for a ballot that answered no text question.
    no_text = {
        **real,
        "body": {**real["body"], "seq": real["body"]["seq"], "question": "transport"},
    }
    entries.insert(result + 1, no_text)
    failures = _verify_dir(rebuild(entries, key, settings.origin, tmp_path / "g"), settings)
    assert failures == [(result, "withheld_unknown_ballot"), (result + 1, "withheld_no_text")]


def test_a_text_withheld_twice_or_after_the_result_is_caught(
    surveyed: tuple[Entries, dict[int, dict[str, Any]], Settings], tmp_path: Path
) -> None:
    entries, _counted, settings = surveyed
    key = load_authority_key(settings.keys_dir)
    real = entries[of_kind(entries, SURVEY_TEXT_WITHHELD)[0]]
    entries.append(dict(real))
    failures = _verify_dir(rebuild(entries, key, settings.origin, tmp_path / "h"), settings)
    assert failures == [(len(entries) - 1, "withheld_after_result")]


def test_a_survey_ballot_breaking_the_limits_in_a_trustee_election_is_spoiled(
    client: Client, app: Litestar, admin: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    paths = []
    for j in range(1, 4):
        path = tmp_path / f"trustee-{j}.json"
        save_identity(path, new_identity(f"Trustee {j}"), new=True)
        paths.append(path)
    members = [public_part(load_identity(p)) for p in paths]
    codes = _create(client, admin, voters=4, trustees={"threshold": 2, "members": members})
    for path in paths:
        deal(client, SURVEY, load_identity(path), os.urandom)
    for path in paths:
        acknowledge(client, SURVEY, load_identity(path), path)
    _open(client, admin)
    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election(SURVEY, allow_test_keys=True)
    counted: dict[int, dict[str, Any]] = {}
    rng = random.Random(3)
    for code in codes[:3]:
        wallet = voter.obtain_credential(info, access_code=code)
        answers = random_answers(rng)
        counted[voter.cast(info, wallet, {"answers": answers})["seq"]] = answers
    cheat = voter.obtain_credential(info, access_code=codes[3])
    # The server cannot read a trustee election's ballots while it is open: it takes it.
    sent = client.post(
        f"/api/v1/elections/{SURVEY}/ballots", json=_forged_ballot(info, cheat, HIDDEN)
    )
    assert sent.status_code == 201, sent.text
    spoiled_seq = sent.json()["seq"]
    admin = login(client, "admin@example.org")
    closed = client.post(f"/api/v1/elections/{SURVEY}/close", json=EARLY_CLOSE, headers=admin)
    assert closed.status_code == 200, closed.text
    log_key = client.get("/api/v1/log/key").json()["verifier_key"]
    for path in paths[:2]:
        release_share(client, SURVEY, load_identity(path), allow_test_keys=True, log_key=log_key)
    opened = client.get(f"/api/v1/elections/{SURVEY}/answers").json()
    assert [a["seq"] for a in opened] == sorted(counted)
    published = client.post(f"/api/v1/elections/{SURVEY}/tally", headers=admin)
    assert published.status_code == 201, published.text
    result = published.json()["result"]
    assert result["counted"] == 3
    assert result["spoiled"] == [{"seq": spoiled_seq, "code": "hidden_question_answered"}]
    assert result["questions"]["transport"]["answered"] == 3
    export = tmp_path / "export"
    export_local_log(settings, export)
    assert _verify_dir(export, settings) == []
    lines = (export / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    (summary,) = check_elections(lines, workers=1).elections
    assert summary.spoiled == [{"seq": spoiled_seq, "code": "hidden_question_answered"}]


def test_the_largest_text_ballot_a_survey_allows_is_cast(
    client: Client, admin: dict[str, str]
) -> None:
    texts = [
        {"kind": "text", "id": f"t{i}", "text": f"Question {i}?", "max_length": 2000}
        for i in range(7)
    ]
    codes = _create(
        client,
        admin,
        voters=1,
        budget=0,
        currency="",
        projects=[],
        ballot={"kind": "survey", "questions": texts},
    )
    _open(client, admin)
    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election(SURVEY, allow_test_keys=True)
    wallet = voter.obtain_credential(info, access_code=codes[0])
    worst = {f"t{i}": "🙂\n" * 999 + "🙂🙂" for i in range(7)}  # 2000 code points each
    assert all(len(text) == 2000 for text in worst.values())
    receipt = voter.cast(info, wallet, {"answers": worst})
    assert receipt["seq"] > 0
