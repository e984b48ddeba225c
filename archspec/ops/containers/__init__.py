"""Every container, one module each (``concat.py``, ``head.py``, ...); importing this package registers
them all. Modules are found on disk, so adding a container is adding its file: shared infrastructure
lives in ``base.py`` and modules whose names start with ``_``."""

from __future__ import annotations

import os
from importlib import import_module

from archspec.ops.containers.base import (  # noqa: F401  (the names passes use)
    LIST_INPUT,
    PREVIOUS,
    RESERVED_IDS,
    Container,
    FieldMerge,
    Inputs,
    keep_main,
)
from archspec.ops.registry import CONTAINERS

# A directory listing rather than pkgutil, whose import alone costs more than this loop (start-up time).
for _file in sorted(os.listdir(__path__[0])):
    _module, _, _extension = _file.partition(".")
    if _extension == "py" and _module != "base" and not _module.startswith("_"):
        import_module(f"{__name__}.{_module}")

SEQUENTIAL: Container = CONTAINERS["sequential"]  # what groups, repeats, branches and blocks compile to
