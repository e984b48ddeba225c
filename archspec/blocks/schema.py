"""The JSON Schema of spec files with the built-in block library: what ``archspec schema`` prints and the package
ships as ``archspec/schemas/archspec.schema.json`` (the schema itself is written by :mod:`archspec.spec.schema`,
one layer down, which cannot read the library)."""

from __future__ import annotations

from typing import Any

from archspec.blocks.library import builtin_blocks
from archspec.spec.schema import spec_schema as schema_with_blocks


def spec_schema() -> dict[str, Any]:
    """The schema every bundled spec names on its first line (``# yaml-language-server: $schema=...``)."""
    return schema_with_blocks(builtin_blocks())
