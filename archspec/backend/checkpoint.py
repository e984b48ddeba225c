"""``--save``: weights plus the spec in one file that ``torch.load(..., weights_only=True)`` accepts.

Saving and loading need torch, so they live in the backend; recognising a checkpoint does not
(:func:`archspec.loading.archive.is_checkpoint`), so ``archspec check x.pt`` can say what the file is without
torch. :func:`archspec.load_checkpoint` rebuilds the module from a checkpoint.

Nothing in a checkpoint executes: it is read with ``torch.load(weights_only=True)`` (tensors and plain data
only), after its archive has been checked against size and compression caps
(:mod:`archspec.loading.archive`). Whatever a file holds that a checkpoint written by :func:`save` would not —
a pickle that builds objects, a missing or mistyped entry, tensors of the wrong shape or type, a truncated
archive — is a ``FILE: error:`` (:class:`SpecError`) in archspec's words, and errors in the saved spec are
located in the checkpoint (its lines are those of the spec saved in it).
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from typing import Any, BinaryIO

import torch

from archspec.backend.memory import USABLE_FRACTION, available_bytes
from archspec.errors import Diagnostic, Location, SpecError
from archspec.loading.archive import FORMAT, ZIP_SIGNATURE, ArchiveError, inspect
from archspec.loading.inputs import open_regular_file
from archspec.loading.yaml_loader import load_text
from archspec.outputs import atomic_write
from archspec.spec.model import MAX_DIMENSION, Spec
from archspec.spec.validate import validate
from archspec.user_text import bounded_repr, quoted

_SAVE_AGAIN = (
    "the file is damaged or was not written by 'archspec build --save'; save the network again with "
    "'archspec build SPEC --save PATH'"
)
# Where the overrides of a rebuilt checkpoint came from, in messages about them ("num_classes = 0 from ...").
OVERRIDE_ORIGIN = "the checkpoint"


@dataclass
class Checkpoint:
    """What a checkpoint holds: the validated spec (overrides applied), its input shape and the weights.

    ``spec_file`` is the path of the spec that was saved (kept when the checkpoint is saved again); the spec's
    own ``file`` is the checkpoint, so that messages and reports name the file the user gave."""

    spec: Spec
    input_shape: list[int]
    state_dict: dict[str, Any]
    file: str
    spec_file: str


def save(
    model: Any,
    spec: Spec,
    path: str | os.PathLike[str],
    input_shape: list[int] | None = None,
    spec_file: str | None = None,
) -> None:
    """Write the compiled model's state dict with the spec text, its overrides and the input shape, atomically:
    a reader sees the old file or the new one, never part of either (:func:`archspec.outputs.atomic_write`).

    Raises:
        OutputError: (an ``OSError``) when the file cannot be written; the file that was there is untouched.
    """
    payload = {
        "format": FORMAT,
        "name": spec.name,
        "spec": spec.text,
        "spec_file": spec_file or spec.file,
        "overrides": dict(spec.overrides),
        "scale": spec.scale,  # its values apply under the overrides, as when the spec was built
        "input": list(input_shape or spec.input),
        "state_dict": model.state_dict(),
    }
    atomic_write(path, lambda handle: torch.save(payload, handle))


def read_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """The spec, input shape and weights saved in ``path``.

    Raises:
        SpecError: ``FILE: error:`` when the file is missing, not a regular file, not an archspec checkpoint or
            damaged; ``FILE:LINE:COL: error:`` (in the checkpoint) when the saved spec does not validate.
    """
    file = os.fspath(path)
    stream = open_regular_file(file, checkpoint=True)
    if stream is None:
        raise _error(file, "no such file", "give the path of a file written by 'archspec build --save'")
    with stream:
        if stream.read(len(ZIP_SIGNATURE)) != ZIP_SIGNATURE:
            raise _error(
                file,
                "is not an archspec checkpoint (not a torch.save archive)",
                "give the file that 'archspec build --save' wrote; a YAML or JSON spec loads with archspec.load",
            )
        available = available_bytes()
        try:
            inspect(stream, None if available is None else int(available * USABLE_FRACTION))
        except ArchiveError as error:
            raise _error(file, error.message, error.fix) from None
        stream.seek(0)
        payload = _unpickle(stream, file)
    return _checkpoint_from(payload, file)


def load_weights(model: Any, checkpoint: Checkpoint) -> None:
    """Load the checkpoint's state dict into ``model`` after checking that it fits exactly: the same keys,
    and every tensor of the module's shape and type (``load_state_dict`` alone would raise torch's text, or
    convert a tensor of another type silently).

    Raises:
        SpecError: one ``FILE: error:`` per key that is missing, unexpected or of another shape or type.
    """
    expected = model.state_dict()
    saved = checkpoint.state_dict
    problems = [f"the module's {quoted(key)} is missing" for key in expected if key not in saved]
    problems += [f"{quoted(key)} is not in the module its spec builds" for key in saved if key not in expected]
    for key, tensor in saved.items():
        if key not in expected:
            continue
        want = expected[key]
        if type(tensor) not in (torch.Tensor, torch.nn.Parameter) or tensor.layout != torch.strided:
            problems.append(
                f"{quoted(key)} is a {type(tensor).__name__} ({tensor.layout}), not a dense tensor"
                if isinstance(tensor, torch.Tensor)
                else f"{quoted(key)} is a {type(tensor).__name__}, not a tensor"
            )
        elif tensor.shape != want.shape:
            problems.append(f"{quoted(key)} is {_shape(tensor.shape)} but the module's is {_shape(want.shape)}")
        elif tensor.dtype != want.dtype:
            problems.append(f"{quoted(key)} holds {tensor.dtype} but the module's holds {want.dtype}")
    if problems:
        raise SpecError(
            [
                Diagnostic(
                    f"the saved weights do not fit the module: {problem}", (), Location(checkpoint.file), _SAVE_AGAIN
                )
                for problem in problems
            ]
        )
    model.load_state_dict(saved, strict=True)


def _unpickle(stream: BinaryIO, file: str) -> Any:
    """``torch.load`` with ``weights_only=True`` (tensors and plain data only), its failures in our words."""
    try:
        return torch.load(stream, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError:
        # torch's text suggests weights_only=False, which would run whatever the pickle names: never.
        raise _error(
            file,
            "the checkpoint's pickle holds objects other than tensors and plain data; archspec "
            "does not load them (unpickling them could run code)",
            _SAVE_AGAIN,
        ) from None
    except MemoryError:
        raise _error(
            file, "the checkpoint's tensors do not fit in the memory available", "load it on a machine with more memory"
        ) from None
    except Exception:  # torch raises RuntimeError, EOFError, ValueError, ... for archives it cannot read
        raise _error(file, "the archive is truncated or damaged (torch cannot read it)", _SAVE_AGAIN) from None


def _checkpoint_from(payload: Any, file: str) -> Checkpoint:
    """Check every entry :func:`save` writes, then validate the saved spec with its overrides."""
    if not isinstance(payload, dict) or "format" not in payload:
        raise _error(
            file,
            f"is a torch.save file holding {_kind(payload)}, not an archspec checkpoint",
            "give the file that 'archspec build --save' wrote",
        )
    if payload["format"] != FORMAT:
        raise _error(
            file,
            f"is in format {bounded_repr(payload['format'])}, not an archspec checkpoint this "
            f"version reads ({FORMAT!r})",
            "save the network again with this version's 'archspec build SPEC --save PATH'",
        )
    text = _entry(payload, file, "spec", str, "the spec's text")
    overrides = _entry(payload, file, "overrides", dict, "a mapping of param names to values")
    shape = _entry(payload, file, "input", list, "a list of sizes")
    state = _entry(payload, file, "state_dict", dict, "a mapping of names to tensors")
    spec_file = payload.get("spec_file", file)
    if not isinstance(spec_file, str):
        raise _mistyped(file, "spec_file", spec_file, "a path")
    if not all(isinstance(key, str) for key in [*overrides, *state]):
        raise _error(file, "the checkpoint's 'overrides' or 'state_dict' has a key that is not a string", _SAVE_AGAIN)
    bad = next((key for key, value in state.items() if not isinstance(value, torch.Tensor)), None)
    if bad is not None:
        raise _error(
            file, f"the checkpoint's state_dict[{quoted(bad)}] is {_kind(state[bad])}, not a tensor", _SAVE_AGAIN
        )
    scale = payload.get("scale")  # absent in checkpoints written before scales
    if scale is not None and not isinstance(scale, str):
        raise _mistyped(file, "scale", scale, "a scale's name")
    spec = validate(load_text(text, file), overrides, override_origin=OVERRIDE_ORIGIN, scale=scale)
    if not (all(type(size) is int and 1 <= size <= MAX_DIMENSION for size in shape) and len(shape) == len(spec.input)):
        raise _error(
            file,
            f"the checkpoint's input {bounded_repr(shape)} is not a shape the spec takes "
            f"({len(spec.input)} sizes from 1 to {MAX_DIMENSION:,}, like its input {list(spec.input)})",
            _SAVE_AGAIN,
        )
    return Checkpoint(spec, list(shape), state, file, spec_file)


def _entry(payload: dict[Any, Any], file: str, key: str, kind: type, description: str) -> Any:
    if key not in payload:
        raise _error(file, f"the checkpoint has no {key!r} entry", _SAVE_AGAIN)
    value = payload[key]
    if not isinstance(value, kind):
        raise _mistyped(file, key, value, description)
    return value


def _mistyped(file: str, key: str, value: Any, description: str) -> SpecError:
    return _error(file, f"the checkpoint's {key!r} is {_kind(value)}, not {description}", _SAVE_AGAIN)


def _kind(value: Any) -> str:
    """``a str ('3,224,224')``: the type of a value, with a short view of it."""
    return f"a {type(value).__name__} ({bounded_repr(value)})"


def _shape(shape: Any) -> str:
    return "×".join(map(str, shape)) or "a scalar"


def _error(file: str, message: str, fix: str) -> SpecError:
    return SpecError([Diagnostic(message, (), Location(file), fix)])
