"""``--weights FILE`` / ``compile(spec, weights=...)``: reading a state dict from a local file, never running code.

A weights file is recognised by its first bytes, not its name (``pytorch_model.bin`` is a ``torch.save`` archive):

- a ``torch.save`` zip archive (``.pth``, ``.pt``, ``.bin``) or torch's older pickle format, read with
  ``torch.load(weights_only=True)`` (tensors and plain data only) after the archive's records have passed the
  caps of :mod:`archspec.loading.archive` (a decompression bomb is refused on its header);
- a ``.safetensors`` file (an 8-byte header length, then a JSON header), read with the ``safetensors`` package
  when it is installed.

What the file holds must be a state dict — a mapping of names (strings) to tensors. Training scripts often save
one inside a dict of other things (``{"model": ..., "optimizer": ..., "epoch": 3}``): archspec unwraps exactly
one level, the first of :data:`WRAPPER_KEYS` present, and says so; anything deeper is an error that says how to
save the state dict itself. Every failure is a ``FILE: error: what — fix`` (:class:`SpecError`).
"""

from __future__ import annotations

import os
import pickle
import re
import stat
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import torch

from archspec.backend.memory import USABLE_FRACTION, available_bytes
from archspec.errors import Diagnostic, Location, SpecError, SpecPath
from archspec.loading.archive import ZIP_SIGNATURE, ArchiveError, inspect
from archspec.loading.inputs import open_regular_file, path_error
from archspec.user_text import bounded_repr, quoted

# The entries a training script's checkpoint keeps its state dict under (torchvision's references: "model";
# Lightning, timm: "state_dict"; PyTorch's tutorials: "model_state_dict"), tried in this order.
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model")
WEIGHT_SUFFIXES = (".pth", ".pt", ".bin", ".safetensors", ".ckpt")
SAVE_STATE_DICT = "save the state dict itself: torch.save(model.state_dict(), PATH)"
_SAVE_AGAIN = "save the weights again: torch.save(model.state_dict(), PATH)"
_FOREIGN = "give a file written by torch.save(model.state_dict(), PATH) or safetensors.torch.save_file"
_SHOWN_KEYS = 8  # top-level keys named in a message about a dict that is not a state dict
_LISTED_ENTRIES = 1000  # directory entries looked at to suggest a file name (a huge directory is not listed whole)
# "Unsupported global: GLOBAL argparse.Namespace was not an allowed global": the class that torch refused.
_REFUSED_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")
_NO_MEMORY, _MORE_MEMORY = "its tensors do not fit in the memory available", "load it on a machine with more memory"
_MAX_HEADER = 100_000_000  # the safetensors header limit (the package refuses larger ones)
_PICKLE_PROTOCOL = 0x80  # the first byte of torch's older (non-zip) format, a pickle of protocol 2 or more


@dataclass
class Weights:
    """A state dict and where it came from, for the messages about it.

    ``where`` is the file (or ``archspec.compile`` for a dict passed in), ``path`` the argument's spec path
    (``("weights",)`` for a dict), ``noun`` what the messages call the source ("the file", "the dict"), and
    ``unwrapped`` the :data:`WRAPPER_KEYS` entry the state dict was found in, if any."""

    state: dict[str, Any]
    where: Location
    path: SpecPath = ()
    noun: str = "the file"
    unwrapped: str | None = None

    def error(self, message: str, fix: str, severity: str = "error") -> Diagnostic:
        return Diagnostic(message, self.path, self.where, fix, severity)


def read_weights(path: str | os.PathLike[str]) -> Weights:
    """The state dict in the file at ``path``.

    Raises:
        SpecError: ``FILE: error:`` when the file is missing, a directory, not a regular file, damaged, not a
            torch.save or safetensors file, holds objects other than tensors and plain data, or holds no
            state dict.
    """
    file = os.fspath(path)
    stream = _open(file)
    with stream:
        start = stream.read(16)
        stream.seek(0)
        size = os.fstat(stream.fileno()).st_size
        if start.startswith(ZIP_SIGNATURE):
            payload = _read_archive(stream, file)
        elif _is_safetensors(start):
            payload = _read_safetensors(file, size)
        elif start[:1] == bytes([_PICKLE_PROTOCOL]):
            _check_memory(file, size)
            payload = _unpickle(stream, file)
        else:
            raise _not_weights(file, start, size)
    state, unwrapped = _state_dict(payload, file)
    return Weights(state, Location(file), unwrapped=unwrapped)


def weights_from_mapping(mapping: Mapping[Any, Any], function: str) -> Weights:
    """A state dict passed to the API (``compile(spec, weights={...})``), checked like a file's contents.

    Raises:
        SpecError: located at ``archspec.FUNCTION``, path ``weights``, when a key is not a string or a value is
            not a tensor."""
    where, path = Location(f"archspec.{function}"), ("weights",)
    bad_key = next((key for key in mapping if not isinstance(key, str)), None)
    if bad_key is not None:
        raise SpecError(
            [Diagnostic(f"has the key {_kind(bad_key)}; a state dict's keys are strings", path, where, SAVE_DICT)]
        )
    bad = next((key for key, value in mapping.items() if not isinstance(value, torch.Tensor)), None)
    if bad is not None:
        raise SpecError([Diagnostic(f"is {_kind(mapping[bad])}, not a tensor", (*path, bad), where, SAVE_DICT)])
    return Weights(dict(mapping), where, path, "the dict")


