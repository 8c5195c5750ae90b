"""The ``veche`` command line.

Every command honours ``VECHE_DATA_DIR`` (or ``--data-dir``) and the other ``VECHE_*``
settings, and reports a wrong option, an unusable setting or an unreachable database
in one line on standard error, with a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from pathlib import Path

    from ballot.cli.admin import LocalServices

EXIT_FAILURE = 1


def _command(name: str) -> Callable[[argparse.Namespace], int]:
    """The handler ``name`` of ``veche.commands``, imported when the command runs: this
    module imports nothing but the standard library, so that a command of a domain
    package (``veche tally``) does not load the settings and what they need."""

    def run(args: argparse.Namespace) -> int:
        from veche import commands

        handler: Callable[[argparse.Namespace], int] = getattr(commands, name)
        return handler(args)

    run.__name__ = run.__qualname__ = name
    return run


# --- parser ------------------------------------------------------------------------------
def _path(text: str) -> Path:
    from pathlib import Path  # loaded by the commands that take a path, not by tally

    return Path(text)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError("a port is at most 65535")
    return value


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=_path,
        default=None,
        help="data directory (default: $VECHE_DATA_DIR or ./var)",
    )


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    parser.add_argument("--workers", type=_positive, default=1, help="server processes (default 1)")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, just that command of the domain packages
    (the others are left out so that their modules are not imported)."""
    from tally.cli import HelpFormatter  # (every command line has ``tally``, or is it)

    parser = argparse.ArgumentParser(
        prog="veche",
        description="Veche: participatory budgeting and e-voting with a public audit log.",
        formatter_class=HelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    domain = _command_registrars()
    if only not in domain:  # a domain command alone needs none of the others
        _add_core_commands(commands, only)
    for name, register in domain.items():
        if only in (None, name):
            register(commands)
    return parser


def _add_core_commands(commands: Any, only: str | None) -> None:
    """The commands of the composition root itself (``bench`` with its measures only when
    ``only`` is ``None`` or ``bench``)."""
    init = commands.add_parser("init", help="create or upgrade the data directory")
    _add_data_dir(init)
    init.add_argument("--admin-email", help="create the first administrator with this e-mail")
    init.add_argument(
        "--admin-password",
        help="the administrator's password (or VECHE_ADMIN_PASSWORD, or asked)",
    )
    init.add_argument("--admin-name", default="Administrator", help="the administrator's name")
    init.set_defaults(func=_command("cmd_init"))

    serve = commands.add_parser("serve", help="serve the web application and the API")
    _add_data_dir(serve)
    _add_server_options(serve)
    serve.set_defaults(func=_command("cmd_serve"))

    demo = commands.add_parser(
        "demo", help="make a fresh demo data directory with demo accounts, then serve it"
    )
    _add_data_dir(demo)
    _add_server_options(demo)
    demo.add_argument("--no-serve", action="store_true", help="only prepare the demo data")
    demo.add_argument(
        "--voters",
        type=int,
        default=2000,
        help="simulated residents who vote in the demo election (default 2000; 0 for none)",
    )
    demo.set_defaults(func=_command("cmd_demo"))

    admin = commands.add_parser("admin", help="administration tasks")
    admin_commands = admin.add_subparsers(dest="admin_command", metavar="TASK")
    admin_commands.required = True
    create = admin_commands.add_parser("create-user", help="create an account of any role")
    _add_data_dir(create)
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True, help="display name")
    create.add_argument(
        "--role",
        default="resident",
        choices=["resident", "moderator", "admin", "auditor", "org_staff", "supervisor"],
    )
    create.add_argument("--district", help="district code (required for residents)")
    create.add_argument(
        "--password", help="the password (or VECHE_ADMIN_PASSWORD, or asked in a terminal)"
    )
    create.set_defaults(func=_command("cmd_create_user"))

    export = commands.add_parser("export", help="export data for auditors and other tools")
    export_commands = export.add_subparsers(dest="export_command", metavar="WHAT")
    export_commands.required = True
    export_log = export_commands.add_parser(
        "log", help="write the log as an exported directory that 'veche verify' reads"
    )
    _add_data_dir(export_log)
    export_log.add_argument("directory", type=_path, help="where to write the export")
    export_log.add_argument(
        "--url", help="export from this server instead of the local data directory"
    )
    export_log.set_defaults(func=_command("cmd_export_log"))

    backup = commands.add_parser(
        "backup", help="copy the database and keys consistently into a new directory"
    )
    _add_data_dir(backup)
    backup.add_argument("directory", type=_path, help="where to write the backup (new)")
    backup.set_defaults(func=_command("cmd_backup"))
    restore = commands.add_parser(
        "restore", help="restore a backup into a new data directory (or empty database)"
    )
    _add_data_dir(restore)
    restore.add_argument("directory", type=_path, help="the backup to restore")
    restore.set_defaults(func=_command("cmd_restore"))

    bench = commands.add_parser("bench", help="measure performance and print figures")
    bench_commands = bench.add_subparsers(dest="bench_command", metavar="WHAT")
    bench_commands.required = True
    if only in (None, "bench"):
        for register in _bench_registrars():
            register(bench_commands)


def _add_verify(subparsers: Any) -> None:
    from audit.cli import add_verify_command
    from ballot.core.verify import verify_check
    from reports.core.verify import verify_reports
    from veche.kinds import entry_kinds

    # The verifier must know every kind of entry a Veche log may hold.
    add_verify_command(subparsers, entry_kinds(), checks=[verify_check, verify_reports])


