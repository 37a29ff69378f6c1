"""``slimfile layers --output-format html``: one self-contained page to open in a browser.

No network and no external assets: the style is inline, the chart is inline SVG drawn here
(one bar per layer, its waste in red), and the whole report is embedded as JSON
(``<script type="application/json" id="slimfile-layers-data">``) for tools. The page is also
well-formed XML (every element closed, text escaped, no named entities), so that it can be
checked with any XML parser. Every chart bar carries ``data-layer``, ``data-bytes`` and
``data-waste``: the figures it was drawn from.
"""

from __future__ import annotations

import json
from html import escape

from slimfile.layers.render_text import (
    SHOWN_WASTE,
    estimate_cell,
    item_line,
    layer_label,
    recovery_sentence,
    rule_cell,
    short,
    where,
)
from slimfile.layers.report import LayersReport
from slimfile.report.text import plural
from slimfile.verify.report import human_size

CHART_WIDTH = 960
LABEL_WIDTH = 380
VALUE_WIDTH = 170
ROW_HEIGHT = 28
_STATUS = {"fires": "fires: fix available", "silent": "does not fire here", "pending": "not in this slimfile yet"}

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1100px; color: #1d2330; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
.sub { color: #5b6475; margin-top: 0; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 16px 0; }
.card { border: 1px solid #d8dde6; border-radius: 8px; padding: 10px 14px; min-width: 150px; }
.card b { display: block; font-size: 20px; }
.card.good b { color: #17803d; } .card.bad b { color: #c0362c; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { border-bottom: 1px solid #e4e7ed; padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f4f6f9; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
code { font: 12px ui-monospace, Menlo, Consolas, monospace; background: #f4f6f9; padding: 1px 4px; border-radius: 4px; word-break: break-all; }
.fires { color: #17803d; font-weight: 600; } .pending { color: #8a5a00; } .silent, .none { color: #5b6475; }
.warn { color: #8a5a00; }
svg text { font: 12px system-ui, sans-serif; fill: #1d2330; }
svg .kept { fill: #4a90d9; } svg .waste { fill: #d9534f; }
.legend span { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; vertical-align: -1px; }
details { margin: 6px 0; }
"""


def render(report: LayersReport) -> str:
    if report.error is not None:
        body = f"<h1>slimfile layers</h1><p class=\"warn\">Error: {escape(report.error)}</p>"
        return _page("slimfile layers: error", body, report)
    body = "\n".join(
        [
            f"<h1>slimfile layers: <code>{escape(report.image)}</code></h1>",
            f"<p class=\"sub\">{escape(_source(report))}</p>",
            _cards(report),
            f"<p>{escape(recovery_sentence(report))}</p>",
            "<h2>Layer sizes and waste</h2>",
            chart(report),
            "<h2>Layers, oldest first</h2>",
            _layers(report),
            "<h2>Waste, largest first</h2>",
            _waste(report),
            _rules(report),
            _notes(report),
        ]
    )
    return _page(f"slimfile layers: {report.image}", body, report)


def _page(title: str, body: str, report: LayersReport) -> str:
    data = json.dumps(report.to_dict(), ensure_ascii=True, sort_keys=True)
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8" />\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1" />\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n"
        f'<script type="application/json" id="slimfile-layers-data">{data}</script>\n'
        "</body>\n</html>\n"
    )


def _source(report: LayersReport) -> str:
    parts = []
    if report.dockerfile:
        parts.append(f"Dockerfile {report.dockerfile}")
    if report.context:
        parts.append(f"context {report.context}")
    if report.image_id:
        parts.append(f"image {report.image_id[:19]}")
    return ", ".join(parts)


def _cards(report: LayersReport) -> str:
    efficiency = report.efficiency * 100
    below = report.fail_under is not None and efficiency < report.fail_under
    cards = [
        ("efficiency", f"{efficiency:.1f}%", "bad" if below else "good" if efficiency >= 90 else ""),
        ("image", f"{human_size(report.image_size)}", ""),
        ("layers", str(len(report.layers)), ""),
        ("waste", human_size(report.waste_bytes), "bad" if report.waste_bytes else ""),
        ("slimfile's fixes recover", human_size(report.recoverable_bytes), "good" if report.recoverable_bytes else ""),
    ]
    items = "".join(f'<div class="card {kind}"><b>{escape(value)}</b>{escape(label)}</div>' for label, value, kind in cards)
    return f'<div class="cards">{items}</div>'


def chart(report: LayersReport) -> str:
    """One horizontal bar per layer, scaled to the largest; its waste is the red end."""
    largest = max((layer.file_bytes for layer in report.layers), default=0)
    bar_width = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = ROW_HEIGHT * max(1, len(report.layers)) + 8
    rows = []
    for row, layer in enumerate(report.layers):
        y = 4 + row * ROW_HEIGHT
        width = bar_width * layer.file_bytes / largest if largest else 0.0
        waste = bar_width * layer.waste_bytes / largest if largest else 0.0
        label = short(f"{layer.index}. line {where(layer)}: {layer_label(layer, report)}", 58)
        value = human_size(layer.file_bytes) + (f" ({human_size(layer.waste_bytes)} waste)" if layer.waste_bytes else "")
        rows.append(
            f'<g class="layer" data-layer="{layer.index}" data-bytes="{layer.file_bytes}" data-waste="{layer.waste_bytes}">'
            f"<title>{escape(layer_label(layer, report))}</title>"
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 18}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="kept" x="{LABEL_WIDTH}" y="{y + 4}" width="{max(width - waste, 0):.2f}" height="{ROW_HEIGHT - 8}" />'
            f'<rect class="waste" x="{LABEL_WIDTH + max(width - waste, 0):.2f}" y="{y + 4}" width="{waste:.2f}" height="{ROW_HEIGHT - 8}" />'
            f'<text x="{LABEL_WIDTH + width + 6:.2f}" y="{y + 18}">{escape(value)}</text>'
            "</g>"
        )
    legend = '<p class="legend"><span style="background:#4a90d9"></span>kept<span style="background:#d9534f"></span>waste</p>'
    return (
        f'<svg id="layer-chart" role="img" aria-label="layer sizes and waste" width="{CHART_WIDTH}" height="{height}" '
        f'viewBox="0 0 {CHART_WIDTH} {height}">' + "".join(rows) + "</svg>" + legend
    )


def _layers(report: LayersReport) -> str:
    head = '<tr><th class="num">#</th><th class="num">line</th><th>instruction</th><th class="num">size</th><th class="num">waste</th><th>largest folders</th></tr>'
    rows = []
    for layer in report.layers:
        folders = "<br />".join(f"<code>{escape(p)}</code> {escape(human_size(s))}" for p, s, _ in layer.largest_folders[:3])
        fixes = "".join(f'<br /><span class="fires">{escape(f.code)}</span> {escape(f.name or "")}: {escape(f.estimate or "")}' for f in layer.fixes)
        rows.append(
            f'<tr><td class="num">{layer.index}</td><td class="num">{escape(where(layer))}</td>'
            f"<td><code>{escape(short(layer_label(layer, report), 140))}</code>{fixes}</td>"
            f'<td class="num">{escape(human_size(layer.file_bytes))}</td>'
            f'<td class="num">{escape(human_size(layer.waste_bytes)) if layer.waste_bytes else ""}</td><td>{folders}</td></tr>'
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _waste(report: LayersReport) -> str:
    if not report.waste:
        return "<p>No waste found.</p>"
    head = '<tr><th class="num">line</th><th>what</th><th class="num">measured</th><th>rule that removes it</th><th>fix estimate</th></tr>'
    rows = []
    for item in report.waste[:SHOWN_WASTE]:
        status = item.rule.status if item.rule else "none"
        examples = "<br />".join(f"<code>{escape(p)}</code> {escape(human_size(s))}" for p, s in item.examples)
        what = ("base image " if item.from_base else "") + item.describe()
        rows.append(
            f'<tr><td class="num">{escape(item_line(item))}</td><td>{escape(what)}<details><summary>{escape(plural(item.files, "file"))}</summary>{examples}</details></td>'
            f'<td class="num">{escape(human_size(item.bytes))}</td><td class="{status}">{escape(rule_cell(item.rule))}</td>'
            f"<td>{escape(estimate_cell(item.rule))}</td></tr>"
        )
    rest = report.waste[SHOWN_WASTE:]
    note = f"<p>{escape(plural(len(rest), 'smaller item'))} ({escape(human_size(sum(i.bytes for i in rest)))}) not shown; the embedded JSON has them all.</p>" if rest else ""
    return f"<table>{head}{''.join(rows)}</table>{note}"


def _rules(report: LayersReport) -> str:
    totals = report.rule_totals()
    if not totals:
        return ""
    head = '<tr><th>rule</th><th>status</th><th class="num">measured waste</th><th>fix estimate</th></tr>'
    rows = "".join(
        f'<tr><td>{escape(t.code)} {escape(t.name or "")}</td><td class="{t.status}">{escape(_STATUS.get(t.status, t.status))}</td>'
        f'<td class="num">{escape(human_size(t.measured_bytes))}</td><td>{escape(", ".join(t.estimates) or "-")}</td></tr>'
        for t in totals
    )
    return f"<h2>By rule</h2><table>{head}{rows}</table>"


def _notes(report: LayersReport) -> str:
    lines = [f'<p class="warn">The image does not match the Dockerfile: {escape(m)}</p>' for m in report.mismatches]
    lines += [f"<p>{escape(note)}</p>" for note in report.notes]
    return "\n".join(lines)
