"""The ``veche`` commands of the composition root: init, admin, serve, demo, export,
backup and restore (the domain packages bring their own: verify, tally, election, vote).

Each reads the ``VECHE_*`` settings (or ``--data-dir``) and imports what it needs only
when it runs.
"""

from __future__ import annotations

import argparse
import getpass
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kernel.settings import Settings, load_settings


class CommandError(Exception):
    """A failure to report in one line."""


def settings_from_args(args: argparse.Namespace, **extra: Any) -> Settings:
    overrides: dict[str, Any] = {"data_dir": getattr(args, "data_dir", None), **extra}
    return load_settings(overrides=overrides)


def _export_settings_env(settings: Settings) -> None:
    """Worker processes of the ASGI server read their settings from the environment."""
    os.environ["VECHE_DATA_DIR"] = str(settings.data_dir.resolve())
    if settings.database_url:
        os.environ["VECHE_DATABASE_URL"] = settings.database_url
    if settings.smtp_host:
        for name in ("smtp_host", "smtp_port", "smtp_starttls", "mail_from", "public_url"):
            value = getattr(settings, name)
            os.environ[f"VECHE_{name.upper()}"] = (
                str(value).lower() if isinstance(value, bool) else str(value)
            )
    if settings.witnesses:
        os.environ["VECHE_WITNESSES"] = ";".join(settings.witnesses)
        os.environ["VECHE_WITNESS_POLICY"] = str(settings.witness_policy)


def _password(flag_value: str | None, what: str) -> str:
    if flag_value:
        return flag_value
    from_env = os.environ.get("VECHE_ADMIN_PASSWORD")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise CommandError(
            f"no password for {what}: pass --password, set VECHE_ADMIN_PASSWORD, "
            "or run in a terminal to be asked"
        )
    first = getpass.getpass(f"Password for {what}: ")
    if first != getpass.getpass("Repeat the password: "):
        raise CommandError("the two passwords differ")
    return first


# --- commands ----------------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    from veche import setup

    settings = settings_from_args(args)
    engine = setup.initialize(settings)
    print(f"Data directory {settings.data_dir} is ready (database and keys).")
    if args.admin_email:
        password = _password(args.admin_password, args.admin_email)
        setup.create_user(
            settings,
            engine,
            setup.NewUser(args.admin_email, password, args.admin_name, "admin"),
        )
        print(f"Administrator {args.admin_email} created.")
    engine.dispose()
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    from veche import setup

    settings = settings_from_args(args)
    engine = setup.initialize(settings)
    password = _password(args.password, args.email)
    setup.create_user(
        settings,
        engine,
        setup.NewUser(args.email, password, args.name, args.role, args.district),
    )
    engine.dispose()
    print(f"Account {args.email} ({args.role}) created.")
    return 0


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """While inside, SIGTERM ends the process by ``SystemExit`` (status 143), through the
    callers' ``with`` and ``finally`` blocks, as Ctrl+C does: the server stops on the
    signal and then raises it again, and Python's default action for SIGTERM would end
    the process on the spot, leaving what it started (the demo's witness processes)
    running."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    import uvicorn

    _export_settings_env(settings)
    print(f"Veche is serving on http://{host}:{port}/ (press Ctrl+C to stop)", flush=True)
    with sigterm_unwinds():
        uvicorn.run(
            "veche.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
        )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from veche import setup

    settings = settings_from_args(args)
    setup.initialize(settings).dispose()
    return _serve(settings, args.host, args.port, args.workers)


def cmd_demo(args: argparse.Namespace) -> int:

    base = load_settings(overrides={"data_dir": args.data_dir})
    data_dir = args.data_dir or (
        Path(os.environ["VECHE_DATA_DIR"]) if "VECHE_DATA_DIR" in os.environ else Path("var/demo")
    )
    from veche.demo import DemoMail

    with DemoMail() as mail:
        # The demo's own SMTP server: confirmation links are sent there and printed.
        settings = base.with_changes(
            data_dir=Path(data_dir),
            public_url=f"http://{args.host}:{args.port}",
            **mail.settings(),
        )
        return _demo(args, settings)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from veche import setup

    if settings.is_sqlite:
        setup.prepare_demo_dir(settings.data_dir)
    engine = setup.initialize(settings)
    users = setup.load_demo(settings, engine)
    engine.dispose()
    verifier_key = None
    if args.voters:
        from veche.demo import run_demo_election

        verifier_key = run_demo_election(settings, args.voters)["verifier_key"]
    print(f"Demo data is in {settings.data_dir}. Log in with any of these accounts:")
    for user in users:
        print(f"  {user.email:<24} {user.role:<10} password: {user.password}")
    url = f"http://{args.host}:{args.port}"
    if verifier_key:
        print("Check the whole demo log and its election yourself, while the server runs:")
        print(f"  veche verify {url} --key '{verifier_key}'")
        print(
            "The Centre election has three trustees; two released their key shares at the "
            f"close. Their files (keep such files secret) are in {settings.data_dir / 'trustees'}."
        )
        print("Boris (boris@demo.veche) can vote in the open Riverside election:")
        print(
            f"  veche vote {url} --election riverside-2026 --approve beach,dog-park "
            "--email boris@demo.veche"
        )
    print(
        f"Mail the demo server sends (e-mail confirmation links) goes to its own SMTP server "
        f"on 127.0.0.1:{settings.smtp_port} and is printed here."
    )
    if args.no_serve:
        return 0
    from veche.demo import DemoWitnesses

    with DemoWitnesses(settings) as witnesses:
        print("Two witnesses, each its own process, cosign the log's checkpoints; require both:")
        key = witnesses.log_vkey
        print(f"  veche verify {url} --key '{key}' {witnesses.verify_flags()}")
        return _serve(
            settings.with_changes(**witnesses.settings_changes()),
            args.host,
            args.port,
            args.workers,
        )


def cmd_export_log(args: argparse.Namespace) -> int:
    from audit.cli import FetchError, fetch_log

    if args.url:
        try:
            size = fetch_log(args.url, args.directory)
        except FetchError as exc:
            raise CommandError(str(exc)) from None
    else:
        size = export_local_log(settings_from_args(args), args.directory)
    print(f"Exported {size:,} entries to {args.directory}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from veche.backup import BackupError, backup

    try:
        made = backup(settings_from_args(args), args.directory)
    except BackupError as exc:
        raise CommandError(str(exc)) from None
    print(
        f"Backed up the {made['engine']} database and keys to {args.directory}; "
        f"the log had {made['size']:,} entries."
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from veche.backup import BackupError, restore

    settings = settings_from_args(args)
    try:
        made = restore(settings, args.directory)
    except BackupError as exc:
        raise CommandError(str(exc)) from None
    print(
        f"Restored into {settings.data_dir}; the log holds the {made['size']:,} entries of "
        "the backup and continues the same chain. Check it with 'veche verify'."
    )
    return 0


def export_local_log(settings: Settings, directory: Path) -> int:
    from audit.core.export import write_export
    from kernel.db import make_engine
    from veche.wiring import log_store

    engine = make_engine(settings)
    store = log_store(settings, engine)
    try:
        with store.read_sessions() as db, db.begin():
            latest = store.latest_checkpoint(db)
            if latest is None:
                raise CommandError("the log is empty; run 'veche init' first")

            def entries() -> Iterator[bytes]:
                for start in range(0, latest.size, 10_000):
                    yield from store.entries(db, start, min(latest.size, start + 10_000))

            write_export(directory, entries(), latest.note, store.key_info)
            return latest.size
    finally:
        engine.dispose()
