"""The bundled block library's files (``archspec/blocks/*.yaml``), read and parsed but not validated.

Validation needs only the names they define (a spec's block may not take a built-in block's name by accident),
and validating the files needs validation: reading them here, below both, lets ``archspec.spec.validate`` ask
for the names and ``archspec.blocks.library`` validate the blocks, with no import pointing back up.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from archspec.loading.source import Document
from archspec.loading.yaml_loader import load_text

BLOCKS_PACKAGE = "archspec.blocks"


@cache
def block_documents() -> tuple[Document, ...]:
    """Every library file, parsed, in file-name order (read once per process, and only when asked for)."""
    entries = sorted(resources.files(BLOCKS_PACKAGE).iterdir(), key=lambda entry: entry.name)
    return tuple(load_text(entry.read_text(encoding="utf-8"), f"<archspec>/blocks/{entry.name}")
                 for entry in entries if entry.name.endswith(".yaml"))


def builtin_block_names() -> set[str]:
    """The names of the built-in blocks (what every spec can use by name)."""
    names: set[str] = set()
    for document in block_documents():
        blocks = document.data.get("blocks") if isinstance(document.data, dict) else None
        names.update(str(name) for name in blocks or {})
    return names
