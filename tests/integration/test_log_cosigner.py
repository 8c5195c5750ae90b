"""The log's side of witnessing (docs/protocol.md §15.7) on the real store and database,
with witnesses over real HTTP: cosignatures stored and served, a witness that lost track
resynchronised through 409, a witness that is down or lies does not count."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from audit.core.cosignature import check_cosignatures, cosign, parse_witness_key
from audit.core.note import parse_note, parse_verifier_key
from audit.services.cosigner import Cosigner, WitnessEndpoint, served_checkpoint
from audit.services.store import BatchLog, LogStore
from audit.services.witness import WitnessService, generate_key, make_server
from kernel.keys import load_authority_key
from kernel.settings import Settings
from veche.kinds import entry_kinds
from veche.setup import initialize

KINDS = entry_kinds()


@pytest.fixture(name="store")
def fx_store(settings: Settings) -> Iterator[LogStore]:
    engine: Engine = initialize(settings)
    yield LogStore(engine, load_authority_key(settings.keys_dir), settings.origin, KINDS)
    engine.dispose()


def _serve(server: ThreadingHTTPServer) -> str:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(name="witnesses")
def fx_witnesses(
    store: LogStore, tmp_path: Path
) -> Iterator[list[tuple[WitnessService, WitnessEndpoint]]]:
    logs = {store.origin: [parse_verifier_key(store.key_info.verifier_key)]}
    servers = []
    made = []
    for name in ("a", "b"):
        service = WitnessService(tmp_path / f"{name}.db", generate_key(f"w.test/{name}"), logs)
        server = make_server(service, "127.0.0.1", 0)
        servers.append(server)
        made.append((service, WitnessEndpoint(_serve(server), parse_witness_key(service.key.vkey))))
    yield made
    for server in servers:
        server.shutdown()
        server.server_close()


def _append(store: LogStore, n: int = 1) -> None:
    def work(_db: Session, log: BatchLog) -> None:
        for i in range(n):
            log.append("notice.published", {"title": f"n{i}", "text": "t", "lang": "en"})

    store.append_now(work)


def _served(store: LogStore, policy: int) -> str:
    with store.read_sessions() as db, db.begin():
        note = served_checkpoint(store, db, policy)
    assert note is not None
    return note


def _size(note: str) -> int:
    return int(parse_note(note).text.split("\n")[1])


def test_cosignatures_are_stored_and_served(
    store: LogStore, witnesses: list[tuple[WitnessService, WitnessEndpoint]]
) -> None:
    store.ensure_genesis()
    endpoints = [endpoint for _service, endpoint in witnesses]
    cosigner = Cosigner(store, endpoints, policy=2)
    try:
        _stored_and_served(store, cosigner, endpoints)
    finally:
        cosigner.stop()


def _stored_and_served(
    store: LogStore, cosigner: Cosigner, endpoints: list[WitnessEndpoint]
) -> None:
    trusted = [e.witness for e in endpoints]
    assert cosigner.cosign_latest() == 2
    _append(store, 3)
    assert cosigner.cosign_latest() == 2
    note = _served(store, 2)
    assert _size(note) == 4 and check_cosignatures(note, trusted, 2).ok
    # A newer checkpoint not yet cosigned: the served one stays the cosigned one.
    _append(store)
    assert _size(_served(store, 2)) == 4
    # With policy 0 the newest is served, with no lines.
    plain = _served(store, 0)
    assert _size(plain) == 5 and check_cosignatures(plain, trusted, 0).cosigned == ()

    # A log server that lost track of what a witness holds (a restart) learns it from
    # the 409 and asks again with the right proof.
    fresh = [WitnessEndpoint(e.url, e.witness) for e in endpoints]
    restarted = Cosigner(store, fresh, policy=2)
    try:
        assert restarted.cosign_latest() == 2
        assert all(e.held == 5 for e in fresh)
        assert check_cosignatures(_served(store, 2), trusted, 2).ok
        # Asked again for the checkpoint they hold, nobody is sent a request.
        rounds = restarted.rounds
        assert restarted.cosign_latest() == 2 and restarted.rounds == rounds
    finally:
        restarted.stop()


def test_a_witness_down_or_lying_does_not_count(
    store: LogStore, witnesses: list[tuple[WitnessService, WitnessEndpoint]]
) -> None:
    store.ensure_genesis()
    (_service, good), _ = witnesses
    liar_key = generate_key("w.test/liar")

    class Liar(BaseHTTPRequestHandler):
        """Answers 200 with a cosignature on another checkpoint text."""

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            line = cosign(liar_key.private_key, "w.test/liar", "other\n1\n" + "A" * 43 + "=\n", 1)
            body = line.line().encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    liar_server = ThreadingHTTPServer(("127.0.0.1", 0), Liar)
    liar = WitnessEndpoint(_serve(liar_server), parse_witness_key(liar_key.vkey))
    down = WitnessEndpoint("http://127.0.0.1:9", parse_witness_key(generate_key("w.test/d").vkey))
    cosigner = Cosigner(store, [good, liar, down], policy=2, timeout_ms=2000)
    try:
        _append(store)
        assert cosigner.cosign_latest() == 1
        note = _served(store, 2)
        check = check_cosignatures(note, [good.witness, liar.witness, down.witness], 2)
        assert not check.ok
        assert check.cosigned == ("w.test/a",)
        assert set(check.missing) == {"w.test/liar", "w.test/d"}
        assert "\u2014 w.test/liar" not in note  # the liar's line was never stored
        assert cosigner.cosigned_size == 0
    finally:
        cosigner.stop()
        liar_server.shutdown()
        liar_server.server_close()
