"""The server-drawn SVG charts."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tracking.charts import Slot, calls_chart, nice_top

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    # Inline SVG in HTML needs no namespace; add it to read the markup as XML.
    return ET.fromstring(svg.replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))


@pytest.mark.parametrize(
    ("value", "top"),
    [(0, 4), (1, 4), (4, 4), (5, 8), (9, 12), (37, 40), (41, 60), (85, 100), (999, 1000)],
)
def test_the_axis_ends_on_a_round_number(value, top):
    assert nice_top(value) == top


def test_bars_are_as_tall_as_their_share_of_the_axis():
    slots = [Slot("a", "A", 8, 2, 0.5), Slot("b", "B", 4, 4, None)]

    svg = _parse(calls_chart(chart_id="c", title="T", description="D", slots=slots))

    calls = [float(r.get("height")) for r in svg.iter(f"{SVG}rect") if r.get("class") == "calls"]
    accepted = [
        float(r.get("height")) for r in svg.iter(f"{SVG}rect") if r.get("class") == "accepted"
    ]
    # The legend draws one swatch of each, then one bar per slot.
    assert calls[1:] == [192.0, 96.0]
    assert accepted[1:] == [48.0, 96.0]
    # No rate where nothing was screened: one point, no line through a fake 0 %.
    assert len([c for c in svg.iter(f"{SVG}circle") if c.get("class") == "rate"]) == 1
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "T"


def test_labels_are_escaped():
    svg = calls_chart(
        chart_id="c",
        title="<b>T</b>",
        description="D",
        slots=[Slot("<i>", "<script>alert(1)</script>", 1, 0, None)],
    )

    assert "<script>" not in svg and "<b>" not in svg and "<i>" not in svg
    assert "&lt;script&gt;" in svg
    _parse(svg)  # still well-formed
