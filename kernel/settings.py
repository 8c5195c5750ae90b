"""Deployment settings.

Sources, later ones winning: the defaults below, an optional TOML file (the path in
``VECHE_CONFIG``, or ``<data dir>/veche.toml`` when it exists), then environment
variables ``VECHE_<FIELD>`` (for example ``VECHE_DATA_DIR``, ``VECHE_DATABASE_URL``,
``VECHE_ARGON2_TIME_COST``). The data directory holds the SQLite database, the keys and
uploads; it defaults to ``./var``.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

ENV_PREFIX = "VECHE_"


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names it."""


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    data_dir: Path = Path("var")
    # Empty means the embedded SQLite database in the data directory.
    database_url: str = ""
    # The audit log's origin line (C2SP tlog-checkpoint); a host-like name of this deployment.
    origin: str = "veche.localhost/log"
    default_lang: str = "en"
    # The municipality's time zone (IANA name): staff type dates and times in it, and
    # pages and letters show them in it; the log keeps UTC.
    time_zone: str = "Europe/Moscow"
    # argon2id parameters (RFC 9106); tests lower them through configuration.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    argon2_parallelism: int = 4
    session_days: int = 14
    cookie_secure: bool = False
    max_body_bytes: int = 1_048_576
    login_max_failures: int = 5
    login_ip_max_failures: int = 50
    login_window_seconds: int = 900
    # Every log-in attempt, failed or not: per client address and over all addresses,
    # in the same window (429 with Retry-After beyond).
    login_ip_max_attempts: int = 300
    login_max_attempts: int = 5000
    # Registrations per client address and over all addresses, per registration window.
    register_ip_max: int = 20
    register_max: int = 1000
    register_window_seconds: int = 3600
    # Password hashes computed at once (argon2 takes memory_cost KiB each); a request
    # that waits longer than argon2_wait_seconds for a turn is answered 429.
    argon2_max_concurrent: int = 4
    argon2_wait_seconds: int = 10
    # Outgoing mail (kernel.mail): e-mail confirmation links. An empty smtp_host sends
    # nothing and writes the message to the server's log instead (development only).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = "veche@localhost"
    # The address residents reach this deployment at: links in e-mail start with it
    # (never with the Host header a request brought).
    public_url: str = "http://localhost:8000"
    # How long a confirmation link stays valid, and how many may be sent per account
    # per registration window.
    email_link_hours: int = 48
    email_resend_max: int = 5
    # Accept 1024-bit election keys: only for the test suite, which makes many elections.
    allow_test_keys: bool = False
    # Per-account limits (kernel/limits.py), each in a sliding window; 0 turns one off.
    proposal_drafts_per_day: int = 20
    uploads_per_hour: int = 60
    # Reports: an answer left unrated this many days closes on its own.
    report_close_after_days: int = 14
    pledges_per_hour: int = 30
    # Witnesses of the audit log (docs/protocol.md §15.7), each "URL VKEY": the witness's
    # add-checkpoint prefix and its cosignature/v1 verifier key. The log asks them to
    # cosign its newest checkpoint at most every witness_interval_ms, and serves as its
    # latest the newest checkpoint that witness_policy of them cosigned. In TOML a list
    # of strings; in the environment the entries separated by ";".
    witnesses: tuple[str, ...] = ()
    witness_policy: int = 0
    witness_interval_ms: int = 200
    # 0: a ballot's receipt carries the checkpoint of its batch. More: the answer to a
    # cast waits up to this long for a checkpoint the policy's witnesses cosigned that
    # covers the ballot, and carries that one (the batch's if none comes in time).
    witness_receipt_wait_ms: int = 0

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "veche.db"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.sqlite_path}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    def with_changes(self, **changes: Any) -> Settings:
        return msgspec.structs.replace(self, **changes)


_FIELDS = {f.name: f for f in msgspec.structs.fields(Settings)}


def _coerce(name: str, raw: Any) -> Any:
    """Turn a TOML or environment value into the field's type, or say what is wrong."""
    field = _FIELDS[name]
    kind = field.type
    try:
        if kind is Path or kind == "Path":
            return Path(str(raw))
        if kind is bool or kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError
        if str(kind) in {"tuple[str, ...]", "typing.Tuple[str, ...]"}:
            items = raw if isinstance(raw, list) else str(raw).replace("\n", ";").split(";")
            return tuple(" ".join(str(item).split()) for item in items if str(item).strip())
        if kind is int or kind == "int":
            if isinstance(raw, bool):
                raise ValueError
            return int(raw)
        return str(raw)
    except ValueError:
        raise SettingsError(f"setting {name!r} has an invalid value {raw!r}") from None