def _add_tally(subparsers: Any) -> None:
    from tally.cli import add_tally_command

    add_tally_command(subparsers)


@contextmanager
def _open_election_services(args: argparse.Namespace) -> Iterator[LocalServices]:
    """The data directory's election service, built as the server builds it."""
    from ballot.cli.admin import LocalServices
    from veche import setup
    from veche.commands import settings_from_args
    from veche.wiring import build_services

    settings = settings_from_args(args)
    engine = setup.initialize(settings)
    services = build_services(settings, engine=engine)
    try:
        yield LocalServices(services.elections, engine)
    finally:
        services.close()


def _add_election(subparsers: Any) -> None:
    from ballot.cli.admin import add_election_command

    add_election_command(subparsers, _open_election_services)


def _add_vote(subparsers: Any) -> None:
    from ballot.cli.vote import add_vote_command

    add_vote_command(subparsers)


def _add_witness(subparsers: Any) -> None:
    from audit.witness_cli import add_witness_command

    add_witness_command(subparsers)


def _add_trustee(subparsers: Any) -> None:
    from ballot.cli.trustee import add_trustee_command

    add_trustee_command(subparsers)


@contextmanager
def _open_reports(args: argparse.Namespace) -> Iterator[tuple[Any, Any]]:
    """The data directory's report service, built as the server builds it."""
    from veche import setup
    from veche.commands import settings_from_args
    from veche.wiring import build_services

    settings = settings_from_args(args)
    engine = setup.initialize(settings)
    services = build_services(settings, engine=engine)
    try:
        yield services.reports, services.sessions
    finally:
        services.close()


def _add_reports(subparsers: Any) -> None:
    from reports.cli import add_reports_command

    add_reports_command(subparsers, _open_reports, _add_data_dir)


def _command_registrars() -> dict[str, Callable[[Any], None]]:
    """Commands contributed by the domain packages, each imported only when it is asked
    for (``veche tally`` loads the counting rules, not the web stack)."""
    return {
        "verify": _add_verify,
        "tally": _add_tally,
        "election": _add_election,
        "vote": _add_vote,
        "witness": _add_witness,
        "trustee": _add_trustee,
        "reports": _add_reports,
    }


def _bench_registrars() -> list[Callable[[Any], None]]:
    """``veche bench`` subjects."""
    from veche.bench.cast import add_cast_bench
    from veche.bench.commands import add_log_bench, add_verify_bench
    from veche.bench.load import add_load_bench
    from veche.bench.reports import add_reports_bench
    from veche.bench.tally import add_tally_bench
    from veche.bench.trustees import add_trustees_bench
    from veche.bench.witness import add_witness_bench

    return [
        add_log_bench,
        add_tally_bench,
        add_cast_bench,
        add_verify_bench,
        add_load_bench,
        add_witness_bench,
        add_trustees_bench,
        add_reports_bench,
    ]


def _command_named(argv: Sequence[str]) -> str | None:
    """The command word of ``argv`` (its first word that is not an option), if any."""
    return next((word for word in argv if not word.startswith("-")), None)


def _error_line(exc: Exception) -> str | None:
    """The one line to print for a failure a user can act on; ``None`` for a bug."""
    from sqlalchemy.exc import SQLAlchemyError

    from kernel.db import DatabaseUnavailable, describe_db_error
    from kernel.errors import DomainError
    from kernel.keys import KeyFileError
    from kernel.settings import SettingsError
    from veche.commands import CommandError

    if isinstance(exc, SettingsError | KeyFileError | DatabaseUnavailable | CommandError):
        return str(exc)
    if isinstance(exc, DomainError):
        return exc.detail
    if isinstance(exc, SQLAlchemyError):
        url = os.environ.get("VECHE_DATABASE_URL", "the database")
        return describe_db_error(url, exc)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    named = _command_named(words)
    if named != "tally":  # the tally uses neither library: it need not load logging
        import logging

        # Libraries' routine chatter (each HTTP request, each migration) is not for users.
        for name in ("httpx", "alembic"):
            logging.getLogger(name).setLevel(logging.WARNING)
    known = set(_command_registrars()) | {"bench"}
    parser = build_parser(only=named if named in known else None)
    args = parser.parse_args(words)
    try:
        result: int = args.func(args)
        return result
    except Exception as exc:
        line = _error_line(exc)
        if line is None:
            raise
        print(f"veche: error: {line}", file=sys.stderr)
    except KeyboardInterrupt:
        print("veche: interrupted", file=sys.stderr)
    return EXIT_FAILURE


# Commands that hold nothing to clean up when they return: they read files and write
# their result to standard output and error, and start neither threads nor processes.
_ENDS_AT_ONCE = {"tally"}


def entry() -> NoReturn:
    """The ``veche`` console script: ``main`` on the command line, then exit with its status.

    After a command of ``_ENDS_AT_ONCE`` the process ends as soon as its output is
    flushed, without Python's teardown, which frees every object of every imported
    module one by one and takes about a tenth of a ``veche tally`` (8 of 95 ms on a
    20,000-voter file). Other commands (the server, the database, key files) end the
    ordinary way, running their ``with`` blocks and exit handlers."""
    code = main()
    if _command_named(sys.argv[1:]) in _ENDS_AT_ONCE:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # a closed pipe: let the ordinary exit report it
            sys.exit(code)
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    raise SystemExit(main())
