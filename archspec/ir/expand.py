"""Expansion: a validated :class:`Spec` → the IR, evaluating params, expressions, blocks and repeats and
inferring every shape on the way. The first shape error stops a chain (later shapes are unknowable)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from math import prod
from typing import Any

from pydantic import ValidationError

from archspec.blocks.library import BlockScope, builtin_sources
from archspec.errors import Diagnostic, Location, OpError, SpecError, SpecPath, did_you_mean, format_spec_path
from archspec.gc_pause import paused_gc
from archspec.ir.graph import MAIN_OUTPUT, Network, Node
from archspec.ir.head_inputs import smallest_accepted
from archspec.ir.use_chain import use_chain
from archspec.limits import DEFAULT_MAX_NODES
from archspec.ops.base import DTYPE_BYTES, MAX_SIZE, Context, Shape, format_shape
from archspec.ops.containers import CONTAINERS, LIST_INPUT, PREVIOUS, SEQUENTIAL, Inputs
from archspec.ops.registry import all_ops
from archspec.spec.bounded_errors import bounded_diagnostics
from archspec.spec.expressions import ExpressionError, evaluate_value, has_expression, is_expression, referenced_names
from archspec.spec.model import NAME_PATTERN, REQUIRED, Block, Item, Spec, walk_items
from archspec.user_text import describe_value, listed, quoted, shortened

# Torch runs nested modules by recursion: each level of nesting costs about 5 Python frames in a forward
# pass with hooks and FlopCounterMode (``build --verify``), so under Python's default limit of 1,000 frames
# a fresh process verifies 183 levels and fails at 225 (torch 2.14, Python 3.11). 64 levels leave room for a
# caller's own frames (pytest, notebooks) and for archspec's passes (expansion takes ~4 frames a level); the
# bundled specs nest at most 7.
MAX_NESTING = 64
# A float32 tensor whose byte size passes 2**63 - 1 cannot even be described: torch keeps storage sizes in
# int64 bytes ("Storage size calculation overflowed").
MAX_TENSOR_BYTES = 2**63 - 1


@dataclass(frozen=True)
class ExpandLimits:
    """Caps that make runaway specs fail fast with a clear message."""

    max_nodes: int = DEFAULT_MAX_NODES
    max_block_depth: int = 32
    max_nesting: int = MAX_NESTING  # modules inside modules, from the network down to a leaf


@dataclass(frozen=True)
class CallSite:
    """Where a block was used, so errors inside it can point back at the user's spec."""

    block: str
    item: Item
    source: Any  # the SourceMap of the file that holds the call


class _Abort(Exception):
    """Stops a chain whose shapes can no longer be known; carries every diagnostic found so far."""

    def __init__(self, *diagnostics: Diagnostic):
        self.diagnostics = list(diagnostics)


# Expansions past this many modules are first counted by a memoised estimate, so that a runaway spec is
# rejected in milliseconds instead of after building a million nodes.
SOFT_LIMIT = 5_000


def expand(spec: Spec, input_shape: Shape | None = None, ctx: Context | None = None,
           limits: ExpandLimits | None = None) -> Network:
    """Expand ``spec`` for ``input_shape`` (default: the spec's ``input``).

    Raises:
        SpecError: located at the item that cannot be expanded, or that takes the network past
            ``limits.max_nodes`` modules.
    """
    limits = limits or ExpandLimits()
    ctx = ctx or Context()
    shape = tuple(spec.input if input_shape is None else input_shape)
    with paused_gc():
        if limits.max_nodes > SOFT_LIMIT:
            try:
                return _Expander(spec, ctx, limits, soft_limit=SOFT_LIMIT).run(shape)
            except _OverSoftLimit:
                estimator = _Expander(spec, ctx, limits, estimating=True)
                network = estimator.run(shape)  # raises if the full network is too big
                if not estimator.shortcuts:
                    return network  # nothing was counted without being built: this is the full network
        return _Expander(spec, ctx, limits).run(shape)


_UNTRACED = object()  # fail(): the error is not about one value of the spec


class _OverSoftLimit(Exception):
    """A large network: count it (cheaply) before building it."""


