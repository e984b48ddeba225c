"""``archspec diff A B``: two reports compared without torch — their totals, and the modules that differ,
aligned by path (one spec under two settings: ``archspec diff A --set-a K=V --set-b K=W``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from archspec.commands.options import check_analysis_options, input_shape, parse_overrides
from archspec.commands.shared import EXIT_INVALID, EXIT_OK, STDIN, UsageError
from archspec.errors import SpecError

# What a module row is compared on; the report's own names (LayerReport.to_dict).
COMPARED = ("op", "input_shape", "output_shape", "params", "buffers", "macs", "activation_bytes", "rf")
TOTALS = ("params", "trainable_params", "buffers", "macs", "activation_bytes", "param_bytes")


def run_diff(args: argparse.Namespace) -> int:
    check_analysis_options(args)
    if args.b is None and not (args.overrides_a or args.overrides_b):
        raise UsageError("diff needs B, or --set-a/--set-b to compare A with itself under two settings")
    b_source = args.a if args.b is None else args.b
    if args.a == STDIN and b_source == STDIN:
        raise UsageError("'-' (standard input) can be one side only")
    sides = {
        "a": (args.a, {**parse_overrides(args.overrides), **parse_overrides(args.overrides_a)}),
        "b": (b_source, {**parse_overrides(args.overrides), **parse_overrides(args.overrides_b)}),
    }
    input_shape(args.input)
    reports: dict[str, Any] = {}
    failed = False
    for side, (source, overrides) in sides.items():
        try:
            reports[side] = _report(source, overrides, args)
        except SpecError as error:
            print(f"{side.upper()} ({_described(source, overrides)}) is invalid:\n{error}", file=sys.stderr)
            failed = True
    if failed:
        return EXIT_INVALID
    result = compare(reports["a"], reports["b"])
    for side, (source, overrides) in sides.items():
        result[side] = {"spec": source, "settings": overrides, **result[side]}
    if args.format == "json":
        import json

        print(json.dumps(result, indent=2, allow_nan=False))
    else:
        from archspec.commands.diff_render import render_table

        print(render_table(result, args.depth))
    return EXIT_OK if result["same"] else EXIT_INVALID


def _report(source: str, overrides: dict[str, Any], args: argparse.Namespace) -> Any:
    from archspec.commands.reports import analyse_spec
    from archspec.commands.shared import STDIN_NAME
    from archspec.loading.resolve import load_document, load_stream
    from archspec.spec.validate import validate

    document = load_stream(sys.stdin.buffer, STDIN_NAME) if source == STDIN else load_document(source)
    spec = validate(document, overrides, override_origin="--set", scale=args.scale)
    return analyse_spec(spec, input_shape(args.input), args)[1]


def _described(source: str, overrides: dict[str, Any]) -> str:
    settings = " ".join(f"--set {key}={value}" for key, value in overrides.items())
    return f"{source} {settings}".strip()


def compare(a: Any, b: Any) -> dict[str, Any]:
    """The two reports' summaries, the totals' differences (B - A), and each module that differs: only in A
    (``removed``), only in B (``added``), or in both with other values (``changed``, naming the fields)."""
    a_rows = {row.path: row.to_dict() for row in a.layers}
    b_rows = {row.path: row.to_dict() for row in b.layers}
    layers = []
    for path in aligned([row.path for row in a.layers], [row.path for row in b.layers]):
        left, right = a_rows.get(path), b_rows.get(path)
        if left is None or right is None:
            change, fields = ("added" if left is None else "removed"), list(COMPARED)
        else:
            fields = [name for name in COMPARED if left[name] != right[name]]
            if not fields:
                continue
            change = "changed"
        layers.append(
            {
                "path": path,
                "change": change,
                "depth": (left or right)["depth"],  # type: ignore[index]
                "fields": fields,
                "a": {name: left[name] for name in COMPARED} if left else None,
                "b": {name: right[name] for name in COMPARED} if right else None,
            }
        )
    a_totals, b_totals = a.totals.to_dict(), b.totals.to_dict()
    a_summary, b_summary = _summary(a), _summary(b)
    return {
        "a": a_summary,
        "b": b_summary,
        "totals_delta": {key: b_totals[key] - a_totals[key] for key in TOTALS},
        "layers": layers,
        "same_layers": len(set(a_rows) & set(b_rows)) - sum(layer["change"] == "changed" for layer in layers),
        # the names aside: the same network under two names is no difference
        "same": not layers and {**a_summary, "name": None} == {**b_summary, "name": None},
    }


def _summary(report: Any) -> dict[str, Any]:
    field = report.receptive_field.to_dict() if report.receptive_field is not None else None
    return {
        "name": report.name,
        "input_shape": report.input_shape,
        "output_shape": report.output_shape,
        "totals": report.totals.to_dict(),
        "receptive_field": field,
        "min_input": report.min_input,
    }


def aligned(a_paths: list[str], b_paths: list[str]) -> list[str]:
    """Every path once: A's in A's order, each path only B has placed after the path B lists before it that
    A has too (so an added block sits where it is in B); linear in the number of modules."""
    in_a = set(a_paths)
    after: dict[str | None, list[str]] = {}
    last: str | None = None
    for path in b_paths:
        if path in in_a:
            last = path
        else:
            after.setdefault(last, []).append(path)
    order = list(after.get(None, []))
    for path in a_paths:
        order.append(path)
        order.extend(after.get(path, []))
    return order
