"""The report as a Markdown document (a summary list and a per-layer table), and the content it shares with the
HTML rendering (:mod:`archspec.render.html`): both write the same parts, each escaped for its own language.

User text (a doc, file names in warnings) reaches notebooks, which render Markdown's raw HTML: outside code it
is written with HTML's entities for ``<`` and for an ``&`` that would start one, and in code spans fenced with
more backticks than it holds, so no text of the user's can open a tag or a code span of its own.
"""

from __future__ import annotations

import re

from archspec.analysis.receptive_field import FieldKind
from archspec.analysis.report import LayerReport, Report
from archspec.render.numbers import (
    FIELD_HEADERS,
    TOKEN_FIELD,
    field_cells,
    grouped,
    input_text,
    mebibytes,
    min_input_text,
    scaled,
    shape,
)
from archspec.user_text import escaped

# A part of a line: (kind, text), kind "text", "code" or "strong"; each renderer writes and escapes the kinds.
Part = tuple[str, str]
HEADERS = ("Layer", "Op", "Output shape", "Params", "MACs", *FIELD_HEADERS)
NUMERIC_COLUMNS = 2 + len(FIELD_HEADERS)  # the last columns, aligned right


_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")  # what Markdown would read as an entity ("&amp;"); "A & B" is text


def text(value: str) -> str:
    """Markdown text that shows ``value`` as it is: no HTML tag, entity or autolink can start in it (``<``
    always, ``&`` where an entity would follow, written as entities; the rest is left readable)."""
    return _ENTITY.sub("&amp;", value).replace("<", "&lt;")


def code(value: str) -> str:
    """A code span that shows ``value`` as it is, whatever backticks it holds (CommonMark: a fence longer
    than every run of backticks inside; a space pads a value that starts or ends with one, or with a space)."""
    fence = "`" * (max((len(run) for run in re.findall("`+", value)), default=0) + 1)
    pad = " " if value[:1] in ("`", " ") or value[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def marked(value: str) -> list[Part]:
    """Parts of archspec's own text that marks code with single backticks (render.numbers' ``code=True``)."""
    return [("code" if index % 2 else "text", piece) for index, piece in enumerate(value.split("`")) if piece]


def summary_items(report: Report) -> list[list[Part]]:
    """The summary list, one item of parts each: input and output, counts, memory, field, smallest input."""
    totals = report.totals
    field = report.receptive_field
    field_text = (
        ("none" if report.input_vocab is None else TOKEN_FIELD)
        if field is None
        else (
            f"{field.kind.replace('_', ' ')}"
            if field.kind != FieldKind.EXACT
            else f"size {shape(list(field.size))}, jump {shape(list(field.jump))}, start {shape(list(field.start))}, "
            f"padding {shape(list(field.padding))}"
        )
    )
    return [
        [
            ("strong", "Input"),
            ("text", ": "),
            *marked(input_text(report, code=True)),
            ("text", " → "),
            ("strong", "output"),
            ("text", " "),
            ("code", shape(report.output_shape)),
        ],
        [("strong", "Parameters"), ("text", f": {grouped(totals.params)} (buffers {grouped(totals.buffers)})")],
        [("strong", "MACs"), ("text", f": {grouped(totals.macs)} ({scaled(totals.macs)}; FlopCounterMode / 2)")],
        [
            ("strong", "Activation memory"),
            ("text", f": {mebibytes(totals.activation_bytes)}; "),
            ("strong", "parameter memory"),
            ("text", f": {mebibytes(totals.param_bytes)}"),
        ],
        [("strong", "Receptive field"), ("text", f": {field_text}")],
        [("strong", "Smallest valid input"), ("text", ": "), *marked(min_input_text(report, code=True))],
    ]


def layer_cells(layer: LayerReport) -> list[Part]:
    """One table row's cells (its indentation is the renderer's: ``layer.depth``)."""
    return [
        ("code", layer.path),
        ("text", layer.op),
        ("code", shape(layer.output_shape)),
        ("text", grouped(layer.params)),
        ("text", grouped(layer.macs)),
        *(("text", cell) for cell in field_cells(layer.rf)),
    ]


def _markdown(parts: list[Part]) -> str:
    return "".join(
        code(value) if kind == "code" else f"**{text(value)}**" if kind == "strong" else text(value)
        for kind, value in parts
    )


def render_markdown(report: Report, max_depth: int | None = None) -> str:
    """A summary list and the layer table (modules down to ``max_depth``; 0: no table)."""
    lines = [f"# {text(report.name)}", ""]
    if report.doc:
        # A doc may hold any character through YAML's escapes ("\e[2J"): escaped, keeping its line breaks.
        lines += [text(escaped(report.doc.strip(), keep="\n")), ""]
    lines += [f"- {_markdown(item)}" for item in summary_items(report)]
    if report.warnings:
        lines += ["", "**Warnings**", ""] + [f"- {code(str(warning))}" for warning in report.warnings]
    if max_depth == 0:
        return "\n".join(lines) + "\n"
    lines += ["", "| " + " | ".join(HEADERS) + " |", "|---|---|---|" + "---:|" * NUMERIC_COLUMNS]
    for layer in report.shown_layers(max_depth):
        indent = "&nbsp;&nbsp;" * (layer.depth - 1)
        lines.append(f"| {indent}" + " | ".join(_markdown([cell]) for cell in layer_cells(layer)) + " |")
    return "\n".join(lines) + "\n"