def load_settings(
    env: Mapping[str, str] | None = None, *, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Read settings from the TOML file and the environment; ``overrides`` win over both."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    env_values = {
        key[len(ENV_PREFIX) :].lower(): value
        for key, value in env.items()
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX) :].lower() in _FIELDS
    }
    data_dir = Path(
        (overrides or {}).get("data_dir") or env_values.get("data_dir") or Settings().data_dir
    )
    config_path = env.get("VECHE_CONFIG")
    toml_path = Path(config_path) if config_path else data_dir / "veche.toml"
    if config_path and not toml_path.is_file():
        raise SettingsError(f"the configuration file {toml_path} does not exist")
    if toml_path.is_file():
        try:
            table = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(
                f"the configuration file {toml_path} is not valid TOML: {exc}"
            ) from None
        for key, raw in table.items():
            if key not in _FIELDS:
                raise SettingsError(f"unknown setting {key!r} in {toml_path}")
            values[key] = _coerce(key, raw)
    for key, raw in env_values.items():
        values[key] = _coerce(key, raw)
    for key, raw in (overrides or {}).items():
        if raw is not None:
            values[key] = _coerce(key, raw) if not isinstance(raw, Path) else raw
    settings = Settings(**values)
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    if settings.default_lang not in {"en", "ru"}:
        raise SettingsError("setting 'default_lang' must be 'en' or 'ru'")
    if settings.max_body_bytes < 1024:
        raise SettingsError("setting 'max_body_bytes' must be at least 1024")
    try:
        ZoneInfo(settings.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"setting 'time_zone' must be a time zone name such as Europe/Moscow, "
            f"not {settings.time_zone!r}"
        ) from None
    url = settings.effective_database_url
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise SettingsError("setting 'database_url' must be a sqlite:// or postgresql:// URL")
    positive = (
        "argon2_time_cost",
        "argon2_memory_cost",
        "argon2_parallelism",
        "session_days",
        "argon2_max_concurrent",
        "argon2_wait_seconds",
        "login_ip_max_attempts",
        "login_max_attempts",
        "register_ip_max",
        "register_max",
        "register_window_seconds",
        "email_link_hours",
        "email_resend_max",
    )
    for name in positive:
        if getattr(settings, name) < 1:
            raise SettingsError(f"setting {name!r} must be a positive integer")
    for name in ("proposal_drafts_per_day", "uploads_per_hour", "pledges_per_hour"):
        if getattr(settings, name) < 0:
            raise SettingsError(f"setting {name!r} must be 0 (no limit) or more")
    if not 0 < settings.smtp_port < 65536:
        raise SettingsError("setting 'smtp_port' must be a TCP port (1-65535)")
    if not settings.public_url.startswith(("http://", "https://")):
        raise SettingsError("setting 'public_url' must start with http:// or https://")
    if "@" not in settings.mail_from or any(c in settings.mail_from for c in "\r\n"):
        raise SettingsError("setting 'mail_from' must be one e-mail address")
    for entry in settings.witnesses:
        fields = entry.split(" ")
        if len(fields) != 2 or not fields[0].startswith(("http://", "https://")):
            raise SettingsError(
                f"setting 'witnesses': {entry!r} is not 'URL VKEY' (an http(s) URL, a space "
                "and the witness's verifier key)"
            )
    if not 0 <= settings.witness_policy <= len(settings.witnesses):
        raise SettingsError(
            "setting 'witness_policy' must be between 0 and the number of witnesses "
            f"({len(settings.witnesses)})"
        )
    if settings.witness_interval_ms < 1:
        raise SettingsError("setting 'witness_interval_ms' must be a positive integer")
    if settings.witness_receipt_wait_ms < 0:
        raise SettingsError("setting 'witness_receipt_wait_ms' must be 0 (no wait) or more")
    loopback = settings.smtp_host in {"localhost", "127.0.0.1", "::1"}
    if settings.smtp_user and not settings.smtp_starttls and not loopback:
        raise SettingsError(
            "setting 'smtp_user' needs 'smtp_starttls' (the password would cross the "
            "network in clear)"
        )


def add_data_dir_option(parser: argparse.ArgumentParser) -> None:
    """The ``--data-dir`` option of every command that works on a data directory
    (``load_settings(overrides={"data_dir": args.data_dir})`` reads it)."""
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data directory (default: $VECHE_DATA_DIR or ./var)",
    )
