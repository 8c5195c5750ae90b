"""Points and the coarse location that the log carries (docs/protocol.md §16.2).

A point is held in millionths of a degree (integers, like proposals). The log never
holds the point itself, only the south-west corner of its cell in a grid of 0.01° by
0.01° — about 1.1 km north to south everywhere, and about 0.56 km east to west at 60°
north — written as whole hundredths of a degree (``floor(lat_e6 / 10000)``).
"""

from __future__ import annotations

from dataclasses import dataclass

GRID_E6 = 10_000
"""The coarse grid's step in millionths of a degree: 0.01°."""

MAX_LAT_E6 = 90_000_000
MAX_LON_E6 = 180_000_000


@dataclass(frozen=True)
class Point:
    lat_e6: int
    lon_e6: int

    def __post_init__(self) -> None:
        if not -MAX_LAT_E6 <= self.lat_e6 <= MAX_LAT_E6:
            raise ValueError("latitude out of range")
        if not -MAX_LON_E6 <= self.lon_e6 <= MAX_LON_E6:
            raise ValueError("longitude out of range")


def coarse(point: Point) -> tuple[int, int]:
    """The grid cell of ``point`` as (lat_e2, lon_e2): its south-west corner in hundredths
    of a degree (floor division, so -0.001° lies in cell -1)."""
    return point.lat_e6 // GRID_E6, point.lon_e6 // GRID_E6


def squared_offset_e6(a: Point, b: Point) -> int:
    """A cheap, exact-integer ordering of nearness for "nearby" suggestions: squared
    distance in millionths of a degree with longitude scaled by 1/2 (cos 60°), good
    enough to rank neighbours in a city; never used for anything that is logged."""
    dlat = a.lat_e6 - b.lat_e6
    dlon = (a.lon_e6 - b.lon_e6) // 2
    return dlat * dlat + dlon * dlon
