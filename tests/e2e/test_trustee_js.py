"""The trustee's cryptography in the browser (``kernel/static/js/veche-trustee.js``)
against the Python core (``ballot.core.dkg``, ``ballot.core.threshold``,
``ballot.cli.trustee_file``), in Debian's Chromium (docs/protocol.md §14, §17.7, §17.8).

The same randomness gives the same dealing bytes in both (the HPKE ephemeral keys pinned
on both sides), each side accepts the other's dealings and opens the same key share,
acknowledgements and released key shares are byte for byte the same, a wrong share or a
forged dealing is caught and named by the browser, and a trustee's file made by one is
read by the other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519

from audit.core.canonical import b64url_decode, b64url_encode, canonical_bytes
from ballot.cli.trustee_file import load_identity, new_identity, save_identity
from ballot.core import dkg, group, threshold
from tests.strategies.ballot import seeded_rng
from tests.support import hpke_model
from tests.support.js_harness import Page
from tests.support.paths import ROOT
from tests.support.trustees import make_identities, run_ceremony

pytestmark = pytest.mark.browser

STATIC = ROOT / "kernel" / "static"
ORIGIN = "https://veche.test"
HARNESS = """<!doctype html>
<html lang="en"><meta charset="utf-8"><title>veche-trustee harness</title>
<script type="module">
import * as T from "/static/js/veche-trustee.js";
import * as V from "/static/js/veche-crypto.js";
window.T = T;
window.V = V;
window.attempt = async (f) => {
  try { return { value: await f() }; }
  catch (e) { return { error: e.code || e.name, trustee: e.trustee, detail: String(e.message) }; }
};
window.ready = true;
</script></html>
"""
ELECTION = "centre-2026"
# JS helpers: bytes from hex handed out in order, like tests.strategies.ballot.seeded_rng.
PRELUDE = """
const hex = (h) => V.hexDecode(h);
const stream = (h) => { const all = hex(h); let at = 0;
  return (n) => { const out = all.slice(at, at + n); at += n; return out; }; };
"""


def _serve(route: Any) -> None:
    path = route.request.url.removeprefix(ORIGIN).split("?")[0]
    if path == "/":
        route.fulfill(status=200, body=HARNESS, content_type="text/html; charset=utf-8")
    elif path.startswith("/static/") and (STATIC / path.removeprefix("/static/")).is_file():
        body = (STATIC / path.removeprefix("/static/")).read_text("utf-8")
        route.fulfill(status=200, body=body, content_type="text/javascript")
    else:
        route.fulfill(status=404, body="{}", content_type="application/json")


@pytest.fixture(name="js", scope="module")
def fx_js(browser: Any) -> Iterator[Page]:
    context = browser.new_context()
    context.route(f"{ORIGIN}/**", _serve)
    page = Page(context.new_page(), scope=f"const T = window.T, V = window.V; {PRELUDE}")
    page.page.goto(ORIGIN + "/")
    page.page.wait_for_function("window.ready === true")
    try:
        yield page
        assert page.errors == []
    finally:
        context.close()


class PinnedSuite:
    """The ballots' HPKE suite with the ephemeral keys given in order (a known answer)."""

    def __init__(self, ephemerals: list[bytes]) -> None:
        self.ephemerals = list(ephemerals)

    def encrypt(self, plaintext: bytes, box: x25519.X25519PublicKey, *, info: bytes) -> bytes:
        return hpke_model.seal_base(box.public_bytes_raw(), info, plaintext, self.ephemerals.pop(0))


def _stream(seed: bytes, length: int) -> bytes:
    return seeded_rng(seed)(length)


def _bytes_rng(data: bytes) -> Callable[[int], bytes]:
    at = 0

    def rng(n: int) -> bytes:
        nonlocal at
        at += n
        return data[at - n : at]

    return rng


def _members(n: int, seed: bytes = b"members") -> list[Any]:
    return make_identities(seeded_rng(seed), n)


def _js_dealing(
    js: Page, ceremony: bytes, dealer: int, k: int, ids: list[Any], rnd: bytes, eph: list[bytes]
) -> Any:
    return js.run(
        """
        const eph = a.eph.map(hex);
        return T.makeDealing(hex(a.ceremony), a.dealer, a.k, a.members, hex(a.seed),
          { rng: stream(a.rnd), ephemeral: (j) => eph[j - 1] });
        """,
        {
            "ceremony": ceremony.hex(),
            "dealer": dealer,
            "k": k,
            "members": dkg.members_json([i.member for i in ids]),
            "seed": ids[dealer - 1].signing_private.hex(),
            "rnd": rnd.hex(),
            "eph": [e.hex() for e in eph],
        },
    )


