"""The witness service on a real SQLite file and over real HTTP (docs/protocol.md §15.5,
§15.6): concurrent requests cannot both advance, refusals keep evidence, keys round-trip."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.core.checkpoint import Checkpoint, sign_checkpoint
from audit.core.cosignature import check_cosignatures, parse_witness_key
from audit.core.errors import NoteError
from audit.core.merkle import MerkleTree, hash_leaf
from audit.core.note import parse_verifier_key, public_key_bytes, verifier_key
from audit.core.witness import render_add_checkpoint
from audit.services.witness import WitnessService, generate_key, load_key, make_server

ORIGIN = "veche.test/log"
LOG_KEY = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)
LOGS = {ORIGIN: [parse_verifier_key(verifier_key(ORIGIN, public_key_bytes(LOG_KEY)))]}


def _tree(*items: bytes) -> MerkleTree:
    tree = MerkleTree()
    for item in items:
        tree.append(hash_leaf(item))
    return tree


def _note(tree: MerkleTree) -> str:
    return sign_checkpoint(LOG_KEY, ORIGIN, Checkpoint(ORIGIN, tree.size, tree.root()))


def _request(tree: MerkleTree, old: int) -> bytes:
    proof = tree.consistency_proof(old, tree.size) if 0 < old < tree.size else []
    return render_add_checkpoint(old, proof, _note(tree))


@pytest.fixture(name="service")
def fx_service(tmp_path: Path) -> WitnessService:
    return WitnessService(tmp_path / "witness.db", generate_key("witness.test/w"), LOGS)


def test_cosignature_verifies_and_state_advances(service: WitnessService) -> None:
    tree = _tree(b"a", b"b")
    status, content_type, body = service.add_checkpoint(_request(tree, 0))
    assert status == 200 and content_type.startswith("text/plain")
    witness = parse_witness_key(service.key.vkey)
    assert check_cosignatures(_note(tree) + body.decode(), [witness], 1).ok
    tree.append(hash_leaf(b"c"))
    assert service.add_checkpoint(_request(tree, 2))[0] == 200
    held = service.held(ORIGIN)
    assert held is not None and held.size == 3 and held.root == tree.root()


def test_concurrent_requests_from_one_state_advance_once(
    service: WitnessService, tmp_path: Path
) -> None:
    base = _tree(*[bytes([i]) for i in range(4)])
    assert service.add_checkpoint(_request(base, 0))[0] == 200
    # A second service on the same file stands for a second witness process.
    other = WitnessService(service.db_path, service.key, LOGS)
    bodies = []
    for extra in range(1, 9):
        tree = _tree(*[bytes([i]) for i in range(4 + extra)])
        bodies.append(_request(tree, 4))
    barrier = threading.Barrier(len(bodies))

    def send(n: int) -> int:
        barrier.wait()
        return (service if n % 2 else other).add_checkpoint(bodies[n])[0]

    with ThreadPoolExecutor(len(bodies)) as pool:
        statuses = list(pool.map(send, range(len(bodies))))
    assert statuses.count(200) == 1, statuses
    assert statuses.count(409) == len(bodies) - 1
    held = service.held(ORIGIN)
    assert held is not None and held.size == 4 + statuses.index(200) + 1


def test_refusals_are_kept_as_evidence(service: WitnessService) -> None:
    tree = _tree(b"a", b"b", b"c")
    assert service.add_checkpoint(_request(tree, 0))[0] == 200
    fork = _tree(b"a", b"X", b"c", b"d")
    status, _ct, _body = service.add_checkpoint(_request(fork, 3))
    assert status == 422
    status, content_type, body = service.add_checkpoint(_request(fork, 0))
    assert (status, content_type, body) == (409, "text/x.tlog.size", b"3\n")
    rows = service._conn().execute("SELECT status FROM witness_evidence ORDER BY id").fetchall()
    assert rows == [(422,), (409,)]
    held = service.held(ORIGIN)
    assert held is not None and held.root == tree.root()
    # A checkpoint the log did not sign is refused without evidence or state change.
    forged = render_add_checkpoint(
        3,
        [],
        sign_checkpoint(
            Ed25519PrivateKey.from_private_bytes(b"\x08" * 32),
            ORIGIN,
            Checkpoint(ORIGIN, 3, fork.root(3)),
        ),
    )
    assert service.add_checkpoint(forged)[0] == 403
    assert service.add_checkpoint(b"garbage")[0] == 400


@pytest.fixture(name="http_url")
def fx_http_url(service: WitnessService) -> Iterator[str]:
    server = make_server(service, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _post(url: str, body: bytes) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_http_interface(service: WitnessService, http_url: str) -> None:
    tree = _tree(b"a")
    status, _ct, body = _post(f"{http_url}/add-checkpoint", _request(tree, 0))
    assert status == 200 and body.startswith("\u2014 witness.test/w ".encode())
    tree.append(hash_leaf(b"b"))
    status, content_type, body = _post(f"{http_url}/add-checkpoint", _request(tree, 0))
    assert (status, content_type, body) == (409, "text/x.tlog.size", b"1\n")
    assert _post(f"{http_url}/other", b"")[0] == 404
    with urllib.request.urlopen(f"{http_url}/", timeout=10) as response:
        assert response.read().decode().strip() == service.key.vkey


def test_key_file_round_trips_and_refuses_tampering() -> None:
    key = generate_key("witness.test/k")
    again = load_key(key.to_text())
    assert again.vkey == key.vkey
    text = key.to_text()
    with pytest.raises(NoteError):
        load_key(text.replace("witness.test/k", "witness.test/j"))
    with pytest.raises(NoteError):
        load_key("not a key")
    with pytest.raises(NoteError):
        generate_key("has space")
