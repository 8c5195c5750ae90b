"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) over reports: the
documents of discovery, services, service definitions and service requests, and their
JSON and XML forms (docs/protocol.md §16.9). Pure: values in, documents out.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = {"json": "application/json", "xml": "text/xml"}
CLOSED = frozenset({"answered", "closed"})
# The list element and item element of each document in XML.
XML_SHAPES = {
    "services": ("services", "service"),
    "requests": ("service_requests", "request"),
    "created": ("service_requests", "request"),
    "errors": ("errors", "error"),
}


def w3c(seconds: int | None) -> str | None:
    """A Unix time as a W3C datetime in UTC: ``2026-12-01T10:00:00Z``."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_w3c(text: str) -> int | None:
    """A W3C datetime (with ``Z`` or an offset) as Unix seconds; ``None`` if not one."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp())


def split_name(name: str) -> tuple[str, str] | None:
    """``"services.json"`` → ``("services", "json")``; ``None`` for another format."""
    stem, dot, extension = name.rpartition(".")
    if not dot or extension not in FORMATS or not stem:
        return None
    return stem, extension


def open311_status(status: str) -> str:
    """GeoReport has two statuses: a report is ``closed`` once answered."""
    return "closed" if status in CLOSED else "open"


def degrees_text(micro: int) -> str:
    sign = "-" if micro < 0 else ""
    whole, part = divmod(abs(micro), 1_000_000)
    return f"{sign}{whole}.{part:06d}"


def parse_coordinate(text: str, limit: int) -> int | None:
    """Decimal degrees as millionths, exactly; ``None`` when not a coordinate."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) > limit:
        return None
    return int((value * 1_000_000).to_integral_value())


def service(code: str, name: str, group: str) -> dict[str, Any]:
    return {
        "service_code": code,
        "service_name": name,
        "description": name,
        "metadata": False,
        "type": "realtime",
        "keywords": "",
        "group": group,
    }


def request(row: Mapping[str, Any], *, service_name: str, media_url: str | None) -> dict[str, Any]:
    """One service request from a report's public fields."""
    return {
        "service_request_id": row["id"],
        "status": open311_status(row["status"]),
        "status_notes": row.get("answer_text") or "",
        "service_name": service_name,
        "service_code": row["category"],
        "description": row["description"],
        "agency_responsible": row["organisation"],
        "service_notice": "",
        "requested_datetime": w3c(row["received_at"]),
        "updated_datetime": w3c(row["updated_at"]),
        "expected_datetime": w3c(row["received_at"] + row["deadline_days"] * 86_400),
        "address": "",
        "address_id": "",
        "zipcode": "",
        "lat": degrees_text(row["lat_e6"]),
        "long": degrees_text(row["lon_e6"]),
        "media_url": media_url or "",
    }


def render(kind: str, value: Any, extension: str) -> tuple[bytes, str]:
    """The document in JSON or XML, with its media type."""
    if extension == "json":
        return json.dumps(value, ensure_ascii=False).encode(), FORMATS["json"]
    if kind == "discovery":
        root = _element("discovery", value)
    elif kind == "definition":
        root = _element("service_definition", value)
    else:
        outer, inner = XML_SHAPES[kind]
        root = ET.Element(outer)
        for item in value:
            root.append(_element(inner, item))
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body, FORMATS["xml"]


def _element(tag: str, value: Any) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, Mapping):
        for key, inner in value.items():
            element.append(_element(key, inner))
    elif isinstance(value, list | tuple):
        singular = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute"}
        for inner in value:
            element.append(_element(singular.get(tag, "item"), inner))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element


def errors(code: int, description: str) -> list[dict[str, Any]]:
    return [{"code": code, "description": description}]


def discovery(base_url: str, changeset: str, contact: str) -> dict[str, Any]:
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": contact,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url,
                "changeset": changeset,
                "type": "production",
                "formats": list(FORMATS.values()),
            }
        ],
    }


__all__ = [
    "discovery",
    "errors",
    "open311_status",
    "parse_coordinate",
    "parse_w3c",
    "render",
    "request",
    "service",
    "split_name",
    "w3c",
]