SAVE_DICT = "pass model.state_dict() (a dict of names to tensors), or the path of a file holding one"


def _open(file: str) -> BinaryIO:
    """The file opened for reading, after the checks that give a weights file its own messages (a directory
    lists the weight files in it); the rest — pipes, devices, links, permissions — are the guards every file
    archspec reads goes through (:func:`archspec.loading.inputs.open_regular_file`)."""
    try:
        status = os.stat(file)
    except FileNotFoundError:
        status = None
    except OSError as error:
        raise path_error(file, error) from None
    if status is not None and stat.S_ISDIR(status.st_mode):
        inside = _weight_files(Path(file))
        fix = (
            f"name a weights file in it ({', '.join(inside[:5])})"
            if inside
            else "name a .pth, .pt or .safetensors file"
        )
        raise _error(file, "is a directory, not a weights file", fix)
    if status is not None and not stat.S_ISREG(status.st_mode):
        raise _error(file, "is not a regular file (a pipe or a device)", "save the weights to a file and name it")
    stream = open_regular_file(file, checkpoint=True)
    if stream is None:
        raise _error(file, "no such file", _missing_fix(Path(file)))
    return stream


def _missing_fix(path: Path) -> str:
    """A file of a close name beside the missing one, else how to write one."""
    import difflib  # only for a missing file

    close = difflib.get_close_matches(path.name, _weight_files(path.parent), n=1, cutoff=0.75)
    if close:
        return f"did you mean {quoted(str(path.parent / close[0]) if path.parent != Path() else close[0])}?"
    return f"check the path; {SAVE_STATE_DICT} writes one"


