"""A whole demo election, run through the real protocol before the demo server starts.

Simulated residents of the Centre district, all on the district's voter roll, obtain
blind-signed credentials (most with a printed one-time access code, the rest with
accounts whose e-mail addresses are on the roll and confirmed), seal and sign their
ballots and cast them over HTTP (in process); some change their minds and vote again.
The Centre election has three trustees (two of whom must release their key shares to
unseal it): their identity files are made in the data directory's ``trustees`` folder,
they run the key ceremony before the opening through ``veche trustee``'s functions, the
server never holds the sealing key, and after the close two of them release their
shares (docs/protocol.md §14, §17). The election is then counted with the Method of
Equal Shares, and its result is published. A second election, in Riverside, admits
residents verified by staff; the demo's moderator verifies Boris before it opens, and
it is left open so that he can vote in it from the command line or the API.

``DemoMail`` is the demo's SMTP server (aiosmtpd on 127.0.0.1): the server sends its
confirmation links there, and it prints every message on the console, so that a person
trying the demo can register and follow the link.
"""

from __future__ import annotations

import email
import email.policy
import os
import random
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from ballot.cli.trustee import (
    acknowledge,
    deal,
    load_identity,
    new_identity,
    public_part,
    release,
    save_identity,
)
from ballot.core.client import VoterClient
from kernel import db as database
from kernel.accounts.models import User
from kernel.accounts.service import AccountService
from kernel.settings import Settings
from veche.app import create_app
from veche.witness_process import WitnessProcess, start_witness

CENTRE_PROJECTS = [
    ("tree-alley", "Lime-tree alley on Sadovaya street", 1_800_000_00),
    ("playground", "Inclusive playground in Victory park", 2_400_000_00),
    ("library-hall", "Reading hall for the district library", 1_500_000_00),
    ("bike-lanes", "Protected bike lanes to the station", 3_100_000_00),
    ("benches", "Fifty benches with shade along the embankment", 450_000_00),
    ("skate-park", "Skate park behind school No. 5", 1_200_000_00),
    ("lighting", "Street lighting in the old quarter", 900_000_00),
    ("community-garden", "Community garden with raised beds", 600_000_00),
]
# How much the simulated residents like each project (relative weights).
POPULARITY = [9, 8, 6, 5, 7, 3, 6, 4]
RIVERSIDE_PROJECTS = [
    ("ferry-pier", "Repair of the ferry pier", 1_400_000_00),
    ("beach", "Accessible river beach", 900_000_00),
    ("dog-park", "Fenced dog park", 350_000_00),
    ("sports-ground", "Outdoor sports ground", 1_100_000_00),
]


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _PrintingHandler:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = (
            message.get_body(preferencelist=("plain",))
            if isinstance(message, EmailMessage)
            else None
        )
        text = body.get_content() if body is not None else envelope.content.decode(errors="replace")
        print(
            f"\n--- demo mail to {', '.join(envelope.rcpt_tos)}: {message['Subject']}\n"
            f"{text}--- end of mail\n",
            flush=True,
        )
        return "250 Message accepted for delivery"


class DemoMail:
    """A real SMTP server on 127.0.0.1 for the demo; every message is printed."""

    def __init__(self, port: int = 0) -> None:
        from aiosmtpd.controller import Controller

        if not port:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = int(probe.getsockname()[1])
        self.port = port
        self.controller = Controller(_PrintingHandler(), hostname="127.0.0.1", port=port)

    def __enter__(self) -> DemoMail:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def settings(self) -> dict[str, Any]:
        """The ``smtp_*`` settings that send the demo server's mail here."""
        return {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_starttls": False,
            "mail_from": "veche@demo.veche",
        }


def _config(
    election_id: str,
    title: str,
    district: str,
    projects: list[tuple[str, str, int]],
    budget: int,
    rule: dict[str, Any],
    days: int,
    key_bits: int,
    eligibility: dict[str, bool],
) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "id": election_id,
        "title": title,
        "district": district,
        "budget": budget,
        "currency": "RUB",
        "projects": [{"id": pid, "title": name, "cost": cost} for pid, name, cost in projects],
        "ballot": {
            "kind": "approval",
            "min_projects": 1,
            "max_projects": len(projects),
            "max_total_cost": budget,
        },
        "rule": rule,
        "window": {
            "opens_at": _time(now - timedelta(hours=1)),
            "closes_at": _time(now + timedelta(days=days)),
        },
        "eligibility": eligibility,
        "rsa_key_bits": key_bits,
    }


