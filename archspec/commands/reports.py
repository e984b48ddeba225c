"""The steps ``check``, ``build``, ``graph`` and ``codegen`` share: load SPEC with the ``--set`` overrides,
expand and analyse it for ``--input`` and ``--batch``, and print reports in ``--format``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from archspec.commands.options import input_shape, parse_overrides
from archspec.commands.shared import STDIN, STDIN_NAME, UsageError


def load_spec(source: str, args: argparse.Namespace) -> Any:
    """The validated spec named by SPEC (``-``: standard input), with the --set overrides applied."""
    from archspec.loading.resolve import load_document, load_stream
    from archspec.spec.validate import validate

    overrides = parse_overrides(args.overrides)
    document = load_stream(sys.stdin.buffer, STDIN_NAME) if source == STDIN else load_document(source)
    return validate(document, overrides, override_origin="--set", scale=args.scale)


def analyse(source: str, args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """(spec, network, report) — the network is expanded once and shared by the report and the compiler."""
    spec = load_spec(source, args)
    return (spec, *analyse_spec(spec, input_shape(args.input), args))


def analyse_spec(spec: Any, shape: list[int] | None, args: argparse.Namespace) -> tuple[Any, Any]:
    """(network, report) of a loaded spec for the input ``shape`` (None: the spec's own)."""
    from archspec.analysis.report import build_report
    from archspec.api import expand
    from archspec.ops.base import Context
    from archspec.spec.model import TokenInput

    if shape is not None and len(shape) != len(spec.input):
        if isinstance(spec.input, TokenInput):
            raise UsageError(
                f"--input {args.input} has {len(shape)} sizes but {spec.name} takes integer tokens: give one, the "
                "sequence length (e.g. --input 64)"
            )
        raise UsageError(
            f"--input {args.input} has {len(shape) - 1} spatial dims but {spec.name} is written for "
            f"{len(spec.input) - 1} (input {list(spec.input)})"
        )
    network = expand(spec, shape, batch=args.batch, train=args.train, max_nodes=args.max_nodes)
    return network, build_report(network, args.batch, Context(batch=args.batch, train=args.train))


def render_reports(reports: list[Any], args: argparse.Namespace, several: bool) -> str:
    """The reports in ``args.format``; JSON is one document: an object, or an array when ``several`` specs
    were asked for (whether or not all of them are valid)."""
    if args.format == "json":
        import json  # here: the table that check prints by default needs no json module (nor its regexes)

        documents = [report.to_dict() for report in reports]
        # Strict JSON: a NaN or an infinity in a report is a bug, better raised than printed as invalid JSON.
        return json.dumps(documents if several else documents[0], indent=2, allow_nan=False)
    if args.format == "markdown":
        from archspec.render.markdown import render_markdown

        return "\n".join(render_markdown(report, args.depth) for report in reports)
    from archspec.render.table import render_table

    return "\n\n".join(render_table(report, args.depth) for report in reports)


def note(args: argparse.Namespace, text: str) -> None:
    """A progress note on standard error (silenced by --quiet)."""
    if not args.quiet:
        print(text, file=sys.stderr)