class _Expander:
    def __init__(self, spec: Spec, ctx: Context, limits: ExpandLimits, soft_limit: int | None = None,
                 estimating: bool = False):
        self.spec = spec
        self.ctx = ctx
        self.limits = limits
        self.soft_limit = soft_limit
        # Estimating counts modules without keeping them: a block with the same arguments and input is
        # counted once, and a repeat is extrapolated once its copies reach a fixed point.
        self.estimating = estimating
        self.estimates: dict[Any, tuple[int, Shape]] = {}
        self.shortcuts = 0  # blocks and repeat copies the estimate counted without building them
        self.ops = all_ops()
        self.blocks = BlockScope(spec.blocks)  # a spec's block overrides a built-in one everywhere
        self.count = 0
        self.in_head = False  # expanding inside a head (off the main path)
        self.train_only = False  # ... of a head that runs only in training
        self.ids = {item.id: item.path for item in walk_items(_spec_items(spec)) if item.id}
        # Per item (by identity; items live as long as the spec): its validated arguments when they hold no
        # expression (the same for every copy of a repeat), and its source location.
        self.literal_args: dict[tuple[int, bool], Any] = {}
        self.locations: dict[int, Location] = {}

    def run(self, shape: Shape) -> Network:
        too_many = self.too_many_values(shape)
        if too_many:
            raise SpecError([Diagnostic(f"the input {format_shape(shape)} holds {too_many}", ("input",),
                                        self.spec.source.locate(("input",)), "give a smaller input, or a smaller "
                                        "batch")])
        try:
            scope = self.global_scope()
            children = self.sequence(self.spec.layers, shape, scope, "", self.spec, ())
        except _Abort as abort:
            raise SpecError(abort.diagnostics) from None
        root = Node(name="", path="", kind="network", input=shape, output=SEQUENTIAL.output_shape(
            None, shape, [c.output for c in children]), spec_path=(), location=self.spec.source.locate(()),
            container=SEQUENTIAL, children=children)
        return Network(name=self.spec.name, input=shape, root=root, doc=self.spec.doc, file=self.spec.file)

    # -- errors ---------------------------------------------------------------------------------------------

    def fail(self, owner: Any, path: SpecPath, stack: tuple[CallSite, ...], message: str,
             fix: str | None = None, key: bool = False, context: bool = True, culprit: Any = _UNTRACED,
             reads_input: bool = False) -> _Abort:
        """Locate an error; inside a bundled block, point at the user's call and name the inner item.

        ``culprit`` is the raw (unevaluated) value at fault, read at the level of ``stack``: where it derives
        from overridden params, the message says so. Where the fault is not traced to a value, or also depends
        on the input's shape (``reads_input``; shapes are not traced), the message names every override in
        effect."""
        message += self.override_note(culprit, stack, reads_input)
        if stack and owner is not self.spec:
            # A bundled block's file is not the user's: point at the innermost call in the user's file.
            outer = self.user_call(stack)
            return _Abort(Diagnostic(f"in {self.chain(stack, path)}: {message}", outer.item.op_path,
                                     outer.source.locate(outer.item.op_path), fix))
        if stack and context:
            message = f"in {self.chain(stack, path)}: {message}"
        return _Abort(Diagnostic(message, path, owner.source.locate(path, key), fix))

    def chain(self, stack: tuple[CallSite, ...], path: SpecPath) -> str:
        """The uses of blocks that lead from the top-level item to ``path`` (see archspec.ir.use_chain)."""
        inner = [*(site.item.path for site in stack[1:]), path]
        return use_chain(stack[0].item.path, [(site.block, self.blocks[site.block].path, position)
                                              for site, position in zip(stack, inner, strict=True)])

    def user_call(self, stack: tuple[CallSite, ...]) -> CallSite:
        """The innermost block call written in the user's own file (errors inside bundled blocks point there)."""
        return next((site for site in reversed(stack) if site.source is self.spec.source), stack[0])

    def override_note(self, culprit: Any, stack: tuple[CallSite, ...], reads_input: bool) -> str:
        """`` (num_classes = 0 from --set)`` for the overrides ``culprit`` derives from; else, for a fault that
        no value explains, `` (with ... from --set)`` naming every override; empty without overrides."""
        overrides = self.spec.overrides
        if not overrides:
            return ""
        traced = set() if culprit is _UNTRACED else self.override_sources(culprit, stack)
        if not traced and culprit is not _UNTRACED and not reads_input:
            return ""  # the value alone is at fault, and no override made it
        named = [key for key in overrides if key in traced] or list(overrides)
        import json  # only for this message: a spec that expands needs no json module (nor its regexes)

        values = ", ".join(f"{key} = {shortened(json.dumps(overrides[key], default=str))}" for key in named)
        return f" ({'' if traced else 'with '}{values} from {self.spec.override_origin})"

    def override_sources(self, value: Any, stack: tuple[CallSite, ...], seen: frozenset[Any] = frozenset()
                         ) -> set[str]:
        """The overridden params that the raw ``value``, evaluated in the scope of ``stack``, derives from."""
        return set().union(*(self.name_sources(name, stack, seen) for name in referenced_names(value)))

    def name_sources(self, name: str, stack: tuple[CallSite, ...], seen: frozenset[Any]) -> set[str]:
        """The overridden params behind ``name`` in the scope of ``stack``: a block parameter follows the call's
        argument (or the default), a user block also sees its caller's names, a param its own definition."""
        if (name, len(stack)) in seen:
            return set()  # a self-referential definition: an error of its own
        seen = seen | {(name, len(stack))}
        if not stack:
            if name in self.spec.overrides:
                return {name}
            return self.override_sources(self.spec.params[name], (), seen) if name in self.spec.params else set()
        site, block = stack[-1], self.blocks.get(stack[-1].block)
        if block is not None and name in block.params:
            given = [args[name] for args in (site.item.args, site.item.first or {})
                     if isinstance(args, dict) and name in args]
            return (self.override_sources(given, stack[:-1], seen) if given
                    else self.override_sources(block.params[name], stack, seen))
        if block is not None and block is self.spec.blocks.get(block.name):
            return self.name_sources(name, stack[:-1], seen)
        return set()

    # -- scopes ---------------------------------------------------------------------------------------------

    def global_scope(self) -> dict[str, Any]:
        scope: dict[str, Any] = {}
        for key, value in self.spec.params.items():
            scope[key] = self.evaluate(value, scope, self.spec, ("params", key), ())
        return scope

    def evaluate(self, value: Any, scope: dict[str, Any], owner: Any, path: SpecPath,
                 stack: tuple[CallSite, ...]) -> Any:
        try:
            result = evaluate_value(value, scope)
        except ExpressionError as exc:
            raise self.fail(owner, path, stack, exc.message, exc.fix, culprit=value) from None
        return _integral(result) if is_expression(value) else result

    def evaluate_args(self, raw: dict[str, Any], scope: dict[str, Any], owner: Any, path: SpecPath,
                      stack: tuple[CallSite, ...]) -> dict[str, Any]:
        return {key: self.evaluate(value, scope, owner, (*path, key), stack) for key, value in raw.items()}

    # -- items ----------------------------------------------------------------------------------------------

    def sequence(self, items: list[Item], x: Shape | Inputs, scope: dict[str, Any], prefix: str, owner: Any,
                 stack: tuple[CallSite, ...]) -> list[Node]:
        if isinstance(x, Inputs):
            raise self.fail(owner, items[0].path if items else (), stack, f"a layer list takes one input, "
                            f"{len(x)} arrive through 'from'", "send several inputs to concat/add/multiply")
        nodes: list[Node] = []
        names: dict[str, Item] = {}
        saved: dict[str, Shape] = {LIST_INPUT: x}
        for position, item in enumerate(items):
            source = self.route(item, items, position, x, saved, owner, stack)
            node = self.item(item, source, scope, prefix, len(nodes), owner, stack)
            if node is None:
                continue
            if node.name in names:
                raise self.fail(owner, (*item.path, "name"), stack, f"name {quoted(node.name)} is already used by "
                                f"{format_spec_path(names[node.name].path)}", "give each item a distinct name")
            names[node.name] = item
            node.id, node.sources = item.id, tuple(item.inputs) if item.inputs else None
            if item.id:
                if item.id in saved:
                    raise self.fail(owner, (*item.path, "id"), stack, f"id {quoted(item.id)} is used twice in this "
                                    "layer list", "give each item a distinct id")
                saved[item.id] = node.output
            nodes.append(node)
            x = node.output
        return nodes

    def route(self, item: Item, items: list[Item], position: int, previous: Shape, saved: dict[str, Shape],
              owner: Any, stack: tuple[CallSite, ...]) -> Shape | Inputs:
        """The input an item reads: the previous output, or what its ``from`` names."""
        if not item.inputs:
            return previous
        shapes = []
        for source in item.inputs:
            if source == PREVIOUS:
                shapes.append(previous)
            elif source in saved:
                shapes.append(saved[source])
            elif source == item.id:
                raise self.fail(owner, (*item.path, "from"), stack, f"{quoted(source)} is this item's own id; 'from' "
                                "may only read earlier items (no cycles)", "read an earlier id, or 'prev' for the "
                                "previous item's output")
            else:
                later = next((other for other in items[position:] if other.id == source), None)
                elsewhere = self.ids.get(source)
                if later is None and elsewhere is not None:
                    enclosing = next((part for part in reversed(elsewhere[:-1]) if isinstance(part, str)
                                      and part not in ("branches", "layers", "blocks")), "item")
                    here = "branch" if "branches" in item.path else "layer list"
                    raise self.fail(owner, (*item.path, "from"), stack, f"{quoted(source)} is defined in another layer "
                                    f"list, at {format_spec_path(elsewhere)}; 'from' reads only ids of its own list",
                                    f"compute the value inside this {here}, or read {quoted(source)} after the "
                                    f"{enclosing}")
                if later is not None:
                    raise self.fail(owner, (*item.path, "from"), stack, f"{quoted(source)} is defined later, at "
                                    f"{format_spec_path(later.path)}; 'from' may only read earlier items (no "
                                    "cycles)", "move the item with that id before this one")
                known = [k for k in saved if k != LIST_INPUT] + [PREVIOUS, LIST_INPUT]
                raise self.fail(owner, (*item.path, "from"), stack, f"unknown id {quoted(source)} in 'from'",
                                did_you_mean(source, known) or f"ids defined before this item in the same list: "
                                f"{listed(known)}")
        return shapes[0] if len(shapes) == 1 else Inputs(shapes, item.inputs)

    def item(self, item: Item, x: Shape | Inputs, scope: dict[str, Any], prefix: str, index: int, owner: Any,
             stack: tuple[CallSite, ...]) -> Node | None:
        scope = {**scope, **_input_names(x)}
        if item.condition is not None:
            condition = self.evaluate(item.condition, scope, owner, (*item.path, "if"), stack)
            if not isinstance(condition, bool):
                raise self.fail(owner, (*item.path, "if"), stack, f"'if' must give true or false, got "
                                f"{describe_value(condition)}", _condition_fix(item.condition, condition),
                                culprit=item.condition)
            if not condition:
                return None
        if item.name is None:
            name = str(index)
        else:
            name = self.evaluate(item.name, scope, owner, (*item.path, "name"), stack)
            if not (isinstance(name, str) and _valid_name(name)):
                raise self.fail(owner, (*item.path, "name"), stack, f"name {describe_value(name)} is not a valid "
                                "module name", "use letters, digits and '_'")
        path = f"{prefix}.{name}" if prefix else name
        if item.repeat is None:
            return self.instance(item, x, scope, name, path, owner, stack, use_first=False)
        return self.repeated(item, x, scope, name, path, owner, stack)

    def repeated(self, item: Item, x: Shape | Inputs, scope: dict[str, Any], name: str, path: str, owner: Any,
                 stack: tuple[CallSite, ...]) -> Node:
        count = self.evaluate(item.repeat, scope, owner, (*item.path, "repeat"), stack)
        if not (isinstance(count, int) and not isinstance(count, bool) and count >= 1):
            raise self.fail(owner, (*item.path, "repeat"), stack, f"repeat must be a whole number >= 1, got "
                            f"{describe_value(count)}", _count_fix(item.repeat, count), culprit=item.repeat)
        if isinstance(x, Inputs):
            raise self.fail(owner, (*item.path, "from"), stack, "a repeated item takes one input",
                            "merge the inputs in an item before the repeat")
        copies: list[Node] = []
        fixed_point: Node | None = None  # a copy whose output is its input: every later copy is the same
        for copy in range(count):
            before = self.count
            if fixed_point is not None:
                node = self.renamed_copy(fixed_point, str(copy), f"{path}.{copy}", item, owner, stack)
                copies.append(node)
                continue
            node = self.instance(item, x, scope, str(copy), f"{path}.{copy}", owner, stack, use_first=copy == 0)
            copies.append(node)
            per_copy = self.count - before
            if copy == 0 or node.output == x:
                # Later copies see the same input (a fixed point): project the whole repeat now.
                projected = self.count + per_copy * (count - copy - 1) + 1
                self.check_budget(projected, item, owner, stack, (count, per_copy))
                if self.estimating and copy > 0:
                    self.count = projected - 1  # the group node below adds the last one
                    self.shortcuts += copy < count - 1
                    break
                if copy > 0:
                    # Expansion is deterministic: the same item, scope and input give the same modules, so
                    # later copies are this one under other paths (copy 0 differs: it takes 'first').
                    fixed_point = node
            x = node.output
        return self.node(name, path, "repeat", copies[0].input, SEQUENTIAL.output_shape(
            None, copies[0].input, [c.output for c in copies]), item, owner, stack, container=SEQUENTIAL,
            children=copies)

    def instance(self, item: Item, x: Shape | Inputs, scope: dict[str, Any], name: str, path: str, owner: Any,
                 stack: tuple[CallSite, ...], use_first: bool) -> Node:
        self.check_nesting(path, item, owner, stack)
        raw = {**item.args, **(item.first or {})} if use_first else item.args
        if item.op in CONTAINERS:
            return self.container(item, raw, x, scope, name, path, owner, stack)
        if isinstance(x, Inputs):
            raise self.fail(owner, (*item.path, "from"), stack, f"{quoted(item.op)} takes one input, {len(x)} arrive "
                            "through 'from'", "merge them first with concat, add or multiply")
        if item.op in self.spec.blocks:  # before the ops: with 'override: true' a spec's block takes an op's name
            return self.block(item, self.spec.blocks[item.op], raw, x, scope, name, path, owner, stack)
        if item.op in self.ops:
            return self.leaf(item, raw, x, scope, name, path, owner, stack)
        if item.op in self.blocks:
            return self.block(item, self.blocks[item.op], raw, x, scope, name, path, owner, stack)
        names = [*self.ops, *self.blocks]
        raise self.fail(owner, item.op_path, stack, f"unknown op {quoted(item.op)}", did_you_mean(item.op, names),
                        key=True)

    def container(self, item: Item, raw: dict[str, Any], x: Shape | Inputs, scope: dict[str, Any], name: str,
                  path: str, owner: Any, stack: tuple[CallSite, ...]) -> Node:
        container = CONTAINERS[item.op]
        args = self.validate_args(container.Args, raw, scope, item, owner, stack, use_first=raw is not item.args)
        if isinstance(x, Inputs) and not container.merges:
            raise self.fail(owner, (*item.path, "from"), stack, f"{quoted(item.op)} takes one input, {len(x)} arrive "
                            "through 'from'", "merge them first with concat, add or multiply")
        outer = (self.in_head, self.train_only)
        # In eval mode a train-only head never runs, so its input may be one it cannot take (see head_inputs).
        never_runs = not self.ctx.train and not self.train_only and bool(getattr(args, "train_only", False))
        self.in_head = self.in_head or container.off_main_path
        self.train_only = self.train_only or bool(getattr(args, "train_only", False))
        built_for = None
        before = self.count
        try:
            try:
                children = self.container_children(container, item, raw, x, scope, path, owner, stack)
            except _Abort as abort:
                if not never_runs or isinstance(x, Inputs):
                    raise
                built_for, children = self.built_for_training(
                    lambda shape: self.container_children(container, item, raw, shape, scope, path, owner, stack),
                    x, before, abort)
        finally:
            head_flags = (self.in_head, self.train_only)
            self.in_head, self.train_only = outer
        outputs = [child.output for child in children]
        labels = _merge_labels(item, x)
        y = self.guard(lambda: container.output_shape(args, x, outputs, labels), item, raw, owner, stack)
        if container.off_main_path and path == MAIN_OUTPUT:
            raise self.fail(owner, (*item.path, "name") if item.name is not None else item.op_path, stack,
                            f"a head may not be named '{MAIN_OUTPUT}': that name is reserved for the network's main "
                            "output (in the report and the forward dict)", f"rename it, e.g. 'name: aux_{MAIN_OUTPUT}'")
        node = self.node(name, path, item.op, x, y, item, owner, stack, container=container, args=args,
                         children=children)
        node.side_output = container.side_output(args, x, outputs)
        node.in_head, node.train_only, node.built_for = *head_flags, built_for
        return node

    def container_children(self, container: Any, item: Item, raw: dict[str, Any], x: Shape | Inputs,
                           scope: dict[str, Any], path: str, owner: Any, stack: tuple[CallSite, ...]) -> list[Node]:
        if item.branches is None:
            return self.sequence(item.children or [], x, scope, path, owner, stack)
        inputs = self.guard(lambda: container.branch_inputs(x, len(item.branches)), item, raw, owner, stack)
        children, failures = [], []
        for (branch_name, items), branch_x in zip(item.branches, inputs, strict=False):
            try:  # branches are independent: report the problems of every one
                children.append(self.branch(branch_name, items, branch_x, scope, f"{path}.{branch_name}",
                                            item, owner, stack))
            except _Abort as abort:
                failures += abort.diagnostics
        if failures:
            raise _Abort(*failures)
        return children

    def built_for_training(self, expand_at: Any, x: Shape, before: int, abort: _Abort) -> tuple[Shape, list[Node]]:
        """The children of a train-only head that cannot run at input ``x``, built for the smallest input it
        accepts (``expand_at`` expands them for a given input); the head's own error if it accepts none."""

        def accepts(shape: Shape) -> bool:
            self.count = before  # a rejected probe's modules are not the network's
            try:
                expand_at(shape)
            except _Abort:
                return False
            return True

        shape = smallest_accepted(accepts, x)
        self.count = before
        if shape is None:
            raise abort
        return shape, expand_at(shape)

    def branch(self, name: str, items: list[Item], x: Shape, scope: dict[str, Any], path: str, parent: Item,
               owner: Any, stack: tuple[CallSite, ...]) -> Node:
        self.check_nesting(path, parent, owner, stack)
        children = self.sequence(items, x, scope, path, owner, stack)
        return self.node(name, path, "branch", x, SEQUENTIAL.output_shape(None, x, [c.output for c in children]),
                         parent, owner, stack, container=SEQUENTIAL, children=children)

    def guard(self, rule: Any, item: Item, raw: dict[str, Any], owner: Any, stack: tuple[CallSite, ...],
              x: Shape | None = None) -> Any:
        """Run a shape rule; an OpError becomes a located diagnostic (at the argument it names)."""
        try:
            return rule()
        except OpError as exc:
            named = bool(exc.argument) and exc.argument in raw
            where = (*item.op_path, exc.argument) if named else item.op_path
            context = f" [input {format_shape(x)}]" if x is not None else ""
            culprit = raw[exc.argument] if named else _UNTRACED
            raise self.fail(owner, where, stack, exc.message + context, exc.fix, culprit=culprit,
                            reads_input=True) from None

    def validate_args(self, model: Any, raw: dict[str, Any], scope: dict[str, Any], item: Item, owner: Any,
                      stack: tuple[CallSite, ...], use_first: bool) -> Any:
        key = (id(item), use_first)
        known = self.literal_args.get(key)
        if known is not None:
            return known
        values = self.evaluate_args(raw, scope, owner, item.op_path, stack)
        try:
            args = model.model_validate(values)
        except ValidationError as exc:
            first = bounded_diagnostics(exc, model, item.op_path, owner.source, values)[0][0]
            argument = first.path[len(item.op_path)] if len(first.path) > len(item.op_path) else None
            culprit = raw.get(argument, raw)
            raise self.fail(owner, first.path, stack, first.message, first.fix, culprit=culprit) from None
        if not has_expression(raw):
            self.literal_args[key] = args  # the same for every copy and every input: validate once
        return args

    def leaf(self, item: Item, raw: dict[str, Any], x: Shape, scope: dict[str, Any], name: str, path: str,
             owner: Any, stack: tuple[CallSite, ...]) -> Node:
        op = self.ops[item.op]
        args = self.validate_args(op.Args, raw, scope, item, owner, stack, use_first=raw is not item.args)
        y = self.guard(lambda: op.output_shape(args, x, self.ctx), item, raw, owner, stack, x)
        return self.node(name, path, item.op, x, y, item, owner, stack, op=op, args=args)

    def block(self, item: Item, block: Block, raw: dict[str, Any], x: Shape, scope: dict[str, Any], name: str,
              path: str, owner: Any, stack: tuple[CallSite, ...]) -> Node:
        if len(stack) >= self.limits.max_block_depth:
            recursive = any(site.block == block.name for site in stack)
            what = f"block '{block.name}' calls itself" if recursive else "blocks call blocks"
            raise self.fail(owner, item.op_path, stack, f"{what} more than {self.limits.max_block_depth} levels "
                            "deep", "stop the recursion with an 'if' on a parameter that shrinks",
                            context=False)
        values = self.evaluate_args(raw, scope, owner, item.op_path, stack)
        for key in values:
            if key not in block.params:
                raise self.fail(owner, (*item.op_path, key), stack, f"block '{block.name}' has no parameter "
                                f"{quoted(key)}", did_you_mean(key, block.params) or
                                f"its parameters: {listed(block.params) or 'none'}", key=True)
        block_owner = self.spec if block is self.spec.blocks.get(block.name) else _library_owner(block)
        inner: dict[str, Any] = {} if block_owner is not self.spec else {
            k: v for k, v in scope.items() if not k.startswith("in.")}
        inner.update(_input_names(x))
        site = CallSite(block.name, item, owner.source)
        for key, default in block.params.items():
            if key in values:
                inner[key] = values[key]
            elif default == REQUIRED:
                raise self.fail(owner, item.op_path, stack, f"block '{block.name}' needs the argument '{key}'",
                                f"add '{key}: ...' to its arguments")
            else:
                inner[key] = self.evaluate(default, inner, block_owner, (*block.path, "params", key),
                                           (*stack, site))
        key = (block.name, block_owner is self.spec, _frozen(values), x, self.in_head, self.train_only) \
            if self.estimating else None
        if key in self.estimates:
            counted, output = self.estimates[key]
            self.count += counted - 1
            self.shortcuts += 1
            return self.node(name, path, block.name, x, output, item, owner, stack, container=SEQUENTIAL)
        before = self.count
        children = self.sequence(block.layers, x, inner, path, block_owner, (*stack, site))
        if key is not None:
            self.estimates[key] = (self.count - before + 1, children[-1].output if children else x)
        return self.node(name, path, block.name, x, SEQUENTIAL.output_shape(None, x, [c.output for c in children]),
                         item, owner, stack, container=SEQUENTIAL, children=children)

    def node(self, name: str, path: str, kind: str, x: Shape, y: Shape, item: Item, owner: Any,
             stack: tuple[CallSite, ...], **fields: Any) -> Node:
        self.count_nodes(1, item, owner, stack)
        self.check_size(x, y, path, item, owner, stack)
        location = self.locations.get(id(item))
        if location is None:
            location = self.locations[id(item)] = owner.source.locate(item.path)
        return Node(name=name, path=path, kind=kind, input=x, output=y, spec_path=item.path, location=location,
                    in_head=self.in_head, train_only=self.train_only, **fields)

    def count_nodes(self, added: int, item: Item, owner: Any, stack: tuple[CallSite, ...]) -> None:
        self.count += added
        self.check_budget(self.count, item, owner, stack)
        if self.soft_limit is not None and self.count > self.soft_limit:
            raise _OverSoftLimit

    def renamed_copy(self, model: Node, name: str, path: str, item: Item, owner: Any,
                     stack: tuple[CallSite, ...]) -> Node:
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
        self.count_nodes(added, item, owner, stack)
        return root

    def check_nesting(self, path: str, item: Item, owner: Any, stack: tuple[CallSite, ...]) -> None:
        """Refuse to nest modules deeper than torch can run them (see :data:`MAX_NESTING`)."""
        limit = self.limits.max_nesting
        if path.count(".") < limit:  # a module at depth d has d - 1 dots in its path
            return
        calls = sum(1 for site in stack if site.block == stack[-1].block) if stack else 0
        recursion = f"; block '{stack[-1].block}' is {calls} calls deep here" if calls > 1 else ""
        raise self.fail(owner, item.op_path, stack, f"modules nest more than {limit} levels deep here "
                        f"(each sequential, branch, repeat and block adds one{recursion}); torch runs nested "
                        "modules by recursion and deeper nesting cannot be compiled and run reliably",
                        "nest fewer containers and blocks, or end the block recursion sooner with an 'if' on a "
                        "parameter that shrinks", context=False)

    def check_size(self, x: Shape | Inputs, y: Shape, path: str, item: Item, owner: Any,
                   stack: tuple[CallSite, ...]) -> None:
        """Every size stays a size torch can run, and every tensor one it can describe (see the constants)."""
        largest = max(y, default=1)
        if largest > MAX_SIZE:
            raise self.fail(owner, item.op_path, stack, f"module '{path}' would output {format_shape(y)}"
                            f"{_input_context(x)}, a size of {largest:,}: more than {MAX_SIZE:,} (2**31 - 1), the "
                            "largest size a spec may give or produce, as torch's kernels index sizes with 32-bit ints",
                            "make this layer's output smaller: fewer channels, a smaller scale or size, or a "
                            "smaller input")
        too_many = self.too_many_values(y)
        if too_many:
            raise self.fail(owner, item.op_path, stack, f"module '{path}' would output {format_shape(y)}"
                            f"{_input_context(x)}, {too_many}", "make this layer's output smaller (fewer channels "
                            "or smaller sizes), or lower the batch")

    def too_many_values(self, shape: Shape) -> str | None:
        """What is wrong with a float32 tensor of ``shape`` at the batch in hand that torch cannot describe, or
        None: torch counts a tensor's bytes in a 64-bit int."""
        elements = self.ctx.batch * prod(shape)
        if elements * DTYPE_BYTES <= MAX_TENSOR_BYTES:
            return None
        return (f"{elements:.3e} values at batch {self.ctx.batch:,}: more than a float32 tensor can hold (torch "
                "counts a tensor's bytes in a 64-bit int, at most 2**63 - 1)")

    def check_budget(self, projected: int, item: Item, owner: Any, stack: tuple[CallSite, ...],
                     repeat: tuple[int, int] | None = None) -> None:
        if projected <= self.limits.max_nodes:
            return
        detail = f" ({repeat[0]:,} copies of {repeat[1]:,} module{'s' if repeat[1] != 1 else ''})" if repeat else ""
        where = (*item.path, "repeat") if repeat else item.path
        lower = "the repeat count" if repeat else "the repeat counts or block fan-out"
        if stack and owner is not self.spec:  # inside a bundled block: the user sets its size by its arguments
            lower = f"the arguments of '{self.user_call(stack).block}' that set its size"
        raise self.fail(owner, where, stack, f"the network expands to more than {self.limits.max_nodes:,} "
                        f"modules{detail}", f"lower {lower}, or raise the limit with --max-nodes N "
                        "(max_nodes=N in Python)")


