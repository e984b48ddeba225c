"""Expansion: a validated :class:`Spec` → the IR, evaluating params, expressions, blocks and repeats and
inferring every shape on the way. The first shape error stops a chain (later shapes are unknowable).

The walk is :class:`_Expander`; where it stands is an immutable :class:`~archspec.ir.frame.Frame`. Errors are
located and worded by :mod:`archspec.ir.locating`, limits kept by :mod:`archspec.ir.budget`, ``from`` read by
:mod:`archspec.ir.routing`."""

from __future__ import annotations

from typing import Any

from archspec.blocks.library import BlockScope
from archspec.errors import Diagnostic, Location, SpecError, did_you_mean, format_spec_path
from archspec.gc_pause import paused_gc
from archspec.ir.budget import MAX_NESTING, SOFT_LIMIT, Budget, ExpandLimits, OverSoftLimit
from archspec.ir.expand_containers import ContainerExpansion
from archspec.ir.frame import CallSite, Frame
from archspec.ir.graph import Network, Node
from archspec.ir.locating import Abort, Locator, condition_fix, count_fix
from archspec.ir.module_names import ModuleNames
from archspec.ir.routing import input_names, read_input
from archspec.ir.values import Evaluator
from archspec.ops.base import Context, Shape, accepted, format_shape
from archspec.ops.containers import CONTAINERS, LIST_INPUT, SEQUENTIAL, Inputs
from archspec.ops.registry import loaded_ops
from archspec.spec.expressions import referenced_names
from archspec.spec.model import Item, Spec, is_module_name, network_input, walk_items
from archspec.user_text import describe_value, quoted

Scope = dict[str, Any]
COPY = "copy"  # the name under which the values inside a repeat read the index of their copy (0, 1, ...)


def expand(
    spec: Spec, input_shape: Shape | None = None, ctx: Context | None = None, limits: ExpandLimits | None = None
) -> Network:
    """Expand ``spec`` for ``input_shape`` (default: the spec's ``input``).

    Raises:
        SpecError: located at the item that cannot be expanded, or that takes the network past
            ``limits.max_nodes`` modules.
    """
    limits = limits or ExpandLimits()
    ctx = ctx or Context()
    shape = None if input_shape is None else tuple(input_shape)
    with paused_gc():
        if limits.max_nodes > SOFT_LIMIT:
            try:
                return _Expander(spec, ctx, limits, soft_limit=SOFT_LIMIT).run(shape)
            except OverSoftLimit:
                estimator = _Expander(spec, ctx, limits, estimating=True)
                network = estimator.run(shape)  # raises if the full network is too big
                if not estimator.budget.shortcuts:
                    return network  # nothing was counted without being built: this is the full network
        return _Expander(spec, ctx, limits).run(shape)


