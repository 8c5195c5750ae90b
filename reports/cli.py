"""``veche reports``: the staff's configuration from files, and the periodic closing of
unrated answers (for cron), on the data directory's database."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kernel.accounts.models import User
from kernel.errors import NotFound
from reports.services.config import parse_toml
from reports.services.open311 import Open311
from reports.services.service import ReportService

# Opens the deployment's report service for one command: (service, write-session factory).
OpenReports = Callable[[argparse.Namespace], AbstractContextManager[tuple[ReportService, Any]]]


def add_reports_command(
    subparsers: argparse._SubParsersAction[Any],
    open_reports: OpenReports,
    add_data_dir: Callable[[argparse.ArgumentParser], None],
) -> None:
    parser = subparsers.add_parser("reports", help="resident reports: configuration and upkeep")
    tasks = parser.add_subparsers(dest="reports_command", metavar="TASK")
    tasks.required = True

    config = tasks.add_parser(
        "config", help="replace organisations, categories and rules from TOML"
    )
    add_data_dir(config)
    config.add_argument("file", type=Path)
    boundary = tasks.add_parser("boundary", help="set a district's GeoJSON boundary")
    add_data_dir(boundary)
    boundary.add_argument("district")
    boundary.add_argument("file", type=Path)
    staff = tasks.add_parser("staff", help="make an account staff of an organisation")
    add_data_dir(staff)
    staff.add_argument("email")
    staff.add_argument("organisation")
    key = tasks.add_parser("api-key", help="a new Open311 API key posting as an account")
    add_data_dir(key)
    key.add_argument("email")
    key.add_argument("--label", default="Open311 client")
    close = tasks.add_parser("close-unrated", help="close answers left unrated too long")
    add_data_dir(close)
    stats = tasks.add_parser("statistics", help="print the statistics computed from the log")
    add_data_dir(stats)

    def run(args: argparse.Namespace) -> int:
        with open_reports(args) as (service, sessions):
            task = args.reports_command
            if task == "close-unrated":
                print(f"Closed {service.close_unrated()} unrated report(s).")
                return 0
            with sessions() as db, db.begin():
                if task == "config":
                    tree = service.config.replace(db, parse_toml(args.file.read_text("utf-8")))
                    print(f"{len(tree.categories)} categories, {len(tree.rules)} routing rules.")
                elif task == "boundary":
                    service.config.set_boundary(db, args.district, args.file.read_text("utf-8"))
                    print(f"Boundary of {args.district} set.")
                elif task in ("staff", "api-key"):
                    user = db.scalars(select(User).where(User.email == args.email)).first()
                    if user is None or user.id is None:
                        raise NotFound(f"There is no account {args.email}.")
                    if task == "staff":
                        service.config.set_staff(db, user.id, args.organisation)
                        print(f"{args.email} works for {args.organisation}.")
                    else:
                        new = Open311(service, "").new_key(db, user, args.label)
                        print(f"API key for {args.email} (shown once): {new}")
                else:
                    print(json.dumps(service.statistics(db).to_json(), indent=2))
        return 0

    parser.set_defaults(func=run)
