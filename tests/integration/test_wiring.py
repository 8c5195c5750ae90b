"""The typed wiring: every service a handler's state declares is built, with its type."""

from __future__ import annotations

import sys
import typing

from litestar import Litestar

from audit.http.state import LogState
from ballot.http.state import ElectionState
from kernel.web import KernelState
from proposals.http.state import ProposalState
from reports.http.state import ReportState
from veche.kinds import entry_kinds


def _declared(cls: type) -> dict[str, object]:
    """The attributes ``cls`` and its bases up to ``KernelState`` declare, evaluated."""
    hints: dict[str, object] = {}
    for klass in reversed(cls.__mro__):
        if issubclass(klass, KernelState):
            namespace = vars(sys.modules[klass.__module__])
            for name, annotation in vars(klass).get("__annotations__", {}).items():
                hints[name] = eval(annotation, namespace)  # the module's own names
    return hints


def test_every_declared_state_attribute_is_built_with_its_type(app: Litestar) -> None:
    state = app.state
    for cls in (KernelState, LogState, ElectionState, ProposalState, ReportState):
        typed = cls(state)
        for name, hint in _declared(cls).items():
            value = getattr(typed, name)
            origin = typing.get_origin(hint) or hint
            if isinstance(origin, type) and origin.__module__ != "collections.abc":
                assert isinstance(value, origin), f"{cls.__name__}.{name} is {type(value)}"
            else:
                assert callable(value), f"{cls.__name__}.{name} is not callable"


def test_the_log_knows_every_kind_of_every_package(app: Litestar) -> None:
    kinds = LogState(app.state).kinds
    expected = {name for name, _body in entry_kinds().items()}
    assert {name for name, _body in kinds.items()} == expected
    # The log's own, an election's and a proposal's kinds, so the verifier knows them all.
    assert {"log.genesis", "ballot.cast", "pledge.made", "report.received"} <= expected
    assert LogState(app.state).log_store.kinds is kinds