@pytest.mark.parametrize(("k", "n"), [(1, 1), (2, 3), (3, 5)])
def test_the_same_randomness_gives_the_same_dealing_bytes(
    js: Page, monkeypatch: pytest.MonkeyPatch, k: int, n: int
) -> None:
    ids = _members(n)
    members = [i.member for i in ids]
    ceremony = dkg.ceremony_id(ELECTION, k, members)
    assert (
        js.run(
            "return V.hexEncode(T.ceremonyId(a.e, a.k, a.m));",
            {"e": ELECTION, "k": k, "m": dkg.members_json(members)},
        )
        == ceremony.hex()
    )
    for dealer in range(1, n + 1):
        rnd = _stream(b"dealing %d" % dealer, 64 * (k + 1))
        eph = [_stream(b"eph %d %d" % (dealer, j), 32) for j in range(1, n + 1)]
        monkeypatch.setattr(dkg, "SUITE", PinnedSuite(eph))
        python = dkg.make_dealing(
            ceremony, dealer, k, members, ids[dealer - 1].signing_private, _bytes_rng(rnd)
        )
        browser = _js_dealing(js, ceremony, dealer, k, ids, rnd, eph)
        assert canonical_bytes(browser) == canonical_bytes(python)


def test_each_side_accepts_the_others_dealings_and_opens_the_same_share(js: Page) -> None:
    k, n = 2, 3
    ids = _members(n, b"mixed")
    members = [i.member for i in ids]
    ceremony = dkg.ceremony_id(ELECTION, k, members)
    # Dealer 2 deals in the browser, 1 and 3 in Python.
    rng = seeded_rng(b"python dealers")
    dealings = [
        dkg.make_dealing(ceremony, 1, k, members, ids[0].signing_private, rng),
        js.run(
            "return T.makeDealing(hex(a.c), 2, a.k, a.m, hex(a.s));",
            {
                "c": ceremony.hex(),
                "k": k,
                "m": dkg.members_json(members),
                "s": ids[1].signing_private.hex(),
            },
        ),
        dkg.make_dealing(ceremony, 3, k, members, ids[2].signing_private, rng),
    ]
    for signed in dealings:
        dkg.check_dealing(ceremony, signed, k, members)
    for j, ident in enumerate(ids, start=1):
        python_share = dkg.open_my_shares(ceremony, dealings, j, ident.box_private, k, members)
        arg = {
            "c": ceremony.hex(),
            "d": dealings,
            "j": j,
            "box": ident.box_private.hex(),
            "k": k,
            "m": dkg.members_json(members),
            "seed": ident.signing_private.hex(),
        }
        answer = js.run(
            """
            const share = await T.openMyShares(hex(a.c), a.d, a.j, hex(a.box), a.k, a.m);
            return { share: V.hexEncode(T.scalarFromInt(share)),
                     ack: T.makeAck(hex(a.c), a.j, a.d, share, hex(a.seed)),
                     joint: V.hexEncode(T.jointKey(a.d)),
                     pub: V.b64urlEncode(T.publicShare(a.d, a.j)) };
            """,
            arg,
        )
        assert answer["share"] == python_share.hex()
        python_ack = dkg.make_ack(ceremony, j, dealings, python_share, ident.signing_private)
        assert answer["ack"] == python_ack
        dkg.check_ack(ceremony, answer["ack"], dealings, members)
        assert answer["joint"] == dkg.joint_key(dealings).hex()
        assert answer["pub"] == b64url_encode(dkg.public_share(dealings, j))


def test_released_key_shares_are_the_same_bytes(js: Page) -> None:
    done = run_ceremony(seeded_rng(b"release"), ELECTION, 2, 3)
    manifest_hash = "ab" * 32
    for j, ident in enumerate(done.identities, start=1):
        body = js.run(
            "return T.signKeyShare(a.h, a.j, hex(a.s), hex(a.seed));",
            {
                "h": manifest_hash,
                "j": j,
                "s": done.key_shares[j].hex(),
                "seed": ident.signing_private.hex(),
            },
        )
        assert body == threshold.sign_key_share(
            manifest_hash, j, done.key_shares[j], ident.signing_private
        )
        assert threshold.check_key_share(body, done.block, election=manifest_hash)


