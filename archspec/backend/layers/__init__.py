"""archspec's own leaf modules: the torch modules of ops that ``torch.nn`` lacks (stochastic depth, a layer norm
over channels, self-attention with torchvision's parameter names, ...). Imported only by the backend.

Each file here defines plain ``nn.Module`` classes and imports only torch (the code generator copies the files
into standalone source). Ops reach them by name through the namespace the backend hands to ``Op.build``
(:func:`namespace`): ``nn.StochasticDepth(...)`` in an op's builder is this package's class, ``nn.Conv2d`` is
torch's. A class here may not take a name ``torch.nn`` has, so the two never shadow each other.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from types import ModuleType, SimpleNamespace

from torch import nn

# The files of this package (none imports another), in the order the code generator copies them.
FILES = tuple(sorted(path.stem for path in Path(__file__).parent.glob("*.py") if path.stem != "__init__"))


def classes() -> dict[str, type]:
    """Every class this package defines, by name."""
    found: dict[str, type] = {}
    for file in FILES:
        module: ModuleType = importlib.import_module(f"{__name__}.{file}")
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, nn.Module) and value.__module__ == module.__name__:
                if hasattr(nn, name) or name in found:
                    raise RuntimeError(f"archspec.backend.layers.{file}.{name} takes a name that is already taken")
                found[name] = value
    return found


def plugin_classes(taken: dict[str, type]) -> dict[str, type]:
    """The classes of the installed plugins' layer modules (``ARCHSPEC_LAYERS``, :mod:`archspec.ops.plugins`),
    by name; a module that fails to import or a class name that is taken is an error naming the plugin."""
    from archspec.ops.plugins import layer_error, plugin_layer_modules

    found: dict[str, type] = {}
    for plugin, module_name in plugin_layer_modules():
        try:
            module = importlib.import_module(module_name)
        except Exception as error:  # the plugin's bug, reported as such (never a traceback)
            raise layer_error(plugin, f"importing {module_name} failed: {type(error).__name__}: {error}") from None
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, nn.Module) and value.__module__ == module.__name__:
                if hasattr(nn, name) or name in taken or name in found:
                    raise layer_error(plugin, f"its layer class {module_name}.{name} takes a name that is taken")
                found[name] = value
    return found


@functools.cache
def namespace() -> SimpleNamespace:
    """``torch.nn``'s names, this package's classes and the plugins', as the ``nn`` argument of ``Op.build``."""
    names = {name: getattr(nn, name) for name in dir(nn) if not name.startswith("_")}
    own = classes()
    return SimpleNamespace(**names, **own, **plugin_classes(own))
