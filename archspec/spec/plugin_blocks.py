"""The blocks of installed plugins, validated like the bundled library's; a plugin whose block files do not
validate, or that defines a block whose name is taken, loses its blocks with a warning (its ops stay).

Here, in the spec layer, so that validation knows the plugins' block names (a spec may use them by name) and
the block library (:mod:`archspec.blocks.library`) takes the validated blocks from the same place."""

from __future__ import annotations

from archspec.errors import SpecError
from archspec.loading.resolve import builtin_block_names
from archspec.loading.source import SourceMap
from archspec.ops.plugins import broken_plugins, disable_blocks, plugin_block_documents
from archspec.ops.registry import CONTAINERS, loaded_ops
from archspec.spec.model import Block
from archspec.user_text import listed, quoted

_validated: dict[str, tuple[Block, SourceMap]] | None = None
_validating = False


def plugin_blocks() -> dict[str, tuple[Block, SourceMap]]:
    """Every plugin's valid blocks, with the source map of the file that defines each (once per process)."""
    global _validated, _validating
    if _validated is not None:
        return _validated
    from archspec.spec.validate import validate  # validate imports this module for the names

    _validating = True
    found: dict[str, tuple[Block, SourceMap]] = {}
    owners: dict[str, str] = {}
    try:
        for plugin, document in plugin_block_documents():
            if not plugin.blocks:  # an earlier file of it failed: all of its blocks are gone
                continue
            try:
                library = validate(document, library=True)
            except SpecError as error:
                disable_blocks(plugin, f"{document.source.file} is invalid:\n{error}")
                _drop(found, owners, plugin.name)
                continue
            clash = _clash(library.blocks, found, owners)
            if clash:
                disable_blocks(plugin, clash)
                _drop(found, owners, plugin.name)
                continue
            for name, block in library.blocks.items():
                found[name] = (block, library.source)
                owners[name] = plugin.name
    finally:
        _validating = False
    _validated = found
    return found


def _clash(blocks: dict[str, Block], found: dict[str, tuple[Block, SourceMap]], owners: dict[str, str]) -> str:
    """Why these blocks cannot join the library ('' when they can): a name that is taken."""
    bundled = builtin_block_names()
    ops = loaded_ops()
    for name in blocks:
        if name in bundled:
            return f"its block {quoted(name)} has the name of a built-in block"
        if name in ops or name in CONTAINERS:
            return f"its block {quoted(name)} has the name of the op or container {quoted(name)}"
        if name in found:
            return f"its block {quoted(name)} is also a block of plugin {quoted(owners[name])}"
    return ""


def _drop(found: dict[str, tuple[Block, SourceMap]], owners: dict[str, str], plugin: str) -> None:
    for name in [name for name, owner in owners.items() if owner == plugin]:
        del found[name], owners[name]


def plugin_block_names() -> list[str]:
    """The names of the plugins' blocks. While their files are being validated (a plugin's block may use
    another plugin's), every name their files define; then only the valid ones."""
    if _validating:
        names: list[str] = []
        for _, document in plugin_block_documents():
            blocks = document.data.get("blocks") if isinstance(document.data, dict) else None
            names.extend(str(name) for name in blocks or {})
        return names
    return list(plugin_blocks())


def unknown_name_fix() -> str:
    """The fix of an unknown name: the listing, and the plugins that failed to load (one may have had it)."""
    broken = sorted(broken_plugins())
    if not broken:
        return "run 'archspec list' for the ops"
    return f"run 'archspec list' for the ops (plugin {listed(broken)} failed to load: see its warning above)"
