"""Password policy and argon2id hashing (RFC 9106, through argon2-cffi).

Policy: at least 10 characters, at most 1024, not one of the 30,000 most common
passwords (the list zxcvbn ships), and not the e-mail address or display name.
Hashes are PHC strings (``$argon2id$v=19$m=…,t=…,p=…$salt$hash``); a hash made with
older parameters is replaced at the next successful log-in.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kernel.errors import TooManyRequests
from kernel.markers import N_
from kernel.settings import Settings

MIN_LENGTH = 10


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, email: str = "", display_name: str = "") -> str | None:
    """Why this password may not be used, as a sentence, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return N_("The password must be at least 10 characters long.")
    lowered = password.lower()
    if lowered in _common_passwords():
        return N_("This password is one of the most common ones; choose another.")
    if lowered in {email.lower(), email.lower().split("@")[0], display_name.lower()}:
        return N_("The password must not be your e-mail address or name.")
    if len(set(password)) < 3:
        return N_("The password repeats too few different characters; choose another.")
    return None


def make_hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    )


def verify_password(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# A hash to verify against when the e-mail is unknown, so that timing does not tell
# which addresses have accounts.
@lru_cache(maxsize=4)
def dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("not a real password, only for timing")


class HashingSlots:
    """At most ``size`` argon2 computations at once in this process.

    Each takes ``argon2_memory_cost`` KiB and a core for a while; without a bound, a
    burst of log-ins or registrations would exhaust memory and starve every other
    request. A caller that cannot get a turn within ``wait_seconds`` is answered 429."""

    def __init__(self, size: int, wait_seconds: int) -> None:
        self._slots = threading.BoundedSemaphore(size)
        self.wait_seconds = wait_seconds

    @contextmanager
    def turn(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self.wait_seconds):
            raise TooManyRequests(
                N_("The server is busy checking passwords. Try again in a few seconds."),
                retry_after=5,
            )
        try:
            yield
        finally:
            self._slots.release()
