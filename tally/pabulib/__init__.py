"""Pabulib ``.pb`` files (the format of pabulib.org, described in Faliszewski et al.,
"Participatory Budgeting: Data, Tools and Analysis", IJCAI 2023): reading, writing, and
the rules files declare in META."""

from typing import TYPE_CHECKING, Any

from tally.pabulib.declared import DECLARED_RULES, declared_config
from tally.pabulib.file import PabulibFile, PabulibWarning, file_seed
from tally.pabulib.read import read_pb

if TYPE_CHECKING:
    from tally.pabulib.write import write_pb

__all__ = [
    "DECLARED_RULES",
    "PabulibFile",
    "PabulibWarning",
    "declared_config",
    "file_seed",
    "read_pb",
    "write_pb",
]


def __getattr__(name: str) -> Any:
    # the writer is loaded when first asked for: reading a file does not need it
    if name == "write_pb":
        from tally.pabulib.write import write_pb

        globals()[name] = write_pb
        return write_pb
    raise AttributeError(f"module 'tally.pabulib' has no attribute {name!r}")
