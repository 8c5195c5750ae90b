"""Which district a point lies in, from the districts' GeoJSON boundaries (shapely).

A boundary is a GeoJSON geometry, ``Polygon`` or ``MultiPolygon``, in longitude,
latitude order as GeoJSON has it (RFC 7946 §3.1.1). A point on a boundary line counts
as inside. With no boundaries configured, the municipality has no known outline and
the reporter's district is taken as given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from shapely.geometry import Point as ShapelyPoint
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.prepared import PreparedGeometry, prep

from kernel.errors import InvalidInput
from kernel.markers import N_
from reports.core.location import Point


def parse_boundary(text: str) -> BaseGeometry:
    """A district's boundary, or ``InvalidInput`` saying what is wrong with it."""
    try:
        value = json.loads(text)
        if isinstance(value, dict) and value.get("type") == "Feature":
            value = value.get("geometry")
        if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
            raise ValueError("not a polygon")
        geometry = shape(value)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise InvalidInput(
            N_("A district boundary is a GeoJSON Polygon or MultiPolygon."),
            code="bad_boundary",
            field="geojson",
        ) from None
    if geometry.is_empty or not geometry.is_valid:
        raise InvalidInput(
            N_("The district boundary crosses itself or is empty."),
            code="bad_boundary",
            field="geojson",
        )
    return geometry


class Districts:
    """The municipality's districts with their outlines, ready for point tests."""

    def __init__(self, boundaries: Mapping[str, str]) -> None:
        self._areas: list[tuple[str, PreparedGeometry]] = [
            (code, prep(parse_boundary(text))) for code, text in sorted(boundaries.items())
        ]

    @property
    def known(self) -> bool:
        return bool(self._areas)

    def locate(self, point: Point) -> str | None:
        """The district containing ``point`` (the first by code if outlines overlap)."""
        probe = ShapelyPoint(point.lon_e6 / 1_000_000, point.lat_e6 / 1_000_000)
        for code, area in self._areas:
            if area.covers(probe):
                return code
        return None
