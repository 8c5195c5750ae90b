"""``veche witness``: run an independent tlog-witness (docs/protocol.md §15.4–§15.6).

- ``veche witness keygen --name NAME --out FILE`` writes a new Ed25519 witness key
  (readable by its owner only) and prints its verifier key, which log operators and
  verifiers configure;
- ``veche witness serve --key FILE --db FILE --log ORIGIN=VKEY … --host --port`` answers
  ``POST /add-checkpoint`` for the logs named, keeping its own record in ``--db``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from audit.core.errors import NoteError
from audit.core.note import Verifier, parse_verifier_key


def _keygen(args: argparse.Namespace) -> int:
    from audit.services.witness import generate_key

    try:
        key = generate_key(args.name)
    except NoteError as exc:
        print(f"veche: error: {exc.detail}", file=sys.stderr)
        return 2
    path: Path = args.out
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"veche: error: {path} exists; a witness key is never overwritten", file=sys.stderr)
        return 2
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(key.to_text())
    print(key.vkey)
    return 0


def _parse_logs(values: list[str]) -> dict[str, list[Verifier]]:
    logs: dict[str, list[Verifier]] = {}
    for value in values:
        origin, sep, vkey = value.partition("=")
        if not sep or not origin:
            raise NoteError(f"--log {value!r} is not ORIGIN=VKEY", code="bad_log")
        verifier = parse_verifier_key(vkey)
        logs.setdefault(origin, []).append(verifier)
    return logs


def _serve(args: argparse.Namespace) -> int:
    import logging

    from audit.services.witness import WitnessService, load_key, make_server

    try:
        key = load_key(Path(args.key).read_text(encoding="utf-8"))
        logs = _parse_logs(args.log)
    except OSError as exc:
        print(f"veche: error: cannot read the witness key: {exc}", file=sys.stderr)
        return 2
    except NoteError as exc:
        print(f"veche: error: {exc.detail}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    service = WitnessService(Path(args.db), key, logs)
    server = make_server(service, args.host, args.port)
    host, port = server.server_address[:2]
    where = host.decode() if isinstance(host, bytes) else host
    print(f"witness {key.vkey} listening on http://{where}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def add_witness_command(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "witness", help="run an independent witness that cosigns log checkpoints"
    )
    commands = parser.add_subparsers(dest="witness_command", metavar="TASK")
    commands.required = True
    keygen = commands.add_parser("keygen", help="make a witness key and print its verifier key")
    keygen.add_argument("--name", required=True, help="the witness's name, e.g. witness.example/w1")
    keygen.add_argument("--out", type=Path, required=True, help="where to write the private key")
    keygen.set_defaults(func=_keygen)
    serve = commands.add_parser("serve", help="answer add-checkpoint requests of known logs")
    serve.add_argument("--key", required=True, help="the witness's private key file")
    serve.add_argument("--db", required=True, help="the witness's own SQLite file")
    serve.add_argument(
        "--log",
        action="append",
        default=[],
        required=True,
        metavar="ORIGIN=VKEY",
        help="a log to witness: its origin and note verifier key (repeatable)",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8010)
    serve.set_defaults(func=_serve)