def _resign(signed: dict[str, Any], seed: bytes) -> dict[str, Any]:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    return {
        "dealing": signed["dealing"],
        "signature": b64url_encode(key.sign(dkg.dealing_message(signed["dealing"]))),
    }


def _open(js: Page, ceremony: bytes, dealings: list[Any], j: int, ids: list[Any], k: int) -> Any:
    return js.attempt(
        "return V.hexEncode(T.scalarFromInt(await T.openMyShares(hex(a.c), a.d, a.j, "
        "hex(a.box), a.k, a.m)));",
        {
            "c": ceremony.hex(),
            "d": dealings,
            "j": j,
            "box": ids[j - 1].box_private.hex(),
            "k": k,
            "m": dkg.members_json([i.member for i in ids]),
        },
    )


def test_a_wrong_share_is_caught_and_its_dealer_named(js: Page) -> None:
    k, n = 2, 3
    done = run_ceremony(seeded_rng(b"wrong share"), ELECTION, k, n)
    ids, ceremony = done.identities, done.ceremony
    dealings = json.loads(json.dumps(done.dealings))
    # Dealer 3 seals to member 2 a share off by one, and signs the dealing honestly.
    box2 = x25519.X25519PublicKey.from_public_bytes(b64url_decode(ids[1].member.box_key))
    honest = dkg.SUITE.decrypt(
        b64url_decode(dealings[2]["dealing"]["shares"][1]["sealed"]),
        x25519.X25519PrivateKey.from_private_bytes(ids[1].box_private),
        info=dkg.share_info(ceremony, 3, 2),
    )
    wrong = group.scalar_from_int(int.from_bytes(honest, "little") + 1)
    sealed = dkg.SUITE.encrypt(wrong, box2, info=dkg.share_info(ceremony, 3, 2))
    dealings[2]["dealing"]["shares"][1]["sealed"] = b64url_encode(sealed)
    dealings[2] = _resign(dealings[2], ids[2].signing_private)
    dkg.check_dealing(ceremony, dealings[2], k, done.members)  # well-formed and signed

    caught = _open(js, ceremony, dealings, 2, ids, k)
    assert caught["error"] == "bad_share" and caught["trustee"] == 3, caught
    assert "does not match the dealer's commitments" in caught["detail"]
    # Member 1's share from dealer 3 is honest: it opens, to Python's value.
    assert _open(js, ceremony, dealings, 1, ids, k)["value"] == done.key_shares[1].hex()

    # A share sealed for another member does not open.
    dealings[2]["dealing"]["shares"][1]["sealed"] = done.dealings[2]["dealing"]["shares"][0][
        "sealed"
    ]
    dealings[2] = _resign(dealings[2], ids[2].signing_private)
    refused = _open(js, ceremony, dealings, 2, ids, k)
    assert refused["error"] == "bad_share" and refused["trustee"] == 3
    assert "does not open" in refused["detail"]


@pytest.mark.parametrize(
    ("tamper", "detail"),
    [
        ("signature", "signature does not verify"),
        ("commitment", "signature does not verify"),
        ("commitment_resigned", "proof of knowledge does not verify"),
        ("identity_resigned", "not a point of the group"),
        ("ceremony", "another ceremony"),
    ],
)
def test_a_forged_dealing_is_refused_and_named(js: Page, tamper: str, detail: str) -> None:
    k = 2
    done = run_ceremony(seeded_rng(b"forged"), ELECTION, k, 3)
    dealings = json.loads(json.dumps(done.dealings))
    signed = dealings[1]
    other = done.dealings[0]["dealing"]["commitments"][0]
    if tamper == "signature":
        signed["signature"] = done.dealings[0]["signature"]
    elif tamper.startswith("commitment"):
        signed["dealing"]["commitments"][0] = other
    elif tamper == "identity_resigned":
        signed["dealing"]["commitments"][1] = b64url_encode(group.IDENTITY)
    else:
        signed["dealing"]["ceremony"] = "00" * 32
    if tamper.endswith("resigned"):
        dealings[1] = _resign(signed, done.identities[1].signing_private)
    refused = _open(js, done.ceremony, dealings, 1, done.identities, k)
    assert refused["error"] == "bad_dealing" and refused["trustee"] == 2, refused
    assert detail in refused["detail"]


