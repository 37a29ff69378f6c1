"""Checks of the HTML report that need no browser: well-formed, self-contained, and the chart
drawn from the report's own figures."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from slimfile.layers.render_html import CHART_WIDTH, LABEL_WIDTH, VALUE_WIDTH
from slimfile.layers.report import LayersReport

URL_ATTRIBUTES = {"src", "href", "xlink:href", "action", "poster", "data", "srcset", "background", "formaction"}
FORBIDDEN_ELEMENTS = {"link", "img", "iframe", "object", "embed", "video", "audio", "source", "base", "frame"}


def parse(html: str) -> ET.Element:
    """The page as XML (the doctype line aside): it must be well-formed."""
    assert html.startswith("<!DOCTYPE html>\n")
    return ET.fromstring(html[len("<!DOCTYPE html>\n") :])


def assert_self_contained(root: ET.Element, html: str) -> None:
    for element in root.iter():
        assert element.tag not in FORBIDDEN_ELEMENTS, element.tag
        assert not (URL_ATTRIBUTES & set(element.attrib)), (element.tag, element.attrib)
        if element.tag == "script":
            assert element.attrib == {"type": "application/json", "id": "slimfile-layers-data"}
        if element.tag == "style":
            assert "url(" not in (element.text or "") and "@import" not in (element.text or "")
    assert not re.search(r"\b(?:https?|ftp|wss?):/?/", html), "an address in the page"


def assert_chart_matches(root: ET.Element, report: LayersReport) -> None:
    groups = [g for g in root.iter("g") if g.get("class") == "layer"]
    assert [int(g.get("data-layer")) for g in groups] == [layer.index for layer in report.layers]
    largest = max(layer.file_bytes for layer in report.layers)
    scale = (CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH) / largest
    for group, layer in zip(groups, report.layers):
        assert int(group.get("data-bytes")) == layer.file_bytes
        assert int(group.get("data-waste")) == layer.waste_bytes
        kept, waste = [r for r in group.iter("rect")]
        assert abs(float(kept.get("width")) + float(waste.get("width")) - layer.file_bytes * scale) < 0.02
        assert abs(float(waste.get("width")) - layer.waste_bytes * scale) < 0.02


def embedded_data(root: ET.Element) -> dict:
    script = next(e for e in root.iter("script") if e.get("id") == "slimfile-layers-data")
    return json.loads(script.text or "")
