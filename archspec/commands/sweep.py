"""``archspec sweep``: analyse every combination of ``--set KEY=V1,V2,...`` values, one row each, without torch.

Each combination is loaded and analysed exactly as ``archspec check SPEC --set KEY=V ...`` would (the same
overrides, validation and report), so a row holds the numbers of that check run; an invalid combination is a
row carrying its located error. ``--jobs N`` spreads the combinations over N processes.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from archspec.commands.options import check_analysis_options, input_shape, parse_overrides
from archspec.commands.shared import EXIT_INVALID, EXIT_OK, STDIN, STDIN_NAME, UsageError
from archspec.user_text import cut

# A sweep beyond this is almost certainly a typo (a product of long lists); each row is a full analysis.
MAX_COMBINATIONS = 10_000
MEMORY_NOTE = (
    "memory: activation_bytes = leaf outputs x 4 bytes (float32, batch included, forward); param_bytes = "
    "parameters x 4 bytes; the report has no training-memory figure"
)
TOTALS = ("params", "trainable_params", "buffers", "macs", "activation_bytes", "param_bytes")


def parse_sweep(pairs: list[str]) -> dict[str, list[Any]]:
    """``KEY=V1,V2,...`` → {KEY: [V1, V2, ...]}: the values are read as one YAML flow sequence ``[V1,V2,...]``,
    so each is typed as ``--set KEY=V`` would type it, and a list value is written in brackets
    (``--set kernel=[3,3],[5,5]``)."""
    axes: dict[str, list[Any]] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set expects KEY=V1,V2,..., got {cut(pair)!r}")
        key = key.strip()
        if key in axes:
            raise UsageError(f"--set {cut(key)} is given twice: list all its values in one --set {cut(key)}=V1,V2")
        values = parse_overrides([f"{key}=[{text}]"])[key] if text.strip() else []
        if not isinstance(values, list):  # a value that closes the bracket itself, e.g. '1]: [2'
            raise UsageError(f"--set {cut(key)}: write the values as V1,V2,... (lists in brackets: [3,3],[5,5])")
        if not values:
            raise UsageError(f"--set {cut(key)}: no values (write --set {cut(key)}=V1,V2,...)")
        axes[key] = values
    return axes


def combinations(axes: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination, the last --set varying fastest (like nested loops in the order given)."""
    count = 1
    for values in axes.values():
        count *= len(values)
    if count > MAX_COMBINATIONS:
        raise UsageError(f"--set values make {count:,} combinations; a sweep takes at most {MAX_COMBINATIONS:,}")
    return [dict(zip(axes, chosen, strict=True)) for chosen in itertools.product(*axes.values())]


def analyse_row(source: str, text: bytes | None, settings: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """One row: ``source`` (or the standard-input bytes ``text``) analysed with ``settings`` as overrides. Run in
    worker processes too, so it takes and returns plain data only."""
    import io

    from archspec.commands.reports import analyse_spec
    from archspec.errors import SpecError
    from archspec.loading.resolve import load_document, load_stream
    from archspec.spec.validate import validate

    args = argparse.Namespace(**options)
    row: dict[str, Any] = {"settings": settings}
    try:
        document = load_stream(io.BytesIO(text), STDIN_NAME) if text is not None else load_document(source)
        spec = validate(document, settings, override_origin="--set", scale=args.scale)
        _, report = analyse_spec(spec, input_shape(args.input), args)
    except SpecError as error:
        row["error"] = {"message": str(error), "diagnostics": [_diagnostic(d) for d in error.diagnostics]}
        return row
    except UsageError as error:  # e.g. an --input that this combination's input cannot take
        row["error"] = {"message": str(error), "diagnostics": []}
        return row
    field = report.receptive_field.to_dict() if report.receptive_field is not None else None
    if field is not None:
        field["stride"] = field["jump"]  # as the check report names the network's jump
    row.update(
        {
            "name": report.name,
            "input_shape": report.input_shape,
            "output_shape": report.output_shape,
            **report.totals.to_dict(),
            "receptive_field": field,
            "min_input": report.min_input,
            "warnings": [warning.to_dict() for warning in report.warnings],
            "error": None,
        }
    )
    return row


def _diagnostic(diagnostic: Any) -> dict[str, Any]:
    from archspec.errors import format_spec_path

    return {
        "message": diagnostic.message,
        "fix": diagnostic.fix,
        "path": format_spec_path(diagnostic.path),
        "source": str(diagnostic.location) if diagnostic.location else None,
        "text": str(diagnostic),
    }


def run_sweep(args: argparse.Namespace) -> int:
    check_analysis_options(args)
    axes = parse_sweep(args.overrides)
    if not axes:
        raise UsageError("sweep needs at least one --set KEY=V1,V2,... to vary")
    chosen = combinations(axes)
    input_shape(args.input)  # a malformed --input is a usage error before anything runs
    text = sys.stdin.buffer.read() if args.spec == STDIN else None
    if text is None:
        from archspec.loading.resolve import load_document

        load_document(args.spec)  # a missing file or a YAML error is the whole sweep's error, not every row's
    options = {key: getattr(args, key) for key in ("input", "batch", "train", "max_nodes", "scale")}
    jobs = [(args.spec, text, settings, options) for settings in chosen]
    if args.jobs > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=min(args.jobs, len(jobs))) as pool:
            rows = list(pool.map(analyse_row, *zip(*jobs, strict=True)))
    else:
        rows = [analyse_row(*job) for job in jobs]
    from archspec.commands import sweep_render

    print(sweep_render.render(rows, axes, args))
    return EXIT_INVALID if any(row["error"] for row in rows) else EXIT_OK