class _Expander(ContainerExpansion):
    def __init__(
        self, spec: Spec, ctx: Context, limits: ExpandLimits, soft_limit: int | None = None, estimating: bool = False
    ):
        self.spec = spec
        self.ctx = ctx
        self.limits = limits
        self.ops = loaded_ops()  # every name the spec uses was looked up as it was validated
        self.blocks = BlockScope(spec.blocks)  # a spec's block overrides a built-in one everywhere
        self.locator = Locator(spec, self.blocks)
        self.fail = self.locator.fail
        self.guard = self.locator.guard
        self.budget = Budget(limits, ctx, self.locator, soft_limit, estimating)
        self.ids = {item.id: item.path for item in walk_items(_spec_items(spec)) if item.id}
        values = self.values = Evaluator(self.locator)
        self.evaluate, self.evaluate_args, self.validate_args = values.evaluate, values.evaluate_args, values.arguments
        self.global_scope = values.global_scope
        # Per item (by identity; items live as long as the spec): its source location, whether it reads `copy`.
        self.locations: dict[int, Location] = {}
        self.copy_readers: dict[int, bool] = {}
        self.blocks_read_copy: bool | None = None  # whether a layer of the spec's own blocks reads `copy`

    def run(self, given: Shape | None) -> Network:
        """The network for the input ``given`` (None: the spec's own)."""
        try:
            frame = Frame(owner=self.spec, scope={}, names=ModuleNames("", by_op=False))
            frame = frame.child(scope=self.global_scope(frame))
            shape = network_input(self.spec.input, given, lambda value, key: self.values.input_size(value, key, frame))
        except Abort as abort:
            raise SpecError(abort.diagnostics) from None
        too_many = self.budget.too_many_values(shape)
        if too_many:
            raise SpecError(
                [
                    Diagnostic(
                        f"the input {format_shape(shape)} holds {too_many}",
                        ("input",),
                        self.spec.source.locate(("input",)),
                        "give a smaller input, or a smaller batch",
                    )
                ]
            )
        try:
            children = self.sequence(self.spec.layers, shape, frame)
        except Abort as abort:
            raise SpecError(abort.diagnostics) from None
        root = Node(
            name="",
            path="",
            kind="network",
            input=shape,
            output=SEQUENTIAL.output_shape(None, shape, [c.output for c in children]),
            spec_path=(),
            location=self.spec.source.locate(()),
            container=SEQUENTIAL,
            children=children,
        )
        return Network(
            name=self.spec.name,
            input=shape,
            root=root,
            doc=self.spec.doc,
            file=self.spec.file,
            scale=self.spec.scale,
        )

    # -- items ----------------------------------------------------------------------------------------------

    def sequence(self, items: list[Item], x: Shape | Inputs, frame: Frame) -> list[Node]:
        if isinstance(x, Inputs):
            raise self.fail(
                frame,
                items[0].path if items else (),
                f"a layer list takes one input, {len(x)} arrive through 'from'",
                "send several inputs to concat/add/multiply",
            )
        nodes: list[Node] = []
        saved: dict[str, Shape] = {LIST_INPUT: x}
        for position, item in enumerate(items):
            source = read_input(item, items, position, x, saved, self.ids, frame, self.locator)
            node = self.item(item, source, frame)
            if node is None:
                continue
            if not node.inline:
                self.claim(frame, node.name, item)
            node.id, node.sources = item.id, tuple(item.inputs) if item.inputs else None
            if item.id:
                if item.id in saved:
                    raise self.fail(
                        frame,
                        (*item.path, "id"),
                        f"id {quoted(item.id)} is used twice in this layer list",
                        "give each item a distinct id",
                    )
                saved[item.id] = node.output
            nodes.append(node)
            x = node.output
        return nodes

    def claim(self, frame: Frame, name: str, item: Item) -> None:
        """Register a child's name on the module being built (inlined items share the enclosing module's)."""
        taken = frame.names.claim(name, item.path)
        if taken is not None:
            raise self.fail(
                frame,
                (*item.path, "name"),
                f"name {quoted(name)} is already used by {format_spec_path(taken)}",
                "give each item a distinct name",
            )

    def module_name(self, item: Item, frame: Frame) -> str:
        if item.name is None:
            return frame.names.default(item.op)
        name = self.evaluate(item.name, frame, (*item.path, "name"))
        if not (isinstance(name, str) and is_module_name(name)):
            raise self.fail(
                frame,
                (*item.path, "name"),
                f"name {describe_value(name)} is not a valid module name",
                "use letters, digits and '_'",
            )
        return name

    def item(self, item: Item, x: Shape | Inputs, frame: Frame) -> Node | None:
        frame = frame.child(scope={**frame.scope, **input_names(x)})
        if item.condition is not None:
            condition = self.evaluate(item.condition, frame, (*item.path, "if"))
            if not isinstance(condition, bool):
                raise self.fail(
                    frame,
                    (*item.path, "if"),
                    f"'if' must give true or false, got {describe_value(condition)}",
                    condition_fix(item.condition, condition),
                    culprit=item.condition,
                )
            if not condition:
                return None
        if item.inline:  # a stand-in path: the item (a repeat's group, at least) registers no module
            name, path = frame.names.stand_in()
        else:
            name = self.module_name(item, frame)
            path = frame.names.path(name)
        if item.repeat is None:
            inline_into = frame.names if item.inline else None
            return _marked_inline(
                self.instance(item, x, frame, name, path, use_first=False, inline_into=inline_into), inline_into
            )
        return _marked_inline(self.repeated(item, x, frame, name, path), item.inline)

    def copy_name(self, item: Item, copy: int, frame: Frame) -> tuple[str, str, ModuleNames | None]:
        """Name, path and (for ``inline: true``) the namespace its children join, of a repeat's copy."""
        leaf = item.op in self.ops and item.op not in self.spec.blocks and item.op not in CONTAINERS
        if item.inline is True and not leaf:  # a leaf's copies are modules whatever 'inline' says
            name, path = frame.names.stand_in()
            return name, path, frame.names
        if item.inline:  # 'inline: group' (or a leaf's copies): each copy registers on the enclosing module
            name = self.module_name(item, frame.child(scope={**frame.scope, COPY: copy}))
            self.claim(frame, name, item)
            return name, frame.names.path(name), None
        return str(copy), "", None

    def repeated(self, item: Item, x: Shape | Inputs, frame: Frame, name: str, path: str) -> Node:
        count = self.evaluate(item.repeat, frame, (*item.path, "repeat"))
        if not (isinstance(count, int) and not isinstance(count, bool) and count >= 1):
            raise self.fail(
                frame,
                (*item.path, "repeat"),
                f"repeat must be a whole number >= 1, got {describe_value(count)}",
                count_fix(item.repeat, count),
                culprit=item.repeat,
            )
        if isinstance(x, Inputs):
            raise self.fail(
                frame,
                (*item.path, "from"),
                "a repeated item takes one input",
                "merge the inputs in an item before the repeat",
            )
        budget = self.budget
        copies: list[Node] = []
        fixed_point: Node | None = None  # a copy whose output is its input: every later copy is the same
        same_copies = not self.reads_copy(item)  # no value reads the copy's index: equal inputs, equal copies
        for copy in range(count):
            before = budget.count
            copy_name, copy_path, inline_into = self.copy_name(item, copy, frame)
            copy_path = copy_path or f"{path}.{copy}"
            if fixed_point is not None:
                copies.append(self.renamed_copy(fixed_point, copy_name, copy_path, item, frame))
                continue
            copy_frame = frame.child(scope={**frame.scope, COPY: copy})  # values in the copy may read its index
            node = _marked_inline(
                self.instance(item, x, copy_frame, copy_name, copy_path, use_first=copy == 0, inline_into=inline_into),
                inline_into,
            )
            copies.append(node)
            per_copy = budget.count - before
            if copy == 0 or node.output == x:
                # Later copies see the same input (a fixed point): project the whole repeat now.
                projected = budget.count + per_copy * (count - copy - 1) + 1
                budget.check(projected, item, frame, (count, per_copy))
                if budget.estimating and copy > 0 and same_copies:
                    budget.count = projected - 1  # the group node below adds the last one
                    budget.shortcuts += copy < count - 1
                    break
                if copy > 0 and item.inline is not True and same_copies:
                    # Expansion is deterministic: the same item, scope and input give the same modules, so
                    # later copies are this one under other paths (copy 0 differs: it takes 'first').
                    fixed_point = node
            x = node.output
        return self.node(
            name,
            path,
            "repeat",
            copies[0].input,
            SEQUENTIAL.output_shape(None, copies[0].input, [c.output for c in copies]),
            item,
            frame,
            container=SEQUENTIAL,
            children=copies,
        )

    def instance(
        self,
        item: Item,
        x: Shape | Inputs,
        frame: Frame,
        name: str,
        path: str,
        use_first: bool,
        inline_into: ModuleNames | None = None,
    ) -> Node:
        """``inline_into``: the enclosing module's names, which the children of an inlined item join."""
        self.budget.check_nesting(path, item, frame)
        raw = {**item.args, **(item.first or {})} if use_first else item.args
        if item.op in CONTAINERS:
            return self.container(item, raw, x, frame, name, path, inline_into)
        if isinstance(x, Inputs):
            raise self.fail(
                frame,
                (*item.path, "from"),
                f"{quoted(item.op)} takes one input, {len(x)} arrive through 'from'",
                "merge them first with concat, add or multiply",
            )
        if item.op in self.spec.blocks:  # before the ops: with 'override: true' a spec's block takes an op's name
            return self.block(item, self.spec.blocks[item.op], raw, x, frame, name, path, inline_into)
        if item.op in self.ops:
            if inline_into is not None:
                raise self.fail(
                    frame,
                    (*item.path, "inline"),
                    f"'{item.op}' is an op: it holds no modules to inline",
                    "remove 'inline' (it applies to sequentials, merges, blocks and repeats)",
                    key=True,
                )
            return self.leaf(item, raw, x, frame, name, path)
        if item.op in self.blocks:
            return self.block(item, self.blocks[item.op], raw, x, frame, name, path, inline_into)
        raise self.fail(
            frame,
            item.op_path,
            f"unknown op {quoted(item.op)}",
            did_you_mean(item.op, [*self.ops, *self.blocks]),
            key=True,
        )

    def leaf(self, item: Item, raw: dict[str, Any], x: Shape, frame: Frame, name: str, path: str) -> Node:
        op = self.ops[item.op]
        args = self.validate_args(op.Args, raw, item, frame, use_first=raw is not item.args)
        y = self.guard(lambda: op.output_shape(args, accepted(op, x), self.ctx), item, raw, frame, x)
        return self.node(name, path, item.op, x, y, item, frame, op=op, args=args)

    def node(
        self, name: str, path: str, kind: str, x: Shape | Inputs, y: Shape, item: Item, frame: Frame, **fields: Any
    ) -> Node:
        """A node for ``item`` at ``path``, counted and size-checked."""
        self.budget.add(1, item, frame)
        self.budget.check_size(x, y, path, item, frame)
        location = self.locations.get(id(item))
        if location is None:
            location = self.locations[id(item)] = frame.owner.source.locate(item.path)
        return Node(
            name=name,
            path=path,
            kind=kind,
            input=x,
            output=y,
            spec_path=item.path,
            location=location,
            in_head=frame.in_head,
            train_only=frame.train_only,
            **fields,
        )

    def reads_copy(self, item: Item) -> bool:
        """Whether a value inside ``item`` may read ``copy`` (the repeat's index): its own, its children's and
        branches' values, or the layers of a spec's own block (which sees its caller's names). Conservative: a
        name in a nested repeat or a block never called counts too; it only costs the fixed-point shortcut."""
        known = self.copy_readers.get(id(item))
        if known is None:
            if self.blocks_read_copy is None:
                self.blocks_read_copy = any(_reads_copy(block.layers) for block in self.spec.blocks.values())
            # The item's own name is not a value inside a copy: copy_name names each copy, the fixed-point
            # copies included (DenseNet's "denselayer${copy + 1}" keeps the shortcut).
            known = self.copy_readers[id(item)] = self.blocks_read_copy or _reads_copy([item], skip_first_name=True)
        return known

    def renamed_copy(self, model: Node, name: str, path: str, item: Item, frame: Frame) -> Node:
        """A repeat's copy at a fixed point: ``model``'s modules again, under ``path`` instead of its path."""
        old = len(model.path)
        root = model.renamed(name, path)
        added = 1
        pending = [root]
        while pending:  # iterative: the copy may be nested as deep as the network allows
            parent = pending.pop()
            if parent.children:  # leaves keep their shared empty tuple
                parent.children = [child.renamed(child.name, path + child.path[old:]) for child in parent.children]
                added += len(parent.children)
                pending.extend(parent.children)
        self.budget.add(added, item, frame)
        return root


def _reads_copy(items: list[Item], skip_first_name: bool = False) -> bool:
    """Whether a value of ``items`` or of what they nest reads ``copy`` (not counting the first item's name)."""
    return any(
        COPY
        in referenced_names(
            [item.args, item.first, None if skip_first_name and index == 0 else item.name, item.condition, item.repeat]
        )
        for index, item in enumerate(walk_items(items))
    )


def _marked_inline(node: Node, inline: Any) -> Node:
    node.inline = bool(inline)
    return node


def _spec_items(spec: Spec) -> list[Item]:
    return [*spec.layers, *(item for block in spec.blocks.values() for item in block.layers)]


__all__ = ["MAX_NESTING", "CallSite", "ExpandLimits", "Location", "expand"]
