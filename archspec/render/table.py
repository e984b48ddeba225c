"""A readable per-layer table in the spirit of torchinfo's summary, with receptive-field columns."""

from __future__ import annotations

from archspec.analysis.receptive_field import FieldKind
from archspec.analysis.report import Report
from archspec.analysis.tiling import Tiling
from archspec.ops.registry import get_container
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
from archspec.user_text import file_name

_HEADERS = ("Layer (path)", "Op", "Output shape", "Params", "MACs", *FIELD_HEADERS)


def render_table(report: Report, max_depth: int | None = None) -> str:
    """The layer table (modules down to ``max_depth``; 0: none, only the summary) and the network's totals."""
    rows = []
    for layer in report.shown_layers(max_depth):
        name = "  " * (layer.depth - 1) + layer.path.rsplit(".", 1)[-1]
        op = (
            f"{layer.op} (train)"
            if layer.train_only and (layer.depth == 1 or _starts_side_output(layer.op))
            else layer.op
        )
        rows.append(
            (
                name,
                op,
                shape(layer.output_shape),
                grouped(layer.params) if layer.params else "–",
                grouped(layer.macs) if layer.macs else "–",
                *field_cells(layer.rf),
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(_HEADERS)]
    right = set(range(3, len(_HEADERS)))

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "=" * len(line(_HEADERS))
    # The file name is the user's (any byte but '/'): escaped, so that it cannot drive the terminal.
    scale = f" (scale {file_name(report.scale)})" if report.scale is not None else ""
    out = [rule, f"{report.name}{scale}" + (f" — {file_name(report.file)}" if report.file else ""), rule]
    if max_depth != 0:
        out += [line(_HEADERS), "-" * len(rule), *(line(r) for r in rows), rule]
    totals = report.totals
    field = report.receptive_field
    if field is None:
        field_text = "none (no spatial output)" if report.input_vocab is None else TOKEN_FIELD
    elif field.kind != FieldKind.EXACT:
        field_text = f"{field.kind.replace('_', ' ')} ({field.reason})"
    else:
        field_text = (
            f"size {shape(list(field.size))}, jump {shape(list(field.jump))}, "
            f"start {shape(list(field.start))}, padding {shape(list(field.padding))}"
        )
    outputs = ", ".join(f"{o['name']} {shape(o['shape'])}" for o in report.outputs)
    out += [
        f"Input: {input_text(report)}   Output{'s' if len(report.outputs) > 1 else ''}: "
        f"{outputs if len(report.outputs) > 1 else shape(report.output_shape)}   "
        f"Smallest valid input: {min_input_text(report)}",
        f"Params: {grouped(totals.params)} (trainable {grouped(totals.trainable_params)})   "
        f"Buffers: {grouped(totals.buffers)}",
        f"MACs: {grouped(totals.macs)} ({scaled(totals.macs)}; FLOPs = 2 × MACs, FlopCounterMode convention)",
        f"Memory: activations {mebibytes(totals.activation_bytes)} (leaf outputs, float32)   "
        f"params {mebibytes(totals.param_bytes)}",
        f"Receptive field: {field_text}",
    ]
    if report.tiling is not None:
        out.append(_tiling_text(report.tiling))
    if any(layer.train_only for layer in report.layers) and not report.train:
        out.append(
            "(train): runs only in training; its MACs and activations are not in the totals (--train "
            "reports the training graph)"
        )
    out += [str(warning) for warning in report.warnings]  # FILE:LINE:COL: warning: PATH: what — fix
    out.append(rule)
    return "\n".join(out)


def _tiling_text(tiling: Tiling) -> str:
    return (
        f"Tiling: tile {shape(tiling.tile)}, halo {shape(tiling.halo_before)} before and "
        f"{shape(tiling.halo_after)} after, stride {shape(tiling.stride)} (overlap {shape(tiling.overlap)}); "
        f"keep outputs from {shape(tiling.keep_first)}, {shape(tiling.keep)} per tile; "
        f"{' × '.join(map(str, tiling.tiles))} = {grouped(tiling.count)} tiles"
    )


def _starts_side_output(op: str) -> bool:
    """Whether the row is a container whose children compute a side output (a head): where "(train)" marks
    the start of what runs only in training."""
    container = get_container(op)
    return container is not None and container.produces_side_output
