"""Expansion of the items that own other items: containers (with their branches), and block calls. A mixin of
:class:`archspec.ir.expand._Expander`, which walks the layer lists and makes the nodes; split off to keep each
part of the walk readable (and under 400 lines)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from archspec.errors import did_you_mean
from archspec.ir.budget import estimate_key
from archspec.ir.frame import CallSite, Frame
from archspec.ir.graph import MAIN_OUTPUT, Node
from archspec.ir.head_inputs import smallest_accepted
from archspec.ir.locating import Abort, library_owner
from archspec.ir.module_names import ModuleNames
from archspec.ir.routing import input_names, merge_labels
from archspec.ops.base import Shape, refuse_tokens
from archspec.ops.containers import CONTAINERS, SEQUENTIAL, Inputs
from archspec.spec.model import REQUIRED, Block, Item, is_choice
from archspec.user_text import describe_value, listed, quoted

if TYPE_CHECKING:
    from archspec.ir.expand import _Expander

    Base = _Expander
else:
    Base = object

Scope = dict[str, Any]


class ContainerExpansion(Base):
    """Containers, branches and block calls; the walk's other methods come from :class:`_Expander`."""

    def container(
        self,
        item: Item,
        raw: dict[str, Any],
        x: Shape | Inputs,
        frame: Frame,
        name: str,
        path: str,
        inline_into: ModuleNames | None = None,
    ) -> Node:
        container = CONTAINERS[item.op]
        args = self.validate_args(container.Args, raw, item, frame, use_first=raw is not item.args)
        if isinstance(x, Inputs) and not container.merges:
            raise self.fail(
                frame,
                (*item.path, "from"),
                f"{quoted(item.op)} takes one input, {len(x)} arrive through 'from'",
                "merge them first with concat, add or multiply",
            )
        trains_only = container.runs_only_in_training(args)
        inner = frame.child(
            in_head=frame.in_head or container.produces_side_output, train_only=frame.train_only or trains_only
        )
        # In eval mode a train-only head never runs, so its input may be one it cannot take (see head_inputs).
        never_runs = not self.ctx.train and not frame.train_only and trains_only
        built_for = None
        before = self.budget.count
        try:
            children = self.container_children(container, item, raw, x, inner, path, inline_into)
        except Abort as abort:
            if not never_runs or isinstance(x, Inputs):
                raise
            built_for, children = self.built_for_training(
                lambda shape: self.container_children(container, item, raw, shape, inner, path, inline_into),
                x,
                before,
                abort,
            )
        outputs = [child.output for child in children]
        labels = merge_labels(item, x)

        def rule() -> Shape:
            if container.merges:  # integer tokens are looked up, never summed, multiplied or concatenated
                for merged in [*outputs, *(x if isinstance(x, Inputs) and item.branches is None else ())]:
                    refuse_tokens(f"'{item.op}'", merged)
            return container.output_shape(args, x, outputs, labels)

        y = self.guard(rule, item, raw, frame)
        if container.produces_side_output and path == MAIN_OUTPUT:
            raise self.fail(
                frame,
                (*item.path, "name") if item.name is not None else item.op_path,
                f"a {item.op} may not be named '{MAIN_OUTPUT}': that name is reserved for the network's "
                "main output (in the report and the forward dict)",
                f"rename it, e.g. 'name: aux_{MAIN_OUTPUT}'",
            )
        node = self.node(name, path, item.op, x, y, item, frame, container=container, args=args, children=children)
        node.side_output = container.side_output(args, x, outputs)
        if container.produces_side_output and len(children) == 1 and children[0].inline:
            node.module_class = children[0].module_class  # a head that is one inlined block takes its class
        node.in_head, node.train_only, node.built_for = inner.in_head, inner.train_only, built_for
        return node

    def container_children(
        self,
        container: Any,
        item: Item,
        raw: dict[str, Any],
        x: Shape | Inputs,
        frame: Frame,
        path: str,
        inline_into: ModuleNames | None,
    ) -> list[Node]:
        """The children of the container at ``path``; inlined, they join ``inline_into``."""
        if item.branches is None:
            names = inline_into or ModuleNames(path, by_op=False)
            return self.sequence(item.children or [], x, frame.child(names=names))
        inputs = self.guard(lambda: container.branch_inputs(x, len(item.branches)), item, raw, frame)
        children, failures = [], []
        for (branch_name, items), branch_x in zip(item.branches, inputs, strict=False):
            try:  # branches are independent: report the problems of every one
                children.append(
                    self.branch(branch_name, items, branch_x, frame, f"{path}.{branch_name}", item, inline_into)
                )
            except Abort as abort:
                failures += abort.diagnostics
        if failures:
            raise Abort(*failures)
        return children

    def built_for_training(
        self, expand_at: Callable[[Shape], list[Node]], x: Shape, before: int, abort: Abort
    ) -> tuple[Shape, list[Node]]:
        """The children of a train-only head that cannot run at input ``x``, built for the smallest input it
        accepts (``expand_at`` expands them for a given input); the head's own error if it accepts none."""

        def accepts(shape: Shape) -> bool:
            self.budget.count = before  # a rejected probe's modules are not the network's
            try:
                expand_at(shape)
            except Abort:
                return False
            return True

        shape = smallest_accepted(accepts, x)
        self.budget.count = before
        if shape is None:
            raise abort
        return shape, expand_at(shape)

    def branch(
        self,
        name: str,
        items: list[Item],
        x: Shape,
        frame: Frame,
        path: str,
        parent: Item,
        inline_into: ModuleNames | None,
    ) -> Node:
        """A merge's branch; the branches of an inlined merge are inlined too (their items join its module)."""
        if inline_into is not None:
            name, path = inline_into.stand_in()
        self.budget.check_nesting(path, parent, frame)
        children = self.sequence(items, x, frame.child(names=inline_into or ModuleNames(path, by_op=False)))
        node = self.node(
            name,
            path,
            "branch",
            x,
            SEQUENTIAL.output_shape(None, x, [c.output for c in children]),
            parent,
            frame,
            container=SEQUENTIAL,
            children=children,
        )
        node.inline = inline_into is not None
        return node

    def refuse_choice(
        self, item: Item, block: Block, key: str, value: Any, raw: dict[str, Any], frame: Frame, inner: Frame
    ) -> None:
        """A block parameter with ``choices`` got another value: located at the argument (or, for a default
        computed by an expression, at the block's parameter)."""
        allowed = block.choices[key]
        hint = did_you_mean(value, map(str, allowed)) if isinstance(value, str) else None
        message = f"block '{block.name}': {key} must be one of {listed(map(str, allowed))}, got {describe_value(value)}"
        fix = hint or f"use one of {listed(map(str, allowed))}"
        if key in raw:
            raise self.fail(frame, (*item.op_path, key), message, fix, culprit=raw[key])
        raise self.fail(inner, (*block.path, "params", key), message, fix, culprit=block.params[key])

    def block(
        self,
        item: Item,
        block: Block,
        raw: dict[str, Any],
        x: Shape,
        frame: Frame,
        name: str,
        path: str,
        inline_into: ModuleNames | None = None,
    ) -> Node:
        stack = frame.stack
        if len(stack) >= self.limits.max_block_depth:
            recursive = any(site.block == block.name for site in stack)
            what = f"block '{block.name}' calls itself" if recursive else "blocks call blocks"
            raise self.fail(
                frame,
                item.op_path,
                f"{what} more than {self.limits.max_block_depth} levels deep",
                "stop the recursion with an 'if' on a parameter that shrinks",
                context=False,
            )
        values = self.evaluate_args(raw, frame, item.op_path)
        for key in values:
            if key not in block.params:
                raise self.fail(
                    frame,
                    (*item.op_path, key),
                    f"block '{block.name}' has no parameter {quoted(key)}",
                    did_you_mean(key, block.params) or f"its parameters: {listed(block.params) or 'none'}",
                    key=True,
                )
        own = block is self.spec.blocks.get(block.name)
        block_owner = self.spec if own else library_owner(block)
        # A user's block also sees the spec's params; a bundled block only its own parameters.
        scope: Scope = {k: v for k, v in frame.scope.items() if not k.startswith("in.")} if own else {}
        scope.update(input_names(x))
        inner = frame.child(
            owner=block_owner,
            scope=scope,
            names=inline_into or ModuleNames(path, by_op=True),
            stack=(*stack, CallSite(block.name, item, frame.owner.source)),
        )
        for key, default in block.params.items():
            if key in values:
                scope[key] = values[key]
            elif default == REQUIRED:
                raise self.fail(
                    frame,
                    item.op_path,
                    f"block '{block.name}' needs the argument '{key}'",
                    f"add '{key}: ...' to its arguments",
                )
            else:
                scope[key] = self.evaluate(default, inner, (*block.path, "params", key))
            if key in block.choices and not is_choice(scope[key], block.choices[key]):
                self.refuse_choice(item, block, key, scope[key], raw, frame, inner)
        budget = self.budget
        memo = estimate_key(block.name, own, values, x, frame) if budget.estimating and inline_into is None else None
        if memo in budget.estimates:
            counted, output = budget.estimates[memo]
            budget.count += counted - 1
            budget.shortcuts += 1
            return self.node(
                name, path, block.name, x, output, item, frame, container=SEQUENTIAL, module_class=block.module_class
            )
        before = budget.count
        children = self.sequence(block.layers, x, inner)
        if memo is not None:
            budget.estimates[memo] = (budget.count - before + 1, children[-1].output if children else x)
        return self.node(
            name,
            path,
            block.name,
            x,
            SEQUENTIAL.output_shape(None, x, [c.output for c in children]),
            item,
            frame,
            container=SEQUENTIAL,
            children=children,
            module_class=block.module_class,
        )
