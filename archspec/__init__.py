"""archspec: neural-network architectures as spec files — validated, analysed without torch, compiled.

>>> import archspec
>>> archspec.analyze("lenet5").totals.params
61706
"""

from archspec.api import analyze, compile, expand, load
from archspec.checkpoint import load_checkpoint
from archspec.errors import Diagnostic, SpecError

__all__ = ["Diagnostic", "SpecError", "analyze", "compile", "expand", "load", "load_checkpoint"]
__version__ = "0.1.0"
