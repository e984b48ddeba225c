"""archspec: neural-network architectures as spec files — validated, analysed without torch, compiled.

>>> import archspec
>>> archspec.analyze("lenet5").totals.params
61706

The names below are imported on first use (PEP 562), so that ``import archspec.cli`` — what ``archspec check``
and every editor or pre-commit hook pays for — does not import the whole API first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ imports them
    from archspec.api import analyze, compile, expand, load, load_checkpoint, load_weights_in_order, summary
    from archspec.arguments import ArgumentError
    from archspec.backend.weights import WeightMismatch
    from archspec.errors import Diagnostic, SpecError
    from archspec.loading.yaml_loader import LoadLimits
    from archspec.version import __version__ as __version__

# Public name -> the module that defines it.
_EXPORTS = {
    "analyze": "archspec.api",
    "compile": "archspec.api",
    "expand": "archspec.api",
    "load": "archspec.api",
    "load_weights_in_order": "archspec.api",
    "summary": "archspec.api",
    "ArgumentError": "archspec.arguments",
    "WeightMismatch": "archspec.backend.weights",
    "load_checkpoint": "archspec.api",
    "Diagnostic": "archspec.errors",
    "SpecError": "archspec.errors",
    "LoadLimits": "archspec.loading.yaml_loader",
    # `archspec --version`'s fallback (a test keeps it equal to pyproject.toml's version); lazy like the rest, as
    # `archspec check` imports no archspec.version.
    "__version__": "archspec.version",
}

__all__ = [
    "ArgumentError",
    "Diagnostic",
    "LoadLimits",
    "SpecError",
    "WeightMismatch",
    "analyze",
    "compile",
    "expand",
    "load",
    "load_checkpoint",
    "load_weights_in_order",
    "summary",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # later lookups find it directly
        return value
    if not name.startswith("__"):
        # A subpackage, as before these imports were lazy (``import archspec`` then ``archspec.api.load``).
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