def _pick(rng: random.Random, budget: int) -> list[str]:
    """Projects a simulated resident approves: by popularity, within the knapsack limit."""
    wanted = rng.randint(1, 4)
    chosen: list[str] = []
    spent = 0
    ids = [p[0] for p in CENTRE_PROJECTS]
    costs = {p[0]: p[2] for p in CENTRE_PROJECTS}
    for pid in rng.choices(ids, weights=POPULARITY, k=wanted * 2):
        if pid not in chosen and spent + costs[pid] <= budget:
            chosen.append(pid)
            spent += costs[pid]
        if len(chosen) == wanted:
            break
    return chosen or ["benches"]


def run_demo_election(
    settings: Settings, voters: int, say: Callable[[str], None] = print
) -> dict[str, Any]:
    """Run the Centre election to its published result; open the Riverside one."""
    app: Litestar = create_app(settings)
    rng = random.Random(2026)
    budget = 8_000_000_00
    with TestClient(app, base_url="http://demo.local") as client:
        admin = _session(app, "admin@demo.veche")
        centre = _config(
            "centre-2026",
            "Centre district budget 2026",
            "centre",
            CENTRE_PROJECTS,
            budget,
            {"name": "mes", "satisfaction": "cost", "completion": "add1"},
            days=7,
            key_bits=2048,
            eligibility={"residents": False, "roll": True, "access_codes": True},
        )
        trustees = _trustee_files(settings.data_dir / "trustees")
        centre["trustees"] = {
            "threshold": 2,
            "members": [public_part(load_identity(path)) for path in trustees],
        }
        _ok(client.post("/api/v1/elections", json=centre, headers=admin), 201)
        with_codes = voters * 3 // 4
        # The roll: people given printed codes, and people who vote with their accounts
        # (their e-mail addresses on the roll, confirmed), Anna among them.
        roll = "voter_id,email\n" + "".join(f"C{n:05d},\n" for n in range(with_codes))
        roll += "".join(
            f"A{n:05d},resident{n:05d}@demo.veche\n" for n in range(voters - with_codes)
        )
        roll += "A-ANNA,anna@demo.veche\n"
        _ok(
            client.post(
                "/api/v1/elections/centre-2026/roll",
                content=roll.encode(),
                headers={**admin, "content-type": "text/csv"},
            ),
            201,
        )
        # Codes are made before opening: opening commits the electorate and freezes them.
        codes_csv = _ok(
            client.post("/api/v1/elections/centre-2026/access-codes", headers=admin), 201
        ).text
        by_ref = dict(line.split(",", 1) for line in codes_csv.strip().split("\n")[1:])
        codes = [by_ref[f"C{n:05d}"] for n in range(with_codes)]
        say("Demo: three trustees run the key ceremony of centre-2026 (two open it)…")
        for path in trustees:
            deal(client, "centre-2026", load_identity(path), os.urandom)
        for path in trustees:
            acknowledge(client, "centre-2026", load_identity(path), path)
        _ok(client.post("/api/v1/elections/centre-2026/open", headers=admin), 200)
        residents = _simulated_residents(app, settings, voters - with_codes)
        client.cookies.clear()
        voter = VoterClient(client)
        info = voter.election("centre-2026")
        say(
            f"Demo: {voters:,} simulated residents vote in centre-2026 "
            f"({len(codes):,} with access codes, {len(residents):,} with accounts)…"
        )

        def vote(n: int) -> int:
            local = random.Random(n)
            if n < len(codes):
                wallet = voter.obtain_credential(info, access_code=codes[n])
            else:
                wallet = voter.obtain_credential(info, headers=residents[n - len(codes)])
            voter.cast(info, wallet, {"approve": _pick(local, budget)})
            if local.random() < 0.1:
                voter.cast(info, wallet, {"approve": _pick(local, budget)})
                return 2
            return 1

        with ThreadPoolExecutor(8) as pool:
            ballots = sum(pool.map(vote, range(voters)))
        admin = _session(app, "admin@demo.veche")
        # The demo counts at once, before the window's end: an early close with its reason.
        early = {"early": True, "reason": "Demo: voting ends now so that the count can be shown."}
        _ok(client.post("/api/v1/elections/centre-2026/close", json=early, headers=admin), 200)
        for path in trustees[:2]:  # the third trustee is away: two of three suffice
            release(client, "centre-2026", load_identity(path))
        result = _ok(client.post("/api/v1/elections/centre-2026/tally", headers=admin), 201).json()
        riverside = _config(
            "riverside-2026",
            "Riverside budget 2026",
            "riverside",
            RIVERSIDE_PROJECTS,
            2_500_000_00,
            {"name": "greedy"},
            days=30,
            key_bits=2048,
            eligibility={"residents": True, "roll": False, "access_codes": False},
        )
        _verify_boris(app)
        _ok(client.post("/api/v1/elections", json=riverside, headers=admin), 201)
        _ok(client.post("/api/v1/elections/riverside-2026/open", headers=admin), 200)
        from veche.demo_surveys import run_demo_survey

        run_demo_survey(client, lambda email: _session(app, email), voters, say)
        key = client.get("/api/v1/log/key").json()["verifier_key"]
    rng.random()
    say(
        f"Demo: {ballots:,} ballots cast; winners of centre-2026: "
        f"{', '.join(result['winners'])} ({result['spent'] // 100:,} of {budget // 100:,} RUB)."
    )
    return {"verifier_key": key, "result": result}


