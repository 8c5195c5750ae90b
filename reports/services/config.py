"""Staff's configuration of reports: organisations, the category tree, routing rules,
district boundaries and which organisation each staff account works for.

The whole configuration is replaced at once from a TOML document (or the same shape as
JSON through the API), checked by the pure ``reports.core.categories`` before any row
changes, so a half-valid file changes nothing.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kernel.accounts.models import District, User
from kernel.errors import InvalidInput, NotFound
from kernel.markers import N_
from reports.core.categories import (
    Category,
    CategoryTree,
    ConfigRefused,
    Routing,
    tree_from_config,
)
from reports.services.geo import Districts, parse_boundary
from reports.services.models import (
    DistrictArea,
    OrganisationStaff,
    ReportCategory,
    ReportOrganisation,
    ReportRule,
)


def parse_toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(
            N_("The configuration is not valid TOML."), code="bad_report_config"
        ) from exc


class ReportConfig:
    """Reads and replaces the configuration."""

    def __init__(self) -> None:
        # The parsed outlines, kept while the stored boundaries stay the same text.
        self._districts: tuple[tuple[tuple[str, str], ...], Districts] | None = None

    def replace(self, db: Session, config: Mapping[str, Any]) -> CategoryTree:
        """Replace organisations, categories and rules with ``config`` (see
        ``reports.core.categories.tree_from_config`` for its shape; organisations may be
        codes or tables ``{code, name_en, name_ru}``)."""
        organisations: list[dict[str, str]] = []
        for raw in config.get("organisations", []):
            if isinstance(raw, str):
                organisations.append({"code": raw, "name_en": raw, "name_ru": raw})
            elif isinstance(raw, Mapping) and "code" in raw:
                code = str(raw["code"])
                name_en = str(raw.get("name_en", code))
                organisations.append(
                    {"code": code, "name_en": name_en, "name_ru": str(raw.get("name_ru", name_en))}
                )
            else:
                raise InvalidInput(
                    N_("Each organisation is a code or a table with a code."),
                    code="bad_report_config",
                )
        plain = dict(config) | {"organisations": [o["code"] for o in organisations]}
        try:
            tree = tree_from_config(plain)
        except ConfigRefused as exc:
            raise InvalidInput(str(exc), code=exc.code) from None
        districts = set(db.scalars(select(District.code)).all())
        for _category, district in tree.rules:
            if district != "*" and district not in districts:
                raise InvalidInput(
                    N_("A routing rule names a district that does not exist."),
                    code="bad_report_config",
                )
        staffed = set(db.scalars(select(OrganisationStaff.organisation)).all())
        if staffed - tree.organisations:
            raise InvalidInput(
                N_("An organisation that has staff accounts cannot be removed."),
                code="bad_report_config",
            )
        db.execute(delete(ReportRule))
        db.execute(delete(ReportCategory))
        db.flush()
        existing = {o.code: o for o in db.scalars(select(ReportOrganisation)).all()}
        for organisation in organisations:
            row = existing.pop(organisation["code"], None) or ReportOrganisation(
                code=organisation["code"], name_en="", name_ru=""
            )
            row.name_en = organisation["name_en"][:200]
            row.name_ru = organisation["name_ru"][:200]
            db.add(row)
        for row in existing.values():
            db.delete(row)
        db.flush()
        for category in tree.categories.values():
            db.add(
                ReportCategory(
                    code=category.code,
                    parent=category.parent,
                    title_en=category.title_en[:200],
                    title_ru=category.title_ru[:200],
                )
            )
        for (category_code, district), routing in tree.rules.items():
            db.add(
                ReportRule(
                    category=category_code,
                    district=district,
                    organisation=routing.organisation,
                    deadline_days=routing.deadline_days,
                    first_response_days=routing.first_response_days,
                )
            )
        db.flush()
        return tree

    def tree(self, db: Session) -> CategoryTree:
        categories = [
            Category(c.code, c.title_en, c.title_ru, c.parent)
            for c in db.scalars(select(ReportCategory)).all()
        ]
        rules = {
            (r.category, r.district): Routing(
                r.organisation, r.deadline_days, r.first_response_days
            )
            for r in db.scalars(select(ReportRule)).all()
        }
        organisations = db.scalars(select(ReportOrganisation.code)).all()
        return CategoryTree(categories, rules, organisations)

    def organisations(self, db: Session) -> list[ReportOrganisation]:
        return list(db.scalars(select(ReportOrganisation).order_by(ReportOrganisation.code)))

    def districts(self, db: Session) -> Districts:
        rows = tuple(
            (a.district, a.geojson)
            for a in db.scalars(select(DistrictArea).order_by(DistrictArea.district)).all()
        )
        cached = self._districts
        if cached is not None and cached[0] == rows:
            return cached[1]
        districts = Districts(dict(rows))
        self._districts = (rows, districts)
        return districts

    def set_boundary(self, db: Session, district: str, geojson: str | None) -> None:
        """Set (or with ``None`` remove) a district's boundary."""
        if db.get(District, district) is None:
            raise NotFound(f"There is no district {district}.")
        row = db.get(DistrictArea, district)
        if geojson is None:
            if row is not None:
                db.delete(row)
            db.flush()
            return
        parse_boundary(geojson)
        if row is None:
            db.add(DistrictArea(district=district, geojson=geojson))
        else:
            row.geojson = geojson
        db.flush()

    def set_staff(self, db: Session, user_id: int, organisation: str) -> None:
        """Make an account ``org_staff`` of ``organisation``."""
        user = db.get(User, user_id)
        if user is None:
            raise NotFound(f"There is no account with id {user_id}.")
        if db.get(ReportOrganisation, organisation) is None:
            raise InvalidInput(N_("There is no such organisation."), code="unknown_organisation")
        row = db.get(OrganisationStaff, user_id)
        if row is None:
            db.add(OrganisationStaff(user_id=user_id, organisation=organisation))
        else:
            row.organisation = organisation
        user.role = "org_staff"
        db.flush()

    def organisation_of(self, db: Session, user: User) -> str | None:
        if user.role != "org_staff" or user.id is None:
            return None
        row = db.get(OrganisationStaff, user.id)
        return None if row is None else row.organisation
