"""``archspec export``: compile a spec (or rebuild a checkpoint with its weights) and write it as an ONNX file,
a TorchScript archive or a ``torch.export`` ExportedProgram, after loading the exported bytes back and
checking them against the eager module on a random input."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from typing import Any

from archspec.commands.options import check_writable, write_failed
from archspec.commands.parsers import EXPORT_FORMATS
from archspec.commands.reports import analyse, analyse_spec, note
from archspec.commands.shared import EXIT_INTERNAL, EXIT_OK, STDIN, UsageError
from archspec.user_text import file_name

# What each format needs beyond torch, looked for without importing it (slow) before anything is compiled: the ONNX
# exporter translates through onnxscript, and onnxruntime runs the file to verify it.
_PACKAGES: dict[str, tuple[str, ...]] = {
    "onnx": ("onnx", "onnxscript", "onnxruntime"),
    "torchscript": (),
    "exported-program": (),
}
_INSTALL = {"onnx": "pip install onnx onnxscript onnxruntime  (or: pip install 'archspec[onnx]')"}


def run_export(args: argparse.Namespace) -> int:
    from archspec.spec.model import MAX_DIMENSION

    if not 1 <= args.batch <= MAX_DIMENSION:
        raise UsageError(f"--batch must be from 1 to {MAX_DIMENSION:,} (a size, like every size), got {args.batch}")
    missing = [name for name in _PACKAGES[args.format] if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f"--format {args.format} needs {_listed(missing)}, not installed here: {_INSTALL[args.format]}"
        )
    check_writable("--output", args.output)
    model, report = _model(args)
    shape = list(report.input_shape[1:])
    from archspec.backend.export import ExportFailed, VerificationFailed, export

    note(args, f"exporting {model.archspec_name} as {args.format} for inputs of shape {[args.batch, *shape]} ...")
    try:
        exported = export(model, [args.batch, *shape], args.format, report.input_vocab)
    except ExportFailed as error:
        others = " or ".join(form for form in EXPORT_FORMATS if form != args.format)
        raise UsageError(
            f"--format {args.format}: cannot export {model.archspec_name}: {error} — try --format {others}"
        ) from None
    except VerificationFailed as error:
        print(
            f"archspec: error: --format {args.format}: {error} — a bug in archspec or torch, please report it",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    from archspec.outputs import atomic_write

    try:
        atomic_write(args.output, lambda handle: handle.write(exported.data))
    except OSError as error:
        raise write_failed("--output", args.output, error) from None
    note(
        args,
        f"wrote {file_name(args.output)} ({_size(len(exported.data))}): on a random input of shape "
        f"{exported.input_shape} {_outputs(exported.outputs)} the eager module's (largest difference "
        f"{exported.largest_difference:.2g}, largest output {exported.largest_output:.3g})",
    )
    return EXIT_OK


def _model(args: argparse.Namespace) -> tuple[Any, Any]:
    """The compiled module and its report: a spec's with its random initial weights, or a checkpoint's
    (``archspec build --save``) with the weights saved in it."""
    from archspec.api import compile

    checkpoint = _checkpoint(args)
    if checkpoint is None:
        _, network, report = analyse(args.spec, args)
        model = compile(network)
    else:
        network, report = analyse_spec(checkpoint.spec, checkpoint.input_shape, args)
        model = compile(network)
        from archspec.backend.checkpoint import load_weights

        load_weights(model, checkpoint)
    # Weights from a state-dict file (`--weights FILE`, as `archspec build --weights`) are loaded here, into
    # `model`, before it is exported.
    return model, report


def _checkpoint(args: argparse.Namespace) -> Any:
    """The checkpoint SPEC names, else None (as ``archspec build`` reads one: any zip archive is taken for a
    checkpoint, so that a damaged one gets a checkpoint's messages)."""
    from archspec.loading.archive import is_archive  # lazy: for checkpoints only

    if args.spec == STDIN or not is_archive(args.spec):
        return None
    if args.overrides or args.scale or args.input:
        raise UsageError(
            f"{args.spec} is a checkpoint: its params and input shape are saved with its weights, "
            "so --set, --scale and --input cannot change them"
        )
    from archspec.backend.checkpoint import read_checkpoint  # lazy: torch

    return read_checkpoint(args.spec)


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def _outputs(count: int) -> str:
    return "its output matches" if count == 1 else f"its {count} outputs match"


def _size(count: int) -> str:
    if count < 2**10:
        return f"{count} bytes"
    return f"{count / 2**10:.1f} KiB" if count < 2**20 else f"{count / 2**20:.1f} MiB"
