"""``archspec diff``'s table: the two sides' totals with their difference, then the modules that differ."""

from __future__ import annotations

from typing import Any

from archspec.render.numbers import grouped, shape

MARKS = {"added": "+", "removed": "-", "changed": "~"}


def render_table(result: dict[str, Any], max_depth: int | None = None) -> str:
    a, b = result["a"], result["b"]
    title = f"A: {_side(a)}\nB: {_side(b)}"
    totals = [
        ("Params", "params", grouped),
        ("Buffers", "buffers", grouped),
        ("MACs", "macs", grouped),
        ("Activations (bytes)", "activation_bytes", grouped),
        ("Param mem (bytes)", "param_bytes", grouped),
    ]
    summary = [("", "A", "B", "B - A")]
    for label, key, text in totals:
        left, right = a["totals"][key], b["totals"][key]
        summary.append((label, text(left), text(right), _signed(right - left, text)))
    for label, key in (("Input", "input_shape"), ("Output", "output_shape"), ("Smallest input", "min_input")):
        summary.append((label, _shape(a[key]), _shape(b[key]), "" if a[key] == b[key] else "differs"))
    summary.append(("Receptive field", _field(a["receptive_field"]), _field(b["receptive_field"]), ""))
    out = [title, "", *_aligned(summary, right_from=1)]
    shown = [layer for layer in result["layers"] if max_depth is None or layer["depth"] <= max_depth]
    out.append("")
    if not result["layers"]:
        out.append(f"No module differs ({result['same_layers']} modules alike).")
        return "\n".join(out)
    rows = [
        ("", "Module (path)", "Op", "Output A", "Output B", "Params A", "Params B", "MACs A", "MACs B", "Differs in")
    ]
    for layer in shown:
        left, right = layer["a"] or {}, layer["b"] or {}
        op = left.get("op") if left.get("op", right.get("op")) == right.get("op", left.get("op")) else None
        rows.append(
            (
                MARKS[layer["change"]],
                "  " * (layer["depth"] - 1) + layer["path"],
                op or f"{left.get('op', '')}→{right.get('op', '')}".strip("→"),
                _shape(left.get("output_shape")),
                _shape(right.get("output_shape")),
                _count(left.get("params")),
                _count(right.get("params")),
                _count(left.get("macs")),
                _count(right.get("macs")),
                ", ".join(layer["fields"]) if layer["change"] == "changed" else "",
            )
        )
    hidden = len(result["layers"]) - len(shown)
    out += _aligned(rows, right_from=5)
    out.append(
        f"{len(result['layers'])} modules differ (+ only in B, - only in A, ~ changed), "
        f"{result['same_layers']} alike" + (f"; {hidden} deeper ones not shown (--depth)" if hidden else "")
    )
    return "\n".join(out)


def _side(side: dict[str, Any]) -> str:
    settings = " ".join(f"--set {key}={value}" for key, value in side["settings"].items())
    return f"{side['name']} ({side['spec']}{' ' + settings if settings else ''})"


def _signed(delta: int, text: Any) -> str:
    if delta == 0:
        return "="
    return ("+" if delta > 0 else "-") + text(abs(delta))


def _shape(values: list[Any] | None) -> str:
    if values is None:
        return "–"
    if values and isinstance(values[0], list):  # a merge's several inputs
        return " ".join(shape(v) for v in values)
    return shape(values)


def _count(value: int | None) -> str:
    return "–" if value is None else grouped(value)


def _field(field: dict[str, Any] | None) -> str:
    if field is None:
        return "none"
    if field["kind"] != "exact":
        return field["kind"].replace("_", " ")
    return "size " + shape(field["size"]) + ", jump " + shape(field["jump"])


def _aligned(rows: list[tuple[str, ...]], right_from: int) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            c.rjust(w) if i >= right_from else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
