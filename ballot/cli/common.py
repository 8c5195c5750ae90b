"""What the ballot package's commands share: refusals reported as one line each on
standard error, with exit status 1, never a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ballot.core.errors import BallotCryptoError, ManifestRejected

__all__ = ["EXIT_FAILURE", "Refusal", "fail", "reported"]

EXIT_FAILURE = 1


class Refusal(Exception):
    """A failure to report as one line each (``lines``) and exit status 1."""

    def __init__(self, *lines: str) -> None:
        super().__init__(lines[0] if lines else "")
        self.lines = lines


def fail(lines: tuple[str, ...] | list[str]) -> int:
    for line in lines:
        print(f"veche: error: {line}", file=sys.stderr)
    return EXIT_FAILURE


def reported(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn the refusals of the ballot package into lines; others reach ``veche.cli``."""

    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except Refusal as exc:
            return fail(exc.lines)
        except ManifestRejected as exc:
            where = f"{exc.field}: " if exc.field else ""
            return fail([f"{where}{exc.detail} ({exc.code})"])
        except BallotCryptoError as exc:
            return fail([f"{exc.detail} ({exc.code})"])

    return wrapper