class _LibraryOwner:
    """Stands in for the spec that holds a bundled block, so its errors locate in the library file."""

    def __init__(self, source: Any):
        self.source = source


_LIBRARY_OWNERS: dict[str, _LibraryOwner] = {}


def _library_owner(block: Block) -> _LibraryOwner:
    source = builtin_sources()[block.name]
    return _LIBRARY_OWNERS.setdefault(source.file, _LibraryOwner(source))


def _input_context(x: Shape | Inputs) -> str:
    return "" if isinstance(x, Inputs) or not x else f" [input {format_shape(x)}]"


def _input_names(x: Shape | Inputs) -> dict[str, Any]:
    """``in.channels`` / ``in.spatial`` / ``in.dims`` of the shape reaching an item (the first, if several)."""
    first = x[0] if isinstance(x, Inputs) else x
    return {"in.channels": first[0], "in.spatial": list(first[1:]), "in.dims": len(first) - 1}


def _merge_labels(item: Item, x: Shape | Inputs) -> list[str] | None:
    """How merge errors name what is merged: the branches (with the id feeding each, if any), or the ids of
    ``from: [prev, e2]`` merged as they are."""
    sources = x.names if isinstance(x, Inputs) else ()
    if item.branches:
        return [f"branch {name}" + (f" on '{sources[index]}'" if index < len(sources) else "")
                for index, (name, _) in enumerate(item.branches)]
    return [f"'{source}'" for source in sources] or None


