"""archspec: neural-network architectures as spec files — validated, analysed without torch, compiled.

>>> import archspec
>>> archspec.analyze("lenet5").totals.params
61706
"""

from archspec.api import analyze, compile, expand, load, load_weights_in_order
from archspec.arguments import ArgumentError
from archspec.backend.weights import WeightMismatch
from archspec.checkpoint import load_checkpoint
from archspec.errors import Diagnostic, SpecError
from archspec.loading.yaml_loader import LoadLimits

__all__ = ["ArgumentError", "Diagnostic", "LoadLimits", "SpecError", "WeightMismatch", "analyze", "compile", "expand",
           "load", "load_checkpoint", "load_weights_in_order"]
# The fallback of `archspec --version` where no package metadata is installed (a source checkout on
# PYTHONPATH); a test keeps it equal to pyproject.toml's version.
__version__ = "0.1.0"
