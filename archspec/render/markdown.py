"""The report as a Markdown document: a summary list and a per-layer table."""

from __future__ import annotations

from archspec.analysis.receptive_field import FieldKind
from archspec.analysis.report import Report
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


def render_markdown(report: Report, max_depth: int | None = None) -> str:
    """A summary list and the layer table (modules down to ``max_depth``; 0: no table)."""
    totals = report.totals
    lines = [f"# {report.name}", ""]
    if report.doc:
        # A doc may hold any character through YAML's escapes ("\e[2J"): escaped, keeping its line breaks.
        lines += [escaped(report.doc.strip(), keep="\n"), ""]
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
    lines += [
        f"- **Input**: {input_text(report, code=True)} → **output** `{shape(report.output_shape)}`",
        f"- **Parameters**: {grouped(totals.params)} (buffers {grouped(totals.buffers)})",
        f"- **MACs**: {grouped(totals.macs)} ({scaled(totals.macs)}; FlopCounterMode / 2)",
        f"- **Activation memory**: {mebibytes(totals.activation_bytes)}; **parameter memory**: "
        f"{mebibytes(totals.param_bytes)}",
        f"- **Receptive field**: {field_text}",
        f"- **Smallest valid input**: {min_input_text(report, code=True)}",
    ]
    if report.warnings:
        lines += ["", "**Warnings**", ""] + [f"- `{warning}`" for warning in report.warnings]
    if max_depth == 0:
        return "\n".join(lines) + "\n"
    lines += [
        "",
        "| " + " | ".join(("Layer", "Op", "Output shape", "Params", "MACs", *FIELD_HEADERS)) + " |",
        "|---|---|---|" + "---:|" * (2 + len(FIELD_HEADERS)),
    ]
    for layer in report.shown_layers(max_depth):
        indent = "&nbsp;&nbsp;" * (layer.depth - 1)
        lines.append(
            f"| {indent}`{layer.path}` | {layer.op} | `{shape(layer.output_shape)}` | "
            f"{grouped(layer.params)} | {grouped(layer.macs)} | {' | '.join(field_cells(layer.rf))} |"
        )
    return "\n".join(lines) + "\n"
