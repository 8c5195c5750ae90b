"""The browser's witness policy (``kernel/static/js/veche-crypto.js``, docs/protocol.md
§15.7, §15.8): two ``veche witness serve`` processes cosign a ``veche serve`` whose
policy is both. A page learns the witnesses and the policy from the server, casts, and
gets a receipt connected to a checkpoint both cosigned. Then "Check my ballot" accepts
the receipt, and flags it when a proxy in front of the server strips a cosignature from
the served checkpoint or forges one.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from audit.core.cosignature import check_cosignatures, parse_witness_key
from audit.core.export import KeyInfo
from kernel.keys import load_authority_key
from kernel.settings import Settings
from tests.support.server import admin_client, open_code_election, start_server, stop_server
from tests.support.settings import FAST
from tests.support.witnesses import start_witness
from veche.setup import initialize

pytestmark = pytest.mark.browser

EM_DASH = "\u2014"


@pytest.fixture(name="witnessed_server")
def fx_witnessed_server(tmp_path: Path) -> Iterator[tuple[Settings, str, list[str]]]:
    settings = Settings(data_dir=tmp_path / "var", **FAST)  # type: ignore[arg-type]
    initialize(settings).dispose()
    info = KeyInfo.from_private_key(settings.origin, load_authority_key(settings.keys_dir))
    processes: list[subprocess.Popen[Any]] = []
    try:
        witnesses = []
        for name in ("a", "b"):
            process, url, vkey = start_witness(tmp_path, name, settings.origin, info.verifier_key)
            processes.append(process)
            witnesses.append((url, vkey))
        entries = ", ".join(f'"{url} {vkey}"' for url, vkey in witnesses)
        (settings.data_dir / "veche.toml").write_text(
            f"witnesses = [{entries}]\nwitness_policy = 2\nwitness_interval_ms = 20\n",
            encoding="utf-8",
        )
        server, url = start_server(settings)
        processes.append(server)
        yield settings, url, [vkey for _url, vkey in witnesses]
    finally:
        for process in processes:
            stop_server(process)


def _strip(note: str, keep: int) -> str:
    """The note with only its first ``keep`` witness lines (the log's own line stays)."""
    text, _, signatures = note.partition("\n\n")
    lines = signatures.rstrip("\n").split("\n")
    own = [line for line in lines if "witness.test/" not in line]
    witnessed = [line for line in lines if "witness.test/" in line]
    return text + "\n\n" + "\n".join(own + witnessed[:keep]) + "\n"


def _forge(note: str) -> str:
    """The note with the second witness's signature bytes changed."""
    text, _, signatures = note.partition("\n\n")
    lines = signatures.rstrip("\n").split("\n")
    name, b64 = lines[-1].removeprefix(EM_DASH + " ").split(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 1
    lines[-1] = f"{EM_DASH} {name} {base64.b64encode(bytes(raw)).decode()}"
    return text + "\n\n" + "\n".join(lines) + "\n"


def _check_page(browser: Any, url: str, receipt: dict[str, Any], rewrite: Any) -> str:
    """The "Check my ballot" page with the receipt, the served checkpoint passed through
    ``rewrite`` (None: untouched); the result's whole text (details included)."""
    context = browser.new_context(locale="en-GB")
    try:
        if rewrite is not None:

            def proxy(route: Any) -> None:
                answer = route.fetch()
                route.fulfill(response=answer, body=rewrite(answer.text()))

            context.route("**/api/v1/log/checkpoint", proxy)
        page = context.new_page()
        page.goto(f"{url}/check")
        page.locator("#receipt").fill(json.dumps(receipt))
        page.locator("#check-form button[type=submit]").click()
        page.locator("#check-result ul.results li").first.wait_for(timeout=30_000)
        return str(page.locator("#check-result").text_content())
    finally:
        context.close()


def test_the_page_requires_the_servers_witness_policy(
    witnessed_server: tuple[Settings, str, list[str]], browser: Any
) -> None:
    settings, url, vkeys = witnessed_server
    with closing(admin_client(url, settings)) as admin:
        codes = open_code_election(admin, "witnessed", 1)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url + "/")
        cast = page.evaluate(
            """async (code) => {
              const V = await import("/static/js/veche-crypto.js");
              const voter = new V.VecheVoter({ allowTestKeys: true });
              const policy = await voter.witnessPolicy();
              const info = await voter.election("witnessed");
              const wallet = await voter.obtainCredential(info, { accessCode: code });
              const receipt = await voter.cast(info, wallet, { approve: ["park"] });
              const latest = await voter.latestCheckpoint();
              return { policy, receipt, latest: latest.note, size: latest.size };
            }""",
            codes[0],
        )
    finally:
        context.close()
    assert cast["policy"] == {"witnesses": vkeys, "policy": 2}
    trusted = [parse_witness_key(v) for v in vkeys]
    # The cast waited until a checkpoint both witnesses cosigned covered the ballot.
    assert cast["size"] > cast["receipt"]["seq"]
    assert check_cosignatures(cast["latest"], trusted, 2).ok

    receipt = cast["receipt"]
    assert "The log holds the ballot you sent" in _check_page(browser, url, receipt, None)
    one = _check_page(browser, url, receipt, lambda note: _strip(note, 1))
    assert "witness_missing" not in one  # the sentence is the page's; the detail says why
    assert "lacks the witness cosignatures required: 1 of the required 2" in one
    assert "The log holds the ballot you sent" not in one
    none = _check_page(browser, url, receipt, lambda note: _strip(note, 0))
    assert "0 of the required 2" in none and "missing: witness.test/a, witness.test/b" in none
    forged = _check_page(browser, url, receipt, _forge)
    assert "invalid: witness.test/b" in forged