def test_points_are_checked_like_libsodium(js: Page) -> None:
    base = group.base_mul(group.scalar_from_int(1))
    small_order = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
    non_canonical = (2**255 - 19 + 1).to_bytes(32, "little")  # y = p + 1 ≡ 1
    mixed = group.add(base, base)[:31] + bytes([group.add(base, base)[31] ^ 0x80])
    for raw in (base, group.base_mul(group.scalar_from_int(12345)), small_order, non_canonical,
                group.IDENTITY, mixed):  # fmt: skip
        js_ok = "value" in js.attempt("return T.checkPoint(hex(a)) && true;", raw.hex())
        try:
            group.check_point(raw, "point")
            python_ok = True
        except Exception:
            python_ok = False
        assert js_ok == python_ok, raw.hex()


def test_a_trustee_file_is_read_by_both(js: Page, tmp_path: Path) -> None:
    # Made by the CLI's code, opened by the page.
    cli = new_identity("Анна Петрова")
    cli["elections"]["x"] = {"ceremony": "00" * 32, "trustee": 1, "key_share": "A" * 43,
                             "public_share": "A" * 43}  # fmt: skip
    save_identity(tmp_path / "cli.json", cli, new=True)
    opened = js.run(
        "return T.publicPart(T.loadIdentity(a));", (tmp_path / "cli.json").read_text("utf-8")
    )
    assert opened == {k: cli[k] for k in ("name", "signing_key", "box_key")}
    # Made by the page, byte for byte the file the CLI writes, and read by it.
    text = js.run("return T.identityText(await T.newIdentity(' Борис '));")
    path = tmp_path / "page.json"
    path.write_text(text, "utf-8")
    made = load_identity(path)
    assert made["name"] == "Борис"
    save_identity(tmp_path / "again.json", made, new=True)
    assert (tmp_path / "again.json").read_text("utf-8") == text
    # Its public keys are those of its private keys.
    seeded = js.run("return T.newIdentity('T', stream(a));", _stream(b"identity", 64).hex())
    python = new_identity("T", _bytes_rng(_stream(b"identity", 64)))
    assert seeded == python
    # A file whose signing key is not its secret's is refused.
    seeded["signing_key"] = python["box_key"]
    refused = js.attempt("return T.loadIdentity(a);", json.dumps(seeded))
    assert refused["error"] == "bad_trustee_file"


def test_a_lying_board_is_refused(js: Page) -> None:
    """The page takes nothing from the board on trust (§17.1): a ceremony id that its
    members and threshold do not give, or a board that lists this trustee's signing key
    with another box key, is refused before anything is signed or posted."""
    done = run_ceremony(seeded_rng(b"board"), ELECTION, 2, 3)
    ident = done.identities[0]
    board = {
        "election": ELECTION,
        "ceremony": done.ceremony.hex(),
        "threshold": 2,
        "members": dkg.members_json(done.members),
        "dealings": [],
        "acks": [],
        "status": "dealing",
    }
    identity = {"signing_key": ident.member.signing_key, "box_key": ident.member.box_key}
    script = """
        const posted = [];
        const fetch = async (url, init) => {
          if (init && init.method === "POST") {
            posted.push(url);
            return new Response("{}", {status: 201});
          }
          return new Response(JSON.stringify(a.board), {status: 200});
        };
        const client = new T.TrusteeClient({ fetch });
        const seen = await client.board(a.election, a.identity);
        return { me: seen.me, posted };
    """
    arg = {"board": board, "election": ELECTION, "identity": identity}
    assert js.attempt(script, arg)["value"] == {"me": 1, "posted": []}
    lying = {**board, "threshold": 1}
    refused = js.attempt(script, {**arg, "board": lying})
    assert refused["error"] == "bad_ceremony"
    swapped = {**board, "members": [dict(m) for m in board["members"]]}
    swapped["members"][0]["box_key"] = swapped["members"][1]["box_key"]
    swapped["ceremony"] = dkg.ceremony_id(ELECTION, 2, swapped["members"]).hex()
    refused = js.attempt(script, {**arg, "board": swapped})
    assert refused["error"] == "not_a_trustee" and "another box key" in refused["detail"]
    stranger = {**identity, "signing_key": done.members[1].signing_key[:-2] + "AA"}
    assert js.attempt(script, {**arg, "identity": stranger})["error"] == "not_a_trustee"
