"""``--save``: weights plus the spec in one file that ``torch.load(..., weights_only=True)`` accepts.

Saving and loading import torch (lazily); recognising a checkpoint does not, so ``archspec check x.pt`` can
say what the file is without torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported by the loader (to recognise a checkpoint): pydantic and zipfile wait until needed
    from archspec.spec.model import Spec

FORMAT = "archspec-checkpoint/1"
ZIP_SIGNATURE = b"PK\x03\x04"  # torch.save writes a zip archive


@dataclass
class Checkpoint:
    """What a checkpoint holds: the validated spec (overrides applied), its input shape and the weights."""

    spec: Spec
    input_shape: list[int]
    state_dict: dict[str, Any]


def save(model: Any, spec: Spec, path: str | os.PathLike[str], input_shape: list[int] | None = None) -> None:
    """Write the compiled model's state dict with the spec text, its overrides and the input shape."""
    import torch

    torch.save({"format": FORMAT, "name": spec.name, "spec": spec.text, "spec_file": spec.file,
                "overrides": dict(spec.overrides), "input": list(input_shape or spec.input),
                "state_dict": model.state_dict()}, path)


def is_checkpoint(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a file written by :func:`save` (read without torch: the archive's pickle names
    the format)."""
    try:
        with open(path, "rb") as stream:
            if stream.read(len(ZIP_SIGNATURE)) != ZIP_SIGNATURE:
                return False
    except OSError:
        return False
    import zipfile  # only for files that start like an archive

    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [name for name in archive.namelist() if name.endswith("/data.pkl") or name == "data.pkl"]
            return any(FORMAT.encode() in archive.read(name) for name in pickles)
    except (OSError, zipfile.BadZipFile):
        return False


def read_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """The spec, input shape and weights saved in ``path``.

    Raises:
        ValueError: when the file is not an archspec checkpoint.
        SpecError: when the saved spec no longer validates (written by another archspec version).
    """
    import torch

    from archspec.loading.yaml_loader import load_text
    from archspec.spec.validate import validate

    payload = torch.load(path, weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{os.fspath(path)} is not an archspec checkpoint")
    document = load_text(payload["spec"], payload.get("spec_file", os.fspath(path)))
    return Checkpoint(validate(document, payload.get("overrides")), list(payload["input"]), payload["state_dict"])


def load_checkpoint(path: str | os.PathLike[str]) -> Any:
    """The ``torch.nn.Module`` saved in ``path`` by ``archspec build --save``: compiled again from the saved
    spec, overrides and input shape, with the saved weights and buffers loaded. Like any new module it is in
    training mode; call ``.eval()`` for inference.

    Raises:
        ValueError: when the file is not an archspec checkpoint.
        ArgumentError: (a SpecError) when ``path`` is not a non-empty path (``None``, ``''``, a number...).
    """
    from archspec.api import compile
    from archspec.arguments import Arguments

    Arguments("load_checkpoint").path("path", path, example="vgg16.pt")
    checkpoint = read_checkpoint(path)
    model = compile(checkpoint.spec, checkpoint.input_shape)
    model.load_state_dict(checkpoint.state_dict)
    return model
