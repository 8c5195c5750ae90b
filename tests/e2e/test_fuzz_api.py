"""Property-based fuzzing of every route of the OpenAPI schema with schemathesis, against
a real server: generated requests, valid and invalid, never get a 5xx, and every
response conforms to the schema the server publishes. Requests carry an administrator's
session and CSRF token, so guarded routes are reached too (log-out is left out: it would
end that session)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from tests.support.server import LiveServer, admin_client

EXAMPLES = 25


@pytest.mark.slow
def test_schemathesis_finds_no_server_error(live_server: LiveServer, tmp_path: Path) -> None:
    with closing(admin_client(live_server.url, live_server.settings)) as admin:
        cookie = f"veche_session={admin.cookies['veche_session']}"
        csrf = admin.headers["X-CSRF-Token"]
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    done = subprocess.run(
        [
            st,
            "run",
            f"{live_server.url}/schema/openapi.json",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--max-examples",
            str(EXAMPLES),
            "--exclude-path",
            "/api/v1/auth/logout",
            "--seed",
            "2026",
            "-H",
            f"Cookie: {cookie}",
            "-H",
            f"X-CSRF-Token: {csrf}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-6000:]
    cases = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert cases is not None, done.stdout[-2000:]
    generated, passed = int(cases.group(1)), int(cases.group(2))
    assert generated == passed > 500
    print(f"schemathesis: {generated} cases, all passed")
