"""``archspec explain``: an expanded network written back as a spec — every param substituted, every block and
repeat unrolled, every argument with the value it took — that expands to the same modules under the same paths.

The IR keeps what the spec said about module structure (a node's name, its ``inline`` mark, its block class, its
``id``/``from``), so the spec is written from the IR alone: each leaf becomes its op with all its arguments, each
container its container with its arguments and children, each repeat a ``sequential`` of its copies, and each
block call a call of a block of this spec whose layers are that call's expanded layers and whose ``module:`` is the
call's class (so the compiled module is of the same class; calls that expand alike share one block). Every item is
named explicitly, so no naming rule (positions, names after ops) has to come out the same."""

from __future__ import annotations

from typing import Any

from archspec.blocks.library import builtin_blocks
from archspec.ir.graph import Network, Node
from archspec.ops.base import Tokens
from archspec.ops.containers import CONTAINERS
from archspec.ops.registry import all_ops


def explained_spec(network: Network) -> dict[str, Any]:
    """The spec (plain data, in spec order) that expands to ``network``."""
    return _Writer().spec(network)


def render_explained(network: Network, header: str = "") -> str:
    """``explained_spec`` as YAML text, leaves' arguments on one line each; ``header`` goes first as comments."""
    import yaml  # only this command writes YAML

    class _Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:  # blocks shared by content are written out, not anchored
            return True

    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    body = yaml.dump(
        explained_spec(network),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=None,
        allow_unicode=True,
        width=120,
    )
    return comments + body


class _Writer:
    def __init__(self) -> None:
        # Names a block of this spec may not take: ops, built-in blocks and containers would need `override`.
        self.taken = {*all_ops(), *builtin_blocks(), *CONTAINERS}
        self.blocks: dict[str, dict[str, Any]] = {}
        self.by_body: dict[tuple[str, str], str] = {}  # (class, layers as text) → the block that has them

    def spec(self, network: Network) -> dict[str, Any]:
        layers = self.items(network.root.children)
        shape = network.input
        written_input: Any = {"tokens": shape[0], "vocab": shape.vocab} if isinstance(shape, Tokens) else list(shape)
        spec: dict[str, Any] = {"archspec": 1, "name": network.name}
        if network.doc:
            spec["doc"] = network.doc
        spec["input"] = written_input
        if self.blocks:
            spec["blocks"] = self.blocks
        spec["layers"] = layers
        return spec

    def items(self, nodes: Any) -> list[Any]:
        """A layer list; an empty one (every item left out by its ``if``) as one item left out, since the language
        has no empty layer list but the module it stands for (a block's, a sequential's) has no children."""
        return [self.item(node) for node in nodes] or [{"identity": {}, "if": False}]

    def item(self, node: Node) -> dict[str, Any]:
        if node.is_leaf:
            key, value = node.kind, _arguments(node.args)
        elif node.module_class is not None and node.kind not in CONTAINERS:
            key, value = self.block(node), {}
        elif node.kind in CONTAINERS:
            syntax = CONTAINERS[node.kind].syntax
            args = _arguments(node.args)
            if syntax.branched and not node.children:
                key, value = node.kind, args  # a merge of its `from` inputs as they are
            else:
                children = self.branches(node.children) if syntax.branched else self.items(node.children)
                key, value = node.kind, syntax.written(args, children)
        else:  # a repeat's group: a sequential of its copies, named as the repeat named them
            key, value = "sequential", self.items(node.children)
        written: dict[str, Any] = {key: value}
        if node.inline:
            written["inline"] = True
        else:
            written["name"] = node.name
        if node.id is not None:
            written["id"] = node.id
        if node.sources is not None:
            written["from"] = node.sources[0] if len(node.sources) == 1 else list(node.sources)
        return written

    def branches(self, nodes: Any) -> Any:
        """A merge's branches: a list where they are named by position, else a mapping by name."""
        names = [node.name for node in nodes]
        lists = [self.items(node.children) if node.children else [] for node in nodes]  # []: the identity
        if all(node.inline for node in nodes) or names == [str(index) for index in range(len(nodes))]:
            return lists  # inlined branches have stand-in names; they name no module
        return dict(zip(names, lists, strict=True))

    def block(self, node: Node) -> str:
        """The block of this spec that expands to ``node``'s children, with its class; made on first use."""
        import json

        layers = self.items(node.children)
        body = json.dumps(layers, sort_keys=True)
        cls = node.module_class or "Block"
        known = self.by_body.get((cls, body))
        if known is not None:
            return known
        number, stem = 1, node.kind[:80]  # a name is at most 100 characters, the number included
        while f"{stem}_{number}" in self.taken:
            number += 1
        name = f"{stem}_{number}"
        self.taken.add(name)
        self.by_body[(cls, body)] = name
        self.blocks[name] = {"module": cls, "layers": layers}
        return name


def _arguments(args: Any) -> dict[str, Any]:
    """An op's or container's validated arguments as a spec writes them: all of them, JSON values."""
    if args is None:
        return {}
    return args.model_dump(mode="json", by_alias=True)
