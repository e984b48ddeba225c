"""Exporting a compiled module to a deployment format (``archspec export``): ONNX, TorchScript or a
``torch.export`` ExportedProgram, serialised in memory, loaded back from those very bytes and run against the
eager module on a random input. Only bytes that passed are handed back to be written, so a failed export or
verification leaves the old file as it was.

The module is exported in eval mode (train-only heads do not run), for the one input shape given, batch
included: every format here is traced for a fixed shape.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

FORMATS = ("onnx", "torchscript", "exported-program")
# How far the loaded file's outputs may be from the eager module's, relative to the largest eager output: the
# ONNX graph is optimised (batch norms folded into convolutions) and onnxruntime picks its own kernels, so it
# differs from torch by float32 rounding; the two torch formats run torch's own kernels.
TOLERANCE = 1e-3
SEED = 0  # of the random input, so that a run can be repeated exactly


class ExportFailed(Exception):
    """torch (or onnxruntime) could not export or load the module; ``str()`` says what failed and why."""


class VerificationFailed(Exception):
    """The exported file loads and runs but disagrees with the eager module (a bug in archspec or torch)."""


@dataclass
class Exported:
    """The serialised module and how it compared with the eager one on the random input."""

    data: bytes
    input_shape: list[int]
    largest_difference: float
    largest_output: float
    outputs: int


def export(model: Any, input_shape: list[int], form: str, vocab: int | None = None) -> Exported:
    """``model`` in ``form``, checked against itself on a random input of ``input_shape`` (batch first): integer
    tokens in [0, ``vocab``) for a token input, else normal floats.

    Raises:
        ExportFailed: when the export, or loading its result back, fails.
        VerificationFailed: when the loaded file computes something else than the eager module.
    """
    model.eval()
    generator = torch.Generator().manual_seed(SEED)
    if vocab is None:
        x = torch.randn(input_shape, generator=generator)
    else:
        x = torch.randint(0, vocab, input_shape, generator=generator)
    with torch.no_grad():
        expected = _tensors(model(x))
    save, run = _FORMATS[form]
    with warnings.catch_warnings():
        # torch's notices about its own formats (torch 2.14 warns that TorchScript is deprecated) are not about the
        # user's network; a failure is reported, and the README says which formats are deprecated.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            data = save(model, x)
        except Exception as error:
            raise ExportFailed(f"{_EXPORTER[form]} failed: {_reason(error)}") from None
        try:
            with torch.no_grad():
                actual = run(data, x)
        except Exception as error:
            raise ExportFailed(f"the exported file cannot be run ({_LOADER[form]}): {_reason(error)}") from None
    return _compare(data, list(input_shape), expected, actual)


def _compare(data: bytes, shape: list[int], expected: list[Any], actual: list[Any]) -> Exported:
    if len(actual) != len(expected):
        raise VerificationFailed(f"the exported file returns {len(actual)} outputs, the module {len(expected)}")
    largest_output = max(float(t.abs().max()) if t.numel() else 0.0 for t in expected)
    difference = 0.0
    for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
        got = torch.as_tensor(got)
        if tuple(got.shape) != tuple(want.shape):
            raise VerificationFailed(
                f"output {index} of the exported file has shape {list(got.shape)}, the module's {list(want.shape)}"
            )
        if got.numel():
            difference = max(difference, float((got.to(want.dtype) - want).abs().max()))
    if not difference <= TOLERANCE * max(largest_output, 1.0):  # 'not <=' so that a NaN fails too
        raise VerificationFailed(
            f"the exported file's outputs differ from the module's by up to {difference:.3g} "
            f"(largest output {largest_output:.3g}; allowed {TOLERANCE:g} of it)"
        )
    return Exported(data, shape, difference, largest_output, len(expected))


def _tensors(output: Any) -> list[Any]:
    """A module's output as a list: the tensor, or a network's ``{"output": main, head: side}`` in order."""
    return list(output.values()) if isinstance(output, dict) else [output]


def _reason(error: Exception) -> str:
    """The first lines of an exporter's message: torch's can run to pages of graph dumps."""
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    text = " ".join(line.strip() for line in lines[:3]) or "(no message)"
    return f"{type(error).__name__}: {text[:500]}"


def _save_onnx(model: Any, x: Any) -> bytes:
    # The exporter of torch 2.5 and later: the TorchScript-based one (dynamo=False) is deprecated.
    program = torch.onnx.export(model, (x,), dynamo=True, verbose=False, input_names=["input"])
    return program.model_proto.SerializeToString()


def _run_onnx(data: bytes, x: Any) -> list[Any]:
    import onnxruntime  # here: only --format onnx needs it (and it takes a while to import)

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its optimiser's notes are printed straight to standard error
    session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    return [torch.from_numpy(out) for out in session.run(None, {session.get_inputs()[0].name: x.numpy()})]


def _save_torchscript(model: Any, x: Any) -> bytes:
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(model), buffer)
    return buffer.getvalue()


def _run_torchscript(data: bytes, x: Any) -> list[Any]:
    return _tensors(torch.jit.load(io.BytesIO(data))(x))


def _save_exported_program(model: Any, x: Any) -> bytes:
    buffer = io.BytesIO()
    torch.export.save(torch.export.export(model, (x,)), buffer)
    return buffer.getvalue()


def _run_exported_program(data: bytes, x: Any) -> list[Any]:
    return _tensors(torch.export.load(io.BytesIO(data)).module()(x))


_FORMATS: dict[str, tuple[Callable[[Any, Any], bytes], Callable[[bytes, Any], list[Any]]]] = {
    "onnx": (_save_onnx, _run_onnx),
    "torchscript": (_save_torchscript, _run_torchscript),
    "exported-program": (_save_exported_program, _run_exported_program),
}
_EXPORTER = {
    "onnx": "torch.onnx.export(dynamo=True)",
    "torchscript": "torch.jit.script",
    "exported-program": "torch.export.export",
}
_LOADER = {"onnx": "onnxruntime", "torchscript": "torch.jit.load", "exported-program": "torch.export.load"}
