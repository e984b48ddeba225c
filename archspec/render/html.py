"""The report as an HTML fragment, for notebooks (``Report._repr_html_``): the Markdown rendering's content
(:mod:`archspec.render.markdown`) — summary list, warnings, layer table — with every text escaped for HTML."""

from __future__ import annotations

from html import escape

from archspec.analysis.report import Report
from archspec.render.markdown import HEADERS, NUMERIC_COLUMNS, Part, layer_cells, summary_items
from archspec.user_text import escaped

_RIGHT = ' style="text-align: right"'


def _html(parts: list[Part]) -> str:
    tags = {"code": "code", "strong": "strong"}
    return "".join(
        f"<{tags[kind]}>{escape(value)}</{tags[kind]}>" if kind in tags else escape(value) for kind, value in parts
    )


def render_html(report: Report, max_depth: int | None = None) -> str:
    """A heading, the doc, the summary list, warnings and the layer table (modules down to ``max_depth``; 0: no
    table), in one ``<div>``; every text the spec or its file name brings is escaped (``escape``, quotes too)."""
    out = ['<div class="archspec-report">', f"<h3>{escape(report.name)}</h3>"]
    if report.doc:
        # As in the Markdown: characters a terminal acts on shown as escapes; line breaks kept as breaks.
        out.append("<p>" + escape(escaped(report.doc.strip(), keep="\n")).replace("\n", "<br>\n") + "</p>")
    out += ["<ul>", *(f"<li>{_html(item)}</li>" for item in summary_items(report)), "</ul>"]
    if report.warnings:
        out += ["<p><strong>Warnings</strong></p>", "<ul>"]
        out += [f"<li><code>{escape(str(warning))}</code></li>" for warning in report.warnings]
        out.append("</ul>")
    if max_depth != 0:
        first_numeric = len(HEADERS) - NUMERIC_COLUMNS
        header = "".join(
            f"<th{_RIGHT if index >= first_numeric else ''}>{escape(name)}</th>" for index, name in enumerate(HEADERS)
        )
        out += ["<table>", f"<thead><tr>{header}</tr></thead>", "<tbody>"]
        for layer in report.shown_layers(max_depth):
            cells = layer_cells(layer)
            indent = "&nbsp;&nbsp;" * (layer.depth - 1)
            row = [f"<td>{indent}{_html(cells[0:1])}</td>"] + [
                f"<td{_RIGHT if index >= first_numeric else ''}>{_html([cell])}</td>"
                for index, cell in enumerate(cells[1:], start=1)
            ]
            out.append(f"<tr>{''.join(row)}</tr>")
        out += ["</tbody>", "</table>"]
    out.append("</div>")
    return "\n".join(out) + "\n"
