"""The demo's city survey (docs/protocol.md §19): eight questions of every kind, one of
them asked only of residents who cycle, answered by simulated residents through the real
protocol (blind-signed credentials from printed access codes, sealed and signed ballots
cast over HTTP in process, some of them re-cast), closed, one offensive text withheld by
the moderator with its reason in the log, and counted, so that its results page shows a
chart per question, the texts and a cross-tabulation.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from ballot.core.client import VoterClient

__all__ = ["SURVEY_ID", "run_demo_survey", "survey_config"]

SURVEY_ID = "city-survey-2026"

_TRANSPORT = [("bus", "Bus"), ("tram", "Tram"), ("metro", "Metro"), ("car", "Car"),
              ("bike", "Bicycle"), ("walk", "On foot")]  # fmt: skip
_TRANSPORT_WEIGHTS = [22, 14, 30, 18, 9, 7]
_PROBLEMS = [("roads", "Roads and pavements"), ("parks", "Parks and greenery"),
             ("noise", "Noise at night"), ("parking", "Parking"),
             ("lighting", "Street lighting"), ("waste", "Rubbish collection")]  # fmt: skip
_PROBLEM_WEIGHTS = [30, 18, 9, 20, 11, 12]
_PRIORITIES = [("schools", "Schools"), ("clinics", "Clinics"), ("transport", "Public transport"),
               ("housing", "Housing repairs"), ("greenery", "Trees and parks")]  # fmt: skip
_PROJECTS = [("fountain", "Repair the fountain on Market square", 40_000_000),
             ("crossing", "A safe crossing by school No. 3", 25_000_000),
             ("benches", "Benches along the embankment", 10_000_000),
             ("skate", "A skate park in Victory park", 35_000_000),
             ("toilets", "Public toilets at the bus station", 20_000_000)]  # fmt: skip
_PROJECT_WEIGHTS = [14, 30, 22, 12, 18]
_COMMENTS = [
    "Please keep the library open on Sundays.",
    "The bus 12 is always late in the morning.",
    "More trees on Lenin street, it is too hot in summer.",
    "Thank you for asking us!",
    "The courtyard on Sadovaya 5 floods after every rain.",
    "Clean the river banks, please.",
    "We need a pedestrian bridge near the station.",
    "Street lights on Pushkin street do not work since October.",
]
_LANES = [
    "From the station to the university.",
    "Along the embankment.",
    "On Mira avenue, it is dangerous now.",
    "Through Victory park to the centre.",
]
# The one text the moderator withholds, for the demo: it insults a named person.
_RUDE = "The head of the housing office, Ivanov, is an idiot."


def _options(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"id": oid, "title": title} for oid, title in pairs]


QUESTIONS: list[dict[str, Any]] = [
    {
        "kind": "single",
        "id": "transport",
        "text": "How do you usually get around the city?",
        "options": _options(_TRANSPORT),
    },
    {
        "kind": "text",
        "id": "lanes",
        "optional": True,
        "text": "Where is a bike lane missing most?",
        "show_if": {"question": "transport", "any_of": ["bike", "walk"]},
        "max_length": 300,
    },
    {
        "kind": "multiple",
        "id": "problems",
        "text": "Which problems of your district matter most?",
        "options": _options(_PROBLEMS),
        "min_options": 1,
        "max_options": 3,
    },
    {
        "kind": "scale",
        "id": "satisfaction",
        "text": "How satisfied are you with your district?",
        "scale_min": 1,
        "scale_max": 5,
        "low_label": "Not at all",
        "high_label": "Very",
    },
    {
        "kind": "scale",
        "id": "recommend",
        "optional": True,
        "text": "Would you recommend your district to a friend?",
        "scale_min": 0,
        "scale_max": 10,
        "low_label": "Never",
        "high_label": "Certainly",
    },
    {
        "kind": "ranking",
        "id": "priorities",
        "text": "Rank the city's priorities, most important first.",
        "options": _options(_PRIORITIES),
        "min_length": 1,
        "max_length": 3,
    },
    {
        "kind": "budget",
        "id": "projects",
        "text": "Which small projects should the city fund this year?",
        "min_projects": 1,
        "max_projects": 3,
        "max_total_cost": 70_000_000,
        "rule": {"name": "greedy"},
    },
    {
        "kind": "text",
        "id": "comment",
        "optional": True,
        "max_length": 500,
        "text": "Anything else you would like the city to know?",
    },
]


def survey_config(days: int, key_bits: int) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "id": SURVEY_ID,
        "title": "City survey 2026: transport, districts and small projects",
        "district": "centre",
        "budget": 100_000_000,
        "currency": "RUB",
        "projects": [{"id": pid, "title": t, "cost": c} for pid, t, c in _PROJECTS],
        "ballot": {"kind": "survey", "questions": QUESTIONS},
        "rule": {"name": "survey"},
        "window": {
            "opens_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "closes_at": (now + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "eligibility": {"residents": False, "roll": True, "access_codes": True},
        "rsa_key_bits": key_bits,
        "revoting": True,
    }


def answers(rng: random.Random, n: int) -> dict[str, Any]:
    """A simulated resident's answers; the 7th resident writes the text that is withheld."""
    ids = [oid for oid, _t in _TRANSPORT]
    transport = rng.choices(ids, weights=_TRANSPORT_WEIGHTS)[0]
    chosen: dict[str, Any] = {"transport": transport}
    if transport in ("bike", "walk") and rng.random() < 0.8:
        chosen["lanes"] = rng.choice(_LANES)
    problems: list[str] = []
    for pid in rng.choices([p for p, _t in _PROBLEMS], weights=_PROBLEM_WEIGHTS, k=4):
        if pid not in problems and len(problems) < rng.randint(1, 3):
            problems.append(pid)
    chosen["problems"] = problems or ["roads"]
    # Car users are less satisfied: the cross-tabulation has something to show.
    low = 1 if transport == "car" else 2
    chosen["satisfaction"] = min(5, max(1, round(rng.triangular(low, 5, 4))))
    if rng.random() < 0.7:
        chosen["recommend"] = min(10, max(0, round(rng.triangular(0, 10, 7))))
    ranked = [p for p, _t in _PRIORITIES]
    rng.shuffle(ranked)
    if "transport" in ranked and transport in ("bus", "tram", "metro") and rng.random() < 0.5:
        ranked.remove("transport")
        ranked.insert(0, "transport")
    chosen["priorities"] = ranked[: rng.randint(1, 3)]
    picked: list[str] = []
    spent = 0
    costs = {pid: c for pid, _t, c in _PROJECTS}
    for pid in rng.choices([p for p, _t, _c in _PROJECTS], weights=_PROJECT_WEIGHTS, k=4):
        if pid not in picked and len(picked) < 3 and spent + costs[pid] <= 70_000_000:
            picked.append(pid)
            spent += costs[pid]
    chosen["projects"] = picked
    if n == 7:
        chosen["comment"] = _RUDE
    elif rng.random() < 0.04:
        chosen["comment"] = rng.choice(_COMMENTS)
    return {"answers": chosen}


