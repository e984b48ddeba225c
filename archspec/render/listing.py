"""``archspec list``: the bundled specs, ops, containers and built-in blocks, from their registries."""

from __future__ import annotations

from archspec.blocks.library import builtin_blocks
from archspec.loading.resolve import bundled_specs
from archspec.ops.plugins import origin
from archspec.ops.registry import all_containers, all_ops


def print_listing(what: str) -> None:
    """Print the listing of ``what``: specs, ops, containers, blocks or all."""
    if what in ("specs", "all"):
        print("Bundled specs (archspec build NAME):")
        for name in sorted(bundled_specs()):
            print(f"  {name}")
    if what in ("ops", "all"):
        print("Ops:")
        for name, op in sorted(all_ops().items()):
            print(_described(name, _from(name, op.describe()), list(op.Args.model_fields)))
    if what in ("containers", "all"):
        print("Containers (hold items: sequential: [...], or branches: / layers: beside their arguments):")
        for name, container in all_containers().items():
            key = container.syntax.children_key
            keys = [] if key is None else [key]
            print(_described(name, _from(name, container.describe()), [*keys, *container.Args.model_fields]))
    if what in ("blocks", "all"):
        print("Built-in blocks:")
        for name, block in sorted(builtin_blocks().items()):
            params = ", ".join(
                (f"{k}" if v == "required" else f"{k}={v}")
                + (f" {{{', '.join(map(str, block.choices[k]))}}}" if k in block.choices else "")
                for k, v in block.params.items()
            )
            print(f"  {name:18} ({params})")


def _from(name: str, description: str) -> str:
    """A plugin's op or container says which plugin it comes from."""
    where = origin(name)
    return description if where == "built-in" else f"{description} (from {where})"


def _described(name: str, description: str, fields: list[str]) -> str:
    """One line of ``archspec list``: the name, its one-line description and its argument names."""
    return f"  {name:18} {description}" + (f"  [{', '.join(fields)}]" if fields else "")
