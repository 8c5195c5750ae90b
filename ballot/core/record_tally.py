"""The tally of a counted election record (docs/protocol.md §9.4–§9.6): the manifest and
the counted ballots in the tally's terms, the rule's configuration with the manifest's
tie-break and the lot's seed, the outcome, and the ``result.published`` body. Shared,
like ``ballot.core.record``, by the server and by ``veche verify``."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from audit.core.canonical import b64url_decode, b64url_encode
from ballot.core import record_survey, record_trustees
from ballot.core.choices import (
    ApprovalChoices,
    ChoiceChoices,
    Choices,
    CumulativeChoices,
    OrdinalChoices,
)
from ballot.core.config import (
    ApprovalSpec,
    ChoiceSpec,
    CumulativeSpec,
    GreedyThresholdRule,
    MesRule,
    OrdinalSpec,
    Rule,
    SurveySpec,
    is_survey,
    rule_name,
)
from ballot.core.manifest import Manifest, check_lot_secret, lot_seed, trustees_of
from ballot.core.record_types import Count, ElectionRecord
from ballot.core.survey import budget_question
from tally import (
    ApprovalBallot,
    ChoiceBallot,
    CumulativeBallot,
    OrdinalBallot,
    Outcome,
    Project,
    RuleConfig,
    TieBreak,
    compute,
)
from tally import Ballot as TallyBallot
from tally import Election as TallyElection
from tally.survey import SurveyQuestion

# Minor units per currency unit (ISO 4217 exponents): the Method of Equal Shares' add1
# completion raises each voter's budget one currency unit — one rouble, not one kopeck —
# at a time, as equalshares.net describes it.
_ZERO_DECIMALS = frozenset({"JPY", "KRW", "ISK", "CLP", "VND", "XAF", "XOF", "UGX", "PYG"})
_THREE_DECIMALS = frozenset({"BHD", "KWD", "OMR", "JOD", "TND", "LYD", "IQD"})


def currency_unit(currency: str) -> int:
    if not currency or currency in _ZERO_DECIMALS:
        return 1
    return 1000 if currency in _THREE_DECIMALS else 100


def tally_election(manifest: Manifest) -> TallyElection:
    spec = manifest.ballot
    projects = tuple(Project(id=p.id, cost=p.cost, name=p.title) for p in manifest.projects)
    unit = currency_unit(manifest.currency)
    if isinstance(spec, ApprovalSpec):
        return TallyElection(
            projects=projects,
            budget=manifest.budget,
            kind="approval",
            unit=unit,
            min_length=spec.min_projects,
            max_length=spec.max_projects,
            max_sum_cost=spec.max_total_cost,
        )
    if isinstance(spec, CumulativeSpec):
        return TallyElection(
            projects=projects,
            budget=manifest.budget,
            kind="cumulative",
            unit=unit,
            max_sum_points=spec.total_points,
        )
    if isinstance(spec, OrdinalSpec):
        return TallyElection(
            projects=projects,
            budget=manifest.budget,
            kind="ordinal",
            unit=unit,
            min_length=spec.min_length,
            max_length=spec.max_length,
        )
    assert isinstance(spec, ChoiceSpec)
    return TallyElection(
        projects=projects,
        budget=manifest.budget,
        kind="choice",
        unit=unit,
        min_length=spec.min_options,
        max_length=spec.max_options,
    )


def tally_ballot(choices: Choices) -> TallyBallot:
    if isinstance(choices, ApprovalChoices):
        return ApprovalBallot(approve=tuple(choices.approve))
    if isinstance(choices, CumulativeChoices):
        return CumulativeBallot(points=dict(choices.points))
    if isinstance(choices, OrdinalChoices):
        return OrdinalBallot(rank=tuple(choices.rank))
    assert isinstance(choices, ChoiceChoices)
    return ChoiceBallot(choose=tuple(choices.choose))


def rule_config(manifest: Manifest, seed: bytes, rule: Rule | None = None) -> RuleConfig:
    """The tally's configuration of the manifest's rule (or of ``rule``: a survey's
    budget question's, docs/protocol.md §19.3) with the manifest's tie-break."""
    rule = manifest.rule if rule is None else rule
    name = rule_name(rule)
    if manifest.tie_break == "order":
        tie = TieBreak(method="order", order=tuple(p.id for p in manifest.projects))
    else:
        tie = TieBreak(method="cost-votes-lot", seed=seed)
    options: dict[str, Any] = {"rule": name, "tie_break": tie}
    if isinstance(rule, MesRule):
        # add1 raises the per-voter budget until the next raise would overspend, as the
        # cities that use the method computed it (Pabulib's equalshares/add1), so that an
        # election's exported file declares the very computation it was counted with.
        options.update(
            satisfaction=rule.satisfaction,
            completion=rule.completion,
            comparison=rule.comparison,
            add1_exhaustive_stop=False,
        )
        if rule.min_vote_share:
            options["min_vote_share"] = f"{rule.min_vote_share}/100"
    if isinstance(rule, GreedyThresholdRule):
        options["threshold"] = rule.threshold
    seats = getattr(rule, "seats", None)
    if seats is not None:
        options["seats"] = seats
    return RuleConfig(**options)


def lot_for(secret: bytes, counted: Sequence[tuple[int, str, Choices, str]]) -> bytes:
    return lot_seed(secret, [b64url_decode(sig) for _seq, _cred, _choices, sig in counted])


def compute_outcome(record: ElectionRecord, tally_count: Count, lot_secret: bytes) -> Outcome:
    if trustees_of(record.manifest) is not None:
        record_trustees.check_lot_secret(record, lot_secret)
    else:
        check_lot_secret(record.manifest, lot_secret)
    seed = lot_for(lot_secret, tally_count.counted)
    if is_survey(record.manifest):
        questions = _survey_questions(record.manifest, seed)
        return record_survey.survey_outcome(record.manifest, tally_count.counted, questions)
    ballots = [tally_ballot(choices) for _s, _c, choices, _sig in tally_count.counted]
    return compute(tally_election(record.manifest), ballots, rule_config(record.manifest, seed))


def _survey_questions(manifest: Manifest, seed: bytes) -> list[SurveyQuestion]:
    spec = manifest.ballot
    assert isinstance(spec, SurveySpec)
    question = budget_question(spec)
    config = None if question is None else rule_config(manifest, seed, question.rule)
    return record_survey.survey_questions(manifest, config, currency_unit(manifest.currency))


def result_body(
    record: ElectionRecord, tally_count: Count, outcome: Outcome, lot_secret: bytes
) -> dict[str, Any]:
    """The ``result.published`` body without its signature (with ``spoiled`` in a
    trustee election, docs/protocol.md §14.10)."""
    assert record.count_size is not None
    body = {
        "election": record.hash,
        "checkpoint_size": record.count_size,
        "counted": len(tally_count.counted),
        "rule": outcome.rule,
        "options": dict(outcome.options),
        "winners": list(outcome.winners),
        "budget": outcome.budget,
        "spent": outcome.spent,
        "scores": dict(outcome.scores),
        "lot_secret": b64url_encode(lot_secret),
    }
    if trustees_of(record.manifest) is not None:
        body["spoiled"] = record_trustees.spoiled_json(tally_count.spoiled)
    if is_survey(record.manifest):
        # docs/protocol.md §19.3: the budget question's outcome above, every question's here.
        body["rule"] = "survey"
        seed = lot_for(lot_secret, tally_count.counted)
        questions = _survey_questions(record.manifest, seed)
        body["questions"] = record_survey.survey_result(record, tally_count, questions, outcome)
    return body


def ballots_digest(counted: Sequence[tuple[int, str, Choices, str]]) -> str:
    return hashlib.sha256(b"".join(b64url_decode(s) for *_rest, s in counted)).hexdigest()


__all__ = [
    "ballots_digest",
    "compute_outcome",
    "currency_unit",
    "lot_for",
    "result_body",
    "rule_config",
    "tally_ballot",
    "tally_election",
]
