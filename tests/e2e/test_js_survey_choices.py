"""A survey's answers (docs/protocol.md §19.2) judged in Chromium by ``veche-crypto.js``'s
``validateChoices`` exactly as Python's ``validate_choices`` judges them.

A table names every refusal code on the survey of the page tests, with the code written
down (so that both sides can be wrong only in the same way the protocol says), and checks
that the first failure in the survey's order is the one named. Then generated surveys
(every question kind, optional and conditional questions, a budget question): the
answer sets Python accepts are accepted in the browser, and each mutation of one is
refused by both with the same code.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ballot.core.choices import BallotRejected, validate_choices
from ballot.core.config import ElectionConfig, parse_config
from ballot.core.survey import (
    BudgetQuestion,
    MultipleQuestion,
    RankingQuestion,
    ScaleQuestion,
    SingleQuestion,
    SurveySpec,
    TextQuestion,
)
from ballot.core.survey_choices import is_shown
from tests.strategies.survey import surveys_with_answers
from tests.support.js_harness import Page, harness_page
from tests.support.surveys import survey_config

pytestmark = pytest.mark.browser

CONFIG = parse_config(survey_config())
VALID: dict[str, Any] = {
    "cycle": "yes",
    "lanes": "Along the river",
    "parks": 7,
    "priorities": ["roads", "parks"],
    "transport": ["tram", "bus"],
    "projects": ["library", "playground"],
    "comment": "Более зелени 🙂\nи скамеек",
}
JUDGE = """
const outcome = [];
for (const choices of a.cases) {
  try { V.validateChoices(a.election, choices); outcome.push("ok"); }
  catch (e) { outcome.push(e.code || e.name); }
}
return outcome;
"""


@pytest.fixture(name="js", scope="module")
def fx_js(browser: Any) -> Iterator[Page]:
    with harness_page(browser) as page:
        yield page


def python_code(config: ElectionConfig, choices: object) -> str:
    try:
        validate_choices(config, choices)
    except BallotRejected as exc:
        return exc.code
    return "ok"


def js_codes(js: Page, config: ElectionConfig, cases: list[object]) -> list[str]:
    codes: list[str] = js.run(JUDGE, {"election": msgspec.to_builtins(config), "cases": cases})
    return codes


def changed(**answers: Any) -> dict[str, Any]:
    """The valid answers with some replaced (``None``: left out)."""
    out = {**VALID, **answers}
    return {"answers": {k: v for k, v in out.items() if v is not None}}


TABLE: list[tuple[str, object]] = [
    ("ok", {"answers": VALID}),
    ("ok", changed(comment=None)),  # optional
    ("ok", changed(cycle="no", lanes=None)),  # the condition's question hidden
    ("ok", changed(comment="\ufeffA mark Python does not strip")),
    ("ok", changed(lanes="🙂" * 200)),  # 200 code points, 400 UTF-16 units
    ("ok", changed(parks=0)),
    ("ok", changed(transport=["metro"])),
    ("malformed_choices", {"answers": ["cycle"]}),
    ("malformed_choices", {"answers": None}),
    ("malformed_choices", {"answers": VALID, "nonce": "x"}),
    ("malformed_choices", []),
    ("wrong_ballot_kind", {"approve": ["park"]}),
    ("unknown_question", changed(lanes=None, weather="sunny")),
    ("unknown_question", changed(constructor="x")),
    ("hidden_question_answered", changed(cycle="no")),
    ("missing_answer", changed(parks=None)),
    ("missing_answer", changed(lanes=None)),
    ("missing_answer", changed(cycle=None)),  # lanes is hidden then; cycle is required
    ("bad_answer", changed(cycle=["yes"])),
    ("bad_answer", changed(parks="7")),
    ("bad_answer", changed(parks=True)),
    ("bad_answer", changed(parks=7.5)),
    ("bad_answer", changed(priorities="roads")),
    ("bad_answer", changed(priorities=["roads", 1])),
    ("bad_answer", changed(transport={"bus": 1})),
    ("bad_answer", changed(lanes=["Along the river"])),
    ("bad_answer", changed(projects="park")),
    ("unknown_option", changed(cycle="maybe")),
    ("unknown_option", changed(priorities=["roads", "toString"])),
    ("unknown_option", changed(transport=["taxi"])),
    ("duplicate_option", changed(priorities=["roads", "roads"])),
    ("duplicate_option", changed(transport=["bus", "tram", "bus"])),
    ("too_few_options", changed(priorities=[])),
    ("too_few_options", changed(transport=[])),
    ("too_many_options", changed(priorities=["roads", "parks", "schools"])),
    ("out_of_scale", changed(parks=11)),
    ("out_of_scale", changed(parks=-1)),
    ("out_of_scale", changed(parks=2**53 + 2)),
    ("bad_text", changed(lanes="")),
    ("bad_text", changed(lanes=" Along the river")),
    ("bad_text", changed(lanes="Along the river\n")),
    ("bad_text", changed(lanes="Along\u00a0the river\u3000")),
    ("bad_text", changed(lanes="Along\tthe river")),
    ("bad_text", changed(lanes="Along the river\r\nand the park")),
    ("bad_text", changed(lanes="Along\u0000the river")),
    ("bad_text", changed(lanes="Along the \u0085river")),
    ("bad_text", changed(lanes="Along the \u007friver")),
    ("text_too_long", changed(lanes="🙂" * 201)),
    ("text_too_long", changed(comment="x" * 301)),
    ("unknown_project", changed(projects=["stadium"])),
    ("duplicate_project", changed(projects=["park", "park"])),
    ("too_few_projects", changed(projects=[])),
    ("too_many_projects", changed(projects=["park", "library", "playground"])),
    ("over_budget", changed(projects=["park", "library"])),
    # The first failure in the survey's order is the refusal.
    ("unknown_question", changed(weather="sunny", parks=99)),
    ("hidden_question_answered", changed(cycle="no", parks=99)),
    ("out_of_scale", changed(parks=99, priorities=[], comment=" ")),
    ("too_few_options", changed(priorities=[], projects=["stadium"])),
]


def test_every_refusal_code_is_the_same_in_the_browser_and_in_python(js: Page) -> None:
    expected = [code for code, _ in TABLE]
    cases = [choices for _, choices in TABLE]
    assert [python_code(CONFIG, choices) for choices in cases] == expected
    assert js_codes(js, CONFIG, cases) == expected


# --- generated surveys ------------------------------------------------------------------

LEFT_OUT = object()  # a mutation that leaves the question out


def _mutations(config: ElectionConfig, answers: dict[str, Any]) -> list[tuple[str, object]]:
    """Changes of a valid answer set, ``(question id, its new answer or LEFT_OUT)``,
    aimed at the checks of §19.2."""
    spec = config.ballot
    assert isinstance(spec, SurveySpec)
    out: list[tuple[str, object]] = [("zz", "x")]
    shown: dict[str, Any] = {}
    for q in spec.questions:
        qid = q.id
        visible = is_shown(q, shown)
        bad: list[object] = []
        if qid in answers:
            value: Any = answers[qid]
            shown[qid] = value
            bad += [LEFT_OUT, None, {"x": 1}]
            if isinstance(value, list):
                bad += [
                    [*value, "nope"],
                    value[1:],
                    value + value[:1],
                    [*value, 3],
                    ",".join(value),
                ]
            if isinstance(q, SingleQuestion):
                bad += ["nope", [value]]
            if isinstance(q, BudgetQuestion):
                bad += [[p.id for p in config.projects], []]
            if isinstance(q, MultipleQuestion | RankingQuestion):
                bad += [[o.id for o in q.options], []]
            if isinstance(q, ScaleQuestion):
                bad += [q.scale_min - 1, q.scale_max + 1, True, "3", 2.5]
            if isinstance(q, TextQuestion):
                bad += [
                    "",
                    f" {value}",
                    f"{value}\n",
                    f"{value}\u2028",
                    f"\ufeff{value}",
                    f"{value[:1]}\u0007{value[1:]}",
                    f"{value[:1]}\r\n{value[1:]}",
                    "🙂" * q.max_length,
                    "🙂" * (q.max_length + 1),
                    "ё" * (q.max_length + 1),
                    ["a"],
                ]
        elif not visible:
            bad += ["o0", ["o0"]]
        else:
            bad += ["o1", ["o1"], 3, "Some words"]
        out += [(qid, answer) for answer in bad]
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_answers_and_their_mutations_are_judged_alike(
    js: Page, data: st.DataObject
) -> None:
    config, choices = data.draw(surveys_with_answers())
    cases: list[object] = [choices]
    for qid, answer in _mutations(config, choices["answers"]):
        mutated = copy.deepcopy(choices["answers"])
        if answer is LEFT_OUT:
            mutated.pop(qid)
        else:
            mutated[qid] = answer
        cases.append({"answers": mutated})
    cases.append({"answers": list(choices["answers"])})
    cases.append({"choose": []})
    expected = [python_code(config, case) for case in cases]
    assert expected[0] == "ok"
    assert js_codes(js, config, cases) == expected


def test_strip_space_is_pythons_strip(js: Page) -> None:
    """``stripSpace`` (what the ballot page trims a text with) strips what Python's
    ``str.strip()`` strips, every white space character and nothing else."""
    spaces = [chr(c) for c in range(0x3001) if chr(c).isspace()] + ["\u3000"]
    others = ["\ufeff", "\u200b", "\u180e", "a", "\u00ad", "\u0000"]
    cases = [f"{c}x{c}" for c in spaces + others] + [" \u0085\u001c", "", "x y"]
    got = js.run("return a.map((t) => V.stripSpace(t));", cases)
    assert got == [case.strip() for case in cases]