def _weight_files(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            names = [entry.name for _, entry in zip(range(_LISTED_ENTRIES), entries, strict=False)]
    except OSError:
        return []
    return sorted(name for name in names if name.endswith(WEIGHT_SUFFIXES))


def _read_archive(stream: BinaryIO, file: str) -> Any:
    available = available_bytes()
    try:
        inspect(stream, None if available is None else int(available * USABLE_FRACTION))
    except ArchiveError as error:
        # A zip without a data.pkl is another program's archive; anything else wrong is damage.
        fix = (
            error.fix
            if error.fix.startswith("load it on")
            else _FOREIGN
            if "data.pkl' record" in error.message
            else _SAVE_AGAIN
        )
        raise _error(file, error.message, fix) from None
    stream.seek(0)
    if _is_torchscript(stream):
        raise _error(
            file,
            "is a TorchScript archive (torch.jit.save), not a state dict",
            "save its state dict: torch.save(torch.jit.load(PATH).state_dict(), 'weights.pt')",
        )
    stream.seek(0)
    return _unpickle(stream, file)


def _is_torchscript(stream: BinaryIO) -> bool:
    """torch.load would hand such an archive to torch.jit.load (and refuses to with ``weights_only``)."""
    try:
        with zipfile.ZipFile(stream) as archive:
            return any(name.count("/") == 1 and name.endswith("/constants.pkl") for name in archive.namelist())
    except (zipfile.BadZipFile, ValueError, EOFError):
        return False


def _unpickle(stream: BinaryIO, file: str) -> Any:
    """``torch.load`` with ``weights_only=True``, its failures in our words (torch's advice would run the
    pickle: it is never passed on)."""
    try:
        with warnings.catch_warnings():  # torch's notes (sparse tensors validated, ...) are not the user's concern
            warnings.simplefilter("ignore")
            return torch.load(stream, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as error:
        refused = _REFUSED_GLOBAL.search(str(error))
        name = refused.group(1) if refused else ""
        if name.startswith("torch.nn.modules.") or ".models." in name:
            raise _error(
                file,
                f"holds a whole pickled module ({name}), not a state dict; archspec does not unpickle "
                "objects (that could run code)",
                f"where the file comes from a source you trust, load it there and {SAVE_STATE_DICT}",
            ) from None
        what = f"names {name}, a Python object" if name else "holds objects"
        raise _error(
            file,
            f"its pickle {what} other than tensors and plain data; archspec does not unpickle such objects "
            "(that could run code)",
            f"where the file comes from a source you trust, load it there and {SAVE_STATE_DICT}",
        ) from None
    except MemoryError:
        raise _error(file, _NO_MEMORY, _MORE_MEMORY) from None
    except Exception:  # torch raises RuntimeError, EOFError, ValueError, ... for files it cannot read
        raise _error(file, "is truncated or damaged (torch cannot read it)", _SAVE_AGAIN) from None


def _is_safetensors(start: bytes) -> bool:
    """An 8-byte little-endian header length, then the JSON header's ``{`` (a length past the end of the file
    is a truncated safetensors file, for safetensors to refuse in its words)."""
    return len(start) >= 9 and start[8:9] == b"{" and 0 < int.from_bytes(start[:8], "little") <= _MAX_HEADER


def _read_safetensors(file: str, size: int) -> Any:
    try:
        from safetensors.torch import load_file
    except ImportError:
        raise _error(
            file,
            "is a safetensors file, and reading one needs the safetensors package, which is not installed",
            "pip install safetensors (or save the weights with torch.save)",
        ) from None
    _check_memory(file, size)
    try:
        return load_file(file, device="cpu")
    except MemoryError:
        raise _error(file, _NO_MEMORY, _MORE_MEMORY) from None
    except Exception:  # SafetensorError (not importable by name in every version), OSError, ValueError...
        raise _error(
            file,
            "is truncated or damaged (its safetensors header or data cannot be read)",
            "save the weights again: safetensors.torch.save_file(model.state_dict(), PATH)",
        ) from None


def _check_memory(file: str, size: int) -> None:
    available = available_bytes()
    if available is not None and size > available * USABLE_FRACTION:
        raise _error(
            file,
            f"reading it needs {size / 2**30:.2f} GiB but only {available * USABLE_FRACTION / 2**30:.2f} GiB "
            "of memory is available",
            "load it on a machine with more memory",
        )


def _not_weights(file: str, start: bytes, size: int) -> SpecError:
    if size == 0:
        return _error(file, "is empty, not a weights file", _SAVE_AGAIN)
    if file.endswith((".yaml", ".yml", ".json")) or all(32 <= byte < 127 or byte in b"\t\r\n" for byte in start):
        return _error(
            file,
            "is text (a spec?), not a weights file",
            "weights come from a state dict file (.pth, .pt or .safetensors); the spec itself is the first argument",
        )
    return _error(file, "is not a weights file (neither a torch.save file nor a safetensors file)", _FOREIGN)


def _state_dict(payload: Any, file: str) -> tuple[dict[str, Any], str | None]:
    """The state dict in what the file holds: the payload itself, or one :data:`WRAPPER_KEYS` entry of it."""
    if not isinstance(payload, Mapping):
        raise _error(file, f"holds {_kind(payload)}, not a state dict (a dict of names to tensors)", SAVE_STATE_DICT)
    if not _is_state(payload):
        wrapper = next((key for key in WRAPPER_KEYS if isinstance(payload.get(key), Mapping)), None)
        if wrapper is None:
            raise _not_state(payload, file, "")
        inner = payload[wrapper]
        if not _is_state(inner):
            raise _not_state(inner, file, wrapper)
        return dict(inner), wrapper
    return dict(payload), None


def _is_state(mapping: Mapping[Any, Any]) -> bool:
    return all(isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in mapping.items())


def _not_state(mapping: Mapping[Any, Any], file: str, where: str) -> SpecError:
    """Why a dict is not a state dict: its first entry that is not a string key to a tensor. A state dict one
    level further down (``{"model": {"ema": state}}``) is named in the fix."""
    bad = next(key for key, value in mapping.items() if not (isinstance(key, str) and isinstance(value, torch.Tensor)))
    keys = ", ".join(quoted(str(key)) for key in list(mapping)[:_SHOWN_KEYS])
    more = f", … ({len(mapping):,} entries)" if len(mapping) > _SHOWN_KEYS else ""
    whose = f"the file's {quoted(where)} entry" if where else "the file"
    if not isinstance(bad, str):
        reason = f"the key {_kind(bad)} is not a string"
    else:
        reason = f"{quoted(bad)} is {_kind(mapping[bad])}, not a tensor"
    fix = SAVE_STATE_DICT
    inner = next((key for key, value in mapping.items() if isinstance(value, Mapping) and _is_state(value)), None)
    if inner is not None:
        path = "".join(f"[{key!r}]" for key in (where, inner) if key)
        fix = f"archspec unwraps one level only: save the state dict itself, torch.save(checkpoint{path}, PATH)"
    looked = "" if where else f" (archspec looks one level down, in {', '.join(map(repr, WRAPPER_KEYS))})"
    return _error(file, f"{whose} is a dict ({keys}{more}), not a state dict: {reason}{looked}", fix)


def _kind(value: Any) -> str:
    """``a str ('3,224,224')``: the type of a value, with a short view of it (a tensor's shape and type)."""
    if isinstance(value, torch.Tensor):
        return f"a tensor ({describe_tensor(value)})"
    name = type(value).__name__
    if isinstance(value, Mapping | list | tuple):  # their repr would show tensors' values
        return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name} of {len(value):,} entries"
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name} ({bounded_repr(value)})"


def describe_tensor(tensor: Any) -> str:
    """``64×3×7×7 float32``: a tensor's shape and element type, as messages show it."""
    shape = "×".join(map(str, tensor.shape)) or "a scalar"
    return f"{shape} {str(tensor.dtype).removeprefix('torch.')}"


def _error(file: str, message: str, fix: str) -> SpecError:
    return SpecError([Diagnostic(message, (), Location(file), fix)])
