"""``--save``: weights plus the spec in one file that ``torch.load(..., weights_only=True)`` accepts."""

from __future__ import annotations

import os
from typing import Any

FORMAT = "archspec-checkpoint/1"


def save(model: Any, spec: Any, path: str | os.PathLike[str], input_shape: list[int] | None = None) -> None:
    """Write the compiled model's state dict with the spec text, its overrides and the input shape."""
    import torch

    torch.save({"format": FORMAT, "name": spec.name, "spec": spec.text, "spec_file": spec.file,
                "overrides": dict(spec.overrides), "input": list(input_shape or spec.input),
                "state_dict": model.state_dict()}, path)


def load_checkpoint(path: str | os.PathLike[str]) -> Any:
    """Rebuild the module from a checkpoint written by :func:`save` and load its weights."""
    import torch

    from archspec.api import compile, load
    from archspec.loading.yaml_loader import load_text
    from archspec.spec.validate import validate

    payload = torch.load(path, weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not an archspec checkpoint")
    spec = validate(load_text(payload["spec"], payload.get("spec_file", str(path))), payload.get("overrides"))
    model = compile(load(spec), payload["input"])
    model.load_state_dict(payload["state_dict"])
    return model
