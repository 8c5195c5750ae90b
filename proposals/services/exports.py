"""A program's proposals for other tools: GeoJSON (RFC 7946) for GIS and CSV.

Coordinates are stored as integer micro-degrees and written as exact decimals, never
through floats; CSV cells that a spreadsheet would run as a formula are prefixed."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy.orm import Session

from proposals.services.service import ProposalService, cofunding

_ENCODER = msgspec.json.Encoder(decimal_format="number")
CSV_COLUMNS = (
    "id",
    "title",
    "status",
    "district",
    "category",
    "cost",
    "validated_cost",
    "supports",
    "pledged",
    "required",
    "latitude",
    "longitude",
)


def degrees(micro: int) -> Decimal:
    return Decimal(micro).scaleb(-6)


def _rows(db: Session, service: ProposalService, program_id: int) -> list[dict[str, Any]]:
    program = service.program(db, program_id)
    now = service.now()
    rows = []
    for p in reversed(service.search(db, program=program_id, limit=100_000)):
        funding = cofunding(db, program, p, now)
        rows.append(
            {
                "id": p.id,
                "title": p.title,
                "status": p.status,
                "district": p.district,
                "category": p.category,
                "cost": p.cost,
                "validated_cost": p.validated_cost,
                "supports": p.supports,
                "pledged": funding.pledged,
                "required": funding.required,
                "latitude": None if p.lat_e6 is None else degrees(p.lat_e6),
                "longitude": None if p.lon_e6 is None else degrees(p.lon_e6),
            }
        )
    return rows


def geojson(db: Session, service: ProposalService, program_id: int) -> bytes:
    features = []
    for row in _rows(db, service, program_id):
        lat, lon = row.pop("latitude"), row.pop("longitude")
        geometry = None if lat is None else {"type": "Point", "coordinates": [lon, lat]}
        features.append(
            {"type": "Feature", "id": row["id"], "geometry": geometry, "properties": row}
        )
    return _ENCODER.encode({"type": "FeatureCollection", "features": features})


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def as_csv(db: Session, service: ProposalService, program_id: int) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in _rows(db, service, program_id):
        writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])
    return buffer.getvalue()
