"""Load the block library: every ``blocks:`` entry of the YAML specs in this package, and the valid blocks of
installed plugins (:mod:`archspec.spec.plugin_blocks`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache

from archspec.loading.resolve import block_documents
from archspec.loading.source import SourceMap
from archspec.spec.model import Block
from archspec.spec.plugin_blocks import plugin_blocks
from archspec.spec.validate import validate


@cache
def _library() -> tuple[dict[str, Block], dict[str, SourceMap]]:
    blocks: dict[str, Block] = {}
    sources: dict[str, SourceMap] = {}
    for document in block_documents():
        library = validate(document, library=True)
        for name, block in library.blocks.items():
            if name in blocks:
                raise RuntimeError(f"built-in block {name!r} is defined twice")
            blocks[name] = block
            sources[name] = library.source
    for name, (block, source) in plugin_blocks().items():  # none takes a bundled block's name (checked there)
        blocks[name], sources[name] = block, source
    return blocks, sources


def builtin_blocks() -> dict[str, Block]:
    """Blocks every spec can use by name. A spec's own block of the same name takes precedence."""
    return _library()[0]


def builtin_sources() -> dict[str, SourceMap]:
    """The source map of the library file that defines each built-in block."""
    return _library()[1]


class BlockScope(Mapping[str, Block]):
    """The blocks a spec can use: its own over the built-in ones, which are read only when a name is not among
    its own (most specs use no built-in block, and reading the library costs more than expanding a small spec).
    """

    def __init__(self, own: Mapping[str, Block]):
        self.own = own

    def __getitem__(self, name: str) -> Block:
        if name in self.own:
            return self.own[name]
        return builtin_blocks()[name]

    def __iter__(self) -> Iterator[str]:
        return iter({**builtin_blocks(), **self.own})

    def __len__(self) -> int:
        return len({**builtin_blocks(), **self.own})