def _ok(response: Any, status: int) -> Any:
    if response.status_code != status:
        raise RuntimeError(f"demo step failed: {response.status_code} {response.text[:300]}")
    return response


def run_demo_survey(
    client: Any,
    session: Callable[[str], dict[str, str]],
    voters: int,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Open the city survey, let ``voters`` simulated residents answer it with printed
    access codes (one in ten answers again), close it, withhold the rude text and count.
    ``session(email)`` gives a demo account's session headers."""
    headers = session("admin@demo.veche")
    _ok(client.post("/api/v1/elections", json=survey_config(7, 2048), headers=headers), 201)
    roll = "voter_id\n" + "".join(f"S{n:05d}\n" for n in range(voters))
    _ok(
        client.post(
            f"/api/v1/elections/{SURVEY_ID}/roll",
            content=roll.encode(),
            headers={**headers, "content-type": "text/csv"},
        ),
        201,
    )
    codes_csv = _ok(
        client.post(f"/api/v1/elections/{SURVEY_ID}/access-codes", headers=headers), 201
    ).text
    by_ref = dict(line.split(",", 1) for line in codes_csv.strip().split("\n")[1:])
    codes = [by_ref[f"S{n:05d}"] for n in range(voters)]
    _ok(client.post(f"/api/v1/elections/{SURVEY_ID}/open", headers=headers), 200)
    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election(SURVEY_ID)
    say(f"Demo: {voters:,} simulated residents answer the {len(QUESTIONS)}-question {SURVEY_ID}…")
    rude_seq: list[int] = []

    def answer(n: int) -> int:
        rng = random.Random(10_000 + n)
        wallet = voter.obtain_credential(info, access_code=codes[n])
        receipt = voter.cast(info, wallet, answers(rng, n))
        if n == 7:
            rude_seq.append(int(receipt["seq"]))
            return 1
        if rng.random() < 0.1:  # a second thought: the last ballot counts
            voter.cast(info, wallet, answers(rng, n))
            return 2
        return 1

    with ThreadPoolExecutor(8) as pool:
        ballots = sum(pool.map(answer, range(voters)))
    headers = session("admin@demo.veche")
    early = {"early": True, "reason": "Demo: the survey ends now so that its results can be shown."}
    _ok(client.post(f"/api/v1/elections/{SURVEY_ID}/close", json=early, headers=headers), 200)
    if rude_seq:  # the moderator withholds it through the texts page: a logged entry
        reason = "Insults a named person (rule 3 of the survey)."
        form = {"seq": str(rude_seq[0]), "question": "comment", "reason": reason}
        moderator = session("moderator@demo.veche")
        posted = client.post(
            f"/elections/{SURVEY_ID}/texts", data=form, headers=moderator, follow_redirects=False
        )
        _ok(posted, 303)
    result: dict[str, Any] = _ok(
        client.post(f"/api/v1/elections/{SURVEY_ID}/tally", headers=headers), 201
    ).json()
    say(f"Demo: {ballots:,} survey ballots cast, {result['counted']:,} counted in {SURVEY_ID}.")
    return result