def _spec_items(spec: Spec) -> list[Item]:
    return [*spec.layers, *(item for block in spec.blocks.values() for item in block.layers)]


def _frozen(value: Any) -> Any:
    """A hashable stand-in for evaluated arguments (the estimate's memo key)."""
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(v)) for key, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _integral(value: Any) -> Any:
    """Expressions may compute whole numbers as floats (``${c / 2}``); keep them whole."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def _condition_fix(written: Any, value: Any) -> str:
    """How to make an ``if`` give true or false, for what its expression gave."""
    if isinstance(value, int | float):
        return f"compare the number, e.g. 'if: ${{{_body(written)} > 0}}' (a number is not true or false here)"
    if isinstance(value, list):
        return "compare a single number, e.g. 'if: ${min(in.spatial) >= 8}' (a list is not true or false here)"
    return "compare values with == != < <= > >=, and combine them with and/or/not"


def _count_fix(written: Any, value: Any) -> str:
    """How to make a ``repeat`` expression give a whole number >= 1, for what it gave."""
    if isinstance(value, float):
        whole = f"ceil({_body(written)})" if value > 0 else f"max(1, ceil({_body(written)}))"
        return f"make it whole, e.g. 'repeat: ${{{whole}}}' (or divide with // instead of /)"
    if isinstance(value, int) and not isinstance(value, bool):
        return (f"the expression gives {value}: keep at least one copy with 'repeat: ${{max(1, {_body(written)})}}', "
                "or leave the item out with 'if'")
    if isinstance(value, bool):
        return f"choose a count with 'a if condition else b', e.g. 'repeat: ${{2 if {_body(written)} else 1}}'"
    return "make it give a whole number of copies, e.g. 'repeat: 2'"


def _body(written: Any) -> str:
    """The expression text of ``$x`` / ``${...}``, to quote it inside a suggested fix."""
    text = str(written)
    if text.startswith("${") and text.endswith("}"):
        return text[2:-1].strip()
    return text[1:] if text.startswith("$") else text


def _valid_name(name: str) -> bool:
    """A module name: ASCII digits (a position), or a name by NAME_PATTERN, all of it (no trailing line break)."""
    return re.fullmatch(r"[0-9]+", name) is not None or re.fullmatch(NAME_PATTERN, name) is not None


__all__ = ["ExpandLimits", "Location", "expand"]
