"""Open311 documents: names, times, coordinates and the XML shapes (docs/protocol.md §16.9)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.core import open311


@pytest.mark.parametrize(
    ("name", "split"),
    [
        ("services.json", ("services", "json")),
        ("requests.xml", ("requests", "xml")),
        ("services.yaml", None),
        ("json", None),
        (".json", None),
        ("a.b.json", ("a.b", "json")),
    ],
)
def test_split_name(name: str, split: tuple[str, str] | None) -> None:
    assert open311.split_name(name) == split


def test_w3c_times() -> None:
    assert open311.w3c(0) == "1970-01-01T00:00:00Z"
    assert open311.parse_w3c("1970-01-02T00:00:00Z") == 86_400
    assert open311.parse_w3c("2026-12-01T13:00:00+03:00") == open311.parse_w3c(
        "2026-12-01T10:00:00Z"
    )
    assert open311.parse_w3c("2026-12-01T10:00:00") is None  # no zone
    assert open311.parse_w3c("yesterday") is None


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 253_402_300_799))  # up to 9999-12-31T23:59:59Z
def test_w3c_round_trip(seconds: int) -> None:
    text = open311.w3c(seconds)
    assert text is not None and open311.parse_w3c(text) == seconds


@settings(max_examples=300, deadline=None)
@given(st.integers(-180_000_000, 180_000_000))
def test_coordinates_round_trip_exactly(micro: int) -> None:
    assert open311.parse_coordinate(open311.degrees_text(micro), 180) == micro


@pytest.mark.parametrize("text", ["", "north", "NaN", "inf", "181", "-180.0000001"])
def test_bad_coordinates(text: str) -> None:
    assert open311.parse_coordinate(text, 180) is None


def test_statuses() -> None:
    assert [open311.open311_status(s) for s in ("received", "in_work", "reopened")] == ["open"] * 3
    assert [open311.open311_status(s) for s in ("answered", "closed")] == ["closed"] * 2


def test_xml_shapes() -> None:
    body, media = open311.render("services", [open311.service("roads", "Roads", "")], "xml")
    assert media == "text/xml"
    root = ET.fromstring(body)
    assert root.tag == "services" and root.findtext("service/metadata") == "false"
    body, _ = open311.render("errors", open311.errors(403, "no key"), "xml")
    assert ET.fromstring(body).findtext("error/description") == "no key"
    body, _ = open311.render("discovery", open311.discovery("http://x/open311/v2", "c", "m"), "xml")
    formats = [f.text for f in ET.fromstring(body).iter("format")]
    assert formats == ["application/json", "text/xml"]
