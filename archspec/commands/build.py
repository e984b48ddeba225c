"""``archspec build``: validate, analyse and compile a spec (or rebuild a checkpoint with its weights), print its
report, and optionally verify it against a forward pass and save it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from archspec.commands.options import check_analysis_options, check_writable, input_shape, write_failed
from archspec.commands.reports import analyse, analyse_spec, note, render_reports
from archspec.commands.shared import EXIT_INTERNAL, EXIT_OK, STDIN, UsageError
from archspec.user_text import file_name


def run_build(args: argparse.Namespace) -> int:
    check_analysis_options(args)
    if args.save:
        check_writable("--save", args.save)
    if args.strict is not None and not args.weights:
        raise UsageError(f"--{'' if args.strict else 'no-'}strict applies to --weights FILE, and none is given")
    checkpoint = _checkpoint(args)
    if checkpoint is None:
        spec, network, report = analyse(args.spec, args)
        shape = input_shape(args.input)
    else:
        spec, shape = checkpoint.spec, checkpoint.input_shape
        network, report = analyse_spec(spec, shape, args)
    from archspec.api import compile
    from archspec.backend.verify import verify

    # Read before compiling: a missing or damaged file is reported before the slow part.
    weights = _read_weights(args.weights) if args.weights else None
    model = compile(network)
    if checkpoint is not None:
        from archspec.backend.checkpoint import load_weights

        load_weights(model, checkpoint)
    if weights is not None:
        _load_weights(model, weights, args)
    if not args.quiet:
        print(render_reports([report], args, several=False))
    if args.verify:
        problems = verify(model, report)
        if problems:
            print(
                "verify: the compiled module disagrees with the static report — a bug in archspec, please report it:",
                file=sys.stderr,
            )
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return EXIT_INTERNAL
        note(
            args,
            f"verify: {len(report.layers)} modules — shapes, parameters, buffers and MACs match a real forward pass",
        )
    if args.save:
        from archspec.backend.checkpoint import save

        try:
            save(
                model,
                spec,
                args.save,
                shape or list(network.input),
                spec_file=checkpoint.spec_file if checkpoint else None,
            )
        except OSError as error:
            raise write_failed("--save", args.save, error) from None
        note(args, f"saved: {file_name(args.save)}")
    return EXIT_OK


def _checkpoint(args: argparse.Namespace) -> Any:
    """The checkpoint that SPEC names (build reads one to rebuild the module with its weights), else None.

    Any zip archive is read as a checkpoint, so that a damaged or foreign one gets a checkpoint's messages; the
    path goes through the same guards as a spec's (a pipe or a device is refused, never opened to wait)."""
    from archspec.loading.archive import is_archive  # lazy: for build only

    if args.spec == STDIN or not is_archive(args.spec):
        return None
    if args.weights:
        raise UsageError(
            f"{args.spec} is a checkpoint and holds its own weights: --weights loads a state dict into the "
            "network a spec builds (give the spec as SPEC)"
        )
    if args.overrides or args.scale or args.input:
        raise UsageError(
            f"{args.spec} is a checkpoint: its params and input shape are saved with its weights, "
            "so --set, --scale and --input cannot change them"
        )
    from archspec.backend.checkpoint import read_checkpoint  # lazy: torch

    return read_checkpoint(args.spec)


def _read_weights(path: str) -> Any:
    from archspec.backend.weight_files import read_weights  # lazy: torch

    return read_weights(path)


def _load_weights(model: Any, weights: Any, args: argparse.Namespace) -> None:
    """Load ``--weights`` into the module; the entries --no-strict did not load are warnings, printed even with
    --quiet (a module that is not what the file holds should never go unnoticed)."""
    from archspec.backend.weight_fit import load_state

    warnings = load_state(model, weights, strict=args.strict is not False)
    for warning in warnings:
        print(str(warning), file=sys.stderr)
    source = f"{file_name(args.weights)}" + (f" (its {weights.unwrapped!r} entry)" if weights.unwrapped else "")
    note(args, f"weights: {len(weights.state):,} entries read from {source}")