def _trustee_files(folder: Path) -> list[Path]:
    """The demo trustees' identity files (0600), made once per data directory."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in ("Irina Sokolova", "Pavel Orlov", "Marat Ismailov"):
        path = folder / (name.split()[1].lower() + ".json")
        if not path.exists():
            save_identity(path, new_identity(name), new=True)
        paths.append(path)
    return paths


def _ok(response: Any, status: int) -> Any:
    if response.status_code != status:
        raise RuntimeError(f"demo step failed: {response.status_code} {response.text[:300]}")
    return response


def _session(app: Litestar, email: str) -> dict[str, str]:
    """A signed-in session for a demo account, made directly (no password round trip)."""
    from sqlalchemy import select

    service: AccountService = app.state.accounts
    with database.session_scope(app.state.sessions) as db:
        user = db.scalars(select(User).where(User.email == email)).one()
        token, csrf = service.start_session(db, user)
    return {"Cookie": f"veche_session={token}", "X-CSRF-Token": csrf}


def _verify_boris(app: Litestar) -> None:
    """The demo's moderator verifies Boris as a resident of Riverside (logged as
    resident.verified), as staff would after checking his documents."""
    from sqlalchemy import select

    from kernel.accounts.schemas import VerificationIn

    service: AccountService = app.state.accounts
    with app.state.read_sessions() as db:
        staff = db.scalars(select(User).where(User.email == "moderator@demo.veche")).one()
        boris = db.scalars(select(User).where(User.email == "boris@demo.veche")).one()
    assert boris.id is not None
    service.verify_resident(staff, boris.id, VerificationIn("riverside", "passport", "4520 000001"))


def _simulated_residents(app: Litestar, settings: Settings, count: int) -> list[dict[str, str]]:
    """Resident accounts in the Centre district with sessions and confirmed addresses (one
    password hash shared: nobody logs in to them with a password)."""
    import secrets
    import time

    service: AccountService = app.state.accounts
    shared_hash = service.hasher.hash(secrets.token_urlsafe(24))
    sessions = []
    with database.session_scope(app.state.sessions) as db:
        users = [
            User(
                public_id=secrets.token_hex(16),
                email=f"resident{n:05d}@demo.veche",
                display_name=f"Resident {n}",
                district="centre",
                role="resident",
                password_hash=shared_hash,
                created_at=int(time.time()),
                email_confirmed_at=int(time.time()),
            )
            for n in range(count)
        ]
        db.add_all(users)
        db.flush()
        for user in users:
            token, csrf = service.start_session(db, user)
            sessions.append({"Cookie": f"veche_session={token}", "X-CSRF-Token": csrf})
    return sessions


class DemoWitnesses:
    """Two independent witnesses for the demo's log (docs/protocol.md §15), each its own
    ``veche witness serve`` process with its own key and database in the data directory;
    the demo server asks both to cosign its checkpoints and serves those both cosigned."""

    NAMES = ("witness.demo/w1", "witness.demo/w2")

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.processes: list[WitnessProcess] = []
        self.log_vkey = ""

    def __enter__(self) -> DemoWitnesses:
        from audit.core.note import verifier_key
        from audit.services.witness import generate_key
        from kernel.keys import load_authority_key

        folder = self.settings.data_dir / "witnesses"
        folder.mkdir(parents=True, exist_ok=True)
        public = load_authority_key(self.settings.keys_dir).public_key().public_bytes_raw()
        self.log_vkey = verifier_key(self.settings.origin, public)
        log = f"{self.settings.origin}={self.log_vkey}"
        try:
            for n, name in enumerate(self.NAMES, start=1):
                key_file = folder / f"w{n}.key"
                if not key_file.exists():
                    key = generate_key(name)
                    key_file.write_text(key.to_text(), encoding="utf-8")
                    key_file.chmod(0o600)
                self.processes.append(start_witness(key_file, folder / f"w{n}.db", log))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for witness in self.processes:
            witness.stop()

    def settings_changes(self) -> dict[str, Any]:
        """The settings that make the server ask both witnesses and serve what both signed."""
        entries = tuple(f"{w.url} {w.vkey}" for w in self.processes)
        return {"witnesses": entries, "witness_policy": len(entries)}

    def verify_flags(self) -> str:
        """The ``veche verify`` options that require both cosignatures."""
        flags = " ".join(f"--witness '{w.vkey}'" for w in self.processes)
        return f"{flags} --witness-policy {len(self.processes)}"
