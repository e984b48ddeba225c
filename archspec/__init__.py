"""archspec: neural-network architectures as spec files — validated, analysed without torch, compiled.

>>> import archspec
>>> archspec.analyze("lenet5").totals.params
61706
"""

from archspec.api import analyze, compile, expand, load
from archspec.backend.weights import WeightMismatch, load_weights_in_order
from archspec.checkpoint import load_checkpoint
from archspec.errors import Diagnostic, SpecError

__all__ = ["Diagnostic", "SpecError", "WeightMismatch", "analyze", "compile", "expand", "load", "load_checkpoint",
           "load_weights_in_order"]
__version__ = "0.1.0"
