"""The rows of ``archspec sweep`` as a table, JSON or CSV."""

from __future__ import annotations

import argparse
import json
from typing import Any

from archspec.commands.sweep import MEMORY_NOTE, TOTALS

# The table's memory columns, named as in the check report; the JSON's "memory" says the same.
MEMORY_NOTE_TABLE = (
    "Activations: leaf outputs x 4 bytes (float32, batch included), forward only; Param mem: parameters x 4 "
    "bytes.\nThe report has no training-memory figure (activations saved for backward, gradients, optimizer)."
)


def render(rows: list[dict[str, Any]], axes: dict[str, list[Any]], args: argparse.Namespace) -> str:
    if args.format == "json":
        document = {
            "spec": args.spec,
            "scale": args.scale,
            "sweep": axes,
            "batch": args.batch,
            "train": args.train,
            "input": args.input,
            "memory": MEMORY_NOTE,
            "rows": rows,
        }
        return json.dumps(document, indent=2, allow_nan=False)
    if args.format == "csv":
        return _csv(rows, list(axes))
    return _table(rows, list(axes), args)


def value_text(value: Any) -> str:
    """A setting as the command line writes it: strings bare, everything else as JSON (true, [3, 3], null)."""
    return value if isinstance(value, str) else json.dumps(value)


def _field_size(field: dict[str, Any] | None) -> str:
    if field is None:
        return "none"
    if field["kind"] != "exact":
        return field["kind"].replace("_", " ")
    return "x".join(str(size) for size in field["size"])


def _dims(values: list[int] | None) -> str:
    return "x".join(str(value) for value in values) if values else "none"


def _csv(rows: list[dict[str, Any]], keys: list[str]) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*keys, *TOTALS, "receptive_field", "jump", "min_input", "error"])
    for row in rows:
        settings = [value_text(row["settings"][key]) for key in keys]
        if row["error"]:
            writer.writerow([*settings, *([""] * (len(TOTALS) + 3)), row["error"]["message"]])
            continue
        field = row["receptive_field"]
        jump = "x".join(map(str, field["jump"])) if field and field["kind"] == "exact" else ""
        writer.writerow(
            [*settings, *(row[key] for key in TOTALS), _field_size(field), jump, _dims(row["min_input"]), ""]
        )
    return out.getvalue().rstrip("\n")


def _table(rows: list[dict[str, Any]], keys: list[str], args: argparse.Namespace) -> str:
    from archspec.render.numbers import grouped, mebibytes, scaled

    headers = [*keys, "Params", "MACs", "Activations", "Param mem", "RF", "Smallest input"]
    cells: list[list[str]] = []
    errors: list[str] = []
    for row in rows:
        settings = [value_text(row["settings"][key]) for key in keys]
        if row["error"]:
            first = row["error"]["message"].splitlines()[0]
            cells.append([*settings, f"invalid: see error {len(errors) + 1} below"])
            chosen = ", ".join(f"{key}={value}" for key, value in zip(keys, settings, strict=True))
            errors.append(f"{len(errors) + 1}. {chosen}: {first}")
            continue
        cells.append(
            [
                *settings,
                grouped(row["params"]),
                scaled(row["macs"]),
                mebibytes(row["activation_bytes"]),
                mebibytes(row["param_bytes"]),
                _field_size(row["receptive_field"]),
                _dims(row["min_input"]),
            ]
        )
    widths = [max([len(header)] + [len(c[i]) for c in cells if i < len(c)]) for i, header in enumerate(headers)]

    def line(values: list[str]) -> str:
        if len(values) < len(headers):  # an invalid row: its note runs across the number columns
            return "  ".join(v.ljust(w) for v, w in zip(values[:-1], widths, strict=False)) + "  " + values[-1]
        return "  ".join(
            v.ljust(w) if i < len(keys) else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    title = f"sweep of {args.spec}: {len(rows)} combinations, batch {args.batch}" + (", train" if args.train else "")
    rule = "=" * max(len(line(headers)), len(title))
    out = [rule, title, rule, line(headers), "-" * len(rule), *(line(c) for c in cells), rule]
    out += [MEMORY_NOTE_TABLE]
    if errors:
        out += ["Invalid combinations:", *errors]
    return "\n".join(out)
