"""Without gmpy2 (an auditor's machine): the same signatures, from Python integers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[3]

SCRIPT = """
import json, sys
from pathlib import Path
sys.modules["gmpy2"] = None  # importing it now fails, as where it is not installed
from cryptography.hazmat.primitives.asymmetric import rsa
from ballot.core import blind

raw = json.loads(Path(sys.argv[1]).read_text())[blind.PSS_RANDOMIZED.name]
v = {k: bytes.fromhex(x) for k, x in raw.items()}
p, q, d, n, e = (int.from_bytes(v[k], "big") for k in ("p", "q", "d", "n", "e"))
public = rsa.RSAPublicNumbers(e, n)
private = rsa.RSAPrivateNumbers(
    p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), public
).private_key()
key = blind.BlindSigningKey.from_private_key(private)
assert not blind.HAVE_GMPY2 and not key.uses_gmpy2
assert blind.blind_sign(key, v["blinded_msg"]) == v["blind_sig"]
blind.verify(public.public_key(), v["prepared_msg"], v["sig"])
print("ok")
"""


def test_signing_and_verifying_work_without_gmpy2() -> None:
    vectors = ROOT / "tests" / "data" / "vectors" / "rfc9474.json"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(vectors)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
