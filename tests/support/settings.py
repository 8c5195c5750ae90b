"""Settings of the suite's deployments: cheap argon2 and small RSA keys, set through
configuration, as a deployment would set them."""

from __future__ import annotations

FAST: dict[str, int | bool] = {
    "argon2_time_cost": 1,
    "argon2_memory_cost": 8,
    "argon2_parallelism": 1,
    "allow_test_keys": True,
}

# The same, as the environment of a ``veche`` process.
FAST_ENV: dict[str, str] = {
    f"VECHE_{name.upper()}": str(value).lower() if isinstance(value, bool) else str(value)
    for name, value in FAST.items()
}
