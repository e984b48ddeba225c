"""Where an expansion error points and how it is worded: at the user's own file even when the fault is inside
a bundled block, naming the chain of block uses, the overrides (``--set``) a faulty value derives from, and a
fix written for the value the expression actually gave."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from archspec.blocks.library import builtin_sources
from archspec.errors import Diagnostic, OpError, SpecPath
from archspec.ir.frame import CallSite, Frame
from archspec.ir.use_chain import use_chain
from archspec.ops.base import Shape, format_shape
from archspec.spec.expressions import referenced_names
from archspec.spec.model import Block, Item, Spec
from archspec.user_text import shortened

T = TypeVar("T")


class Abort(Exception):
    """Stops a chain whose shapes can no longer be known; carries every diagnostic found so far."""

    def __init__(self, *diagnostics: Diagnostic):
        self.diagnostics = list(diagnostics)


UNTRACED = object()  # Locator.fail(): the error is not about one value of the spec


class Locator:
    """Turns faults found while expanding ``spec`` into located diagnostics (``blocks``: the blocks in scope)."""

    def __init__(self, spec: Spec, blocks: Mapping[str, Block]):
        self.spec = spec
        self.blocks = blocks

    def fail(
        self,
        frame: Frame,
        path: SpecPath,
        message: str,
        fix: str | None = None,
        key: bool = False,
        context: bool = True,
        culprit: Any = UNTRACED,
        reads_input: bool = False,
    ) -> Abort:
        """Locate an error; inside a bundled block, point at the user's call and name the inner item.

        ``culprit`` is the raw (unevaluated) value at fault, read at the level of ``frame.stack``: where it
        derives from overridden params, the message says so. Where the fault is not traced to a value, or also
        depends on the input's shape (``reads_input``; shapes are not traced), the message names every override
        in effect."""
        stack = frame.stack
        message += self.override_note(culprit, stack, reads_input)
        if stack and frame.owner is not self.spec:
            # A bundled block's file is not the user's: point at the innermost call in the user's file.
            outer = self.user_call(stack)
            return Abort(
                Diagnostic(
                    f"in {self.chain(stack, path)}: {message}",
                    outer.item.op_path,
                    outer.source.locate(outer.item.op_path),
                    fix,
                )
            )
        if stack and context:
            message = f"in {self.chain(stack, path)}: {message}"
        return Abort(Diagnostic(message, path, frame.owner.source.locate(path, key), fix))

    def guard(
        self, rule: Callable[[], T], item: Item, raw: Mapping[str, Any], frame: Frame, x: Shape | None = None
    ) -> T:
        """Run a shape rule; an OpError becomes a located diagnostic (at the argument it names)."""
        try:
            return rule()
        except OpError as exc:
            named = bool(exc.argument) and exc.argument in raw
            where = (*item.op_path, exc.argument) if named else item.op_path
            context = f" [input {format_shape(x)}]" if x is not None else ""
            culprit = raw[exc.argument] if named else UNTRACED
            raise self.fail(frame, where, exc.message + context, exc.fix, culprit=culprit, reads_input=True) from None

    def chain(self, stack: tuple[CallSite, ...], path: SpecPath) -> str:
        """The uses of blocks that lead from the top-level item to ``path`` (see archspec.ir.use_chain)."""
        inner = [*(site.item.path for site in stack[1:]), path]
        return use_chain(
            stack[0].item.path,
            [(site.block, self.blocks[site.block].path, position) for site, position in zip(stack, inner, strict=True)],
        )

    def user_call(self, stack: tuple[CallSite, ...]) -> CallSite:
        """The innermost block call written in the user's own file (errors inside bundled blocks point there)."""
        return next((site for site in reversed(stack) if site.source is self.spec.source), stack[0])

    def override_note(self, culprit: Any, stack: tuple[CallSite, ...], reads_input: bool) -> str:
        """`` (num_classes = 0 from --set)`` for the overrides ``culprit`` derives from; else, for a fault that
        no value explains, `` (with ... from --set)`` naming every override; empty without overrides."""
        overrides = self.spec.overrides
        if not overrides:
            return ""
        traced = set() if culprit is UNTRACED else self.override_sources(culprit, stack)
        if not traced and culprit is not UNTRACED and not reads_input:
            return ""  # the value alone is at fault, and no override made it
        named = [key for key in overrides if key in traced] or list(overrides)
        import json  # deliberately lazy: only this message needs it, and 'archspec check' must not pay for it

        values = ", ".join(f"{key} = {shortened(json.dumps(overrides[key], default=str))}" for key in named)
        return f" ({'' if traced else 'with '}{values} from {self.spec.override_origin})"

    def override_sources(self, value: Any, stack: tuple[CallSite, ...], seen: frozenset[Any] = frozenset()) -> set[str]:
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
            given = [
                args[name]
                for args in (site.item.args, site.item.first or {})
                if isinstance(args, dict) and name in args
            ]
            return (
                self.override_sources(given, stack[:-1], seen)
                if given
                else self.override_sources(block.params[name], stack, seen)
            )
        if block is not None and block is self.spec.blocks.get(block.name):
            return self.name_sources(name, stack[:-1], seen)
        return set()


class LibraryOwner:
    """Stands in for the spec that holds a bundled block, so its errors locate in the library file."""

    def __init__(self, source: Any):
        self.source = source


_LIBRARY_OWNERS: dict[str, LibraryOwner] = {}


def library_owner(block: Block) -> LibraryOwner:
    source = builtin_sources()[block.name]
    return _LIBRARY_OWNERS.setdefault(source.file, LibraryOwner(source))


def condition_fix(written: Any, value: Any) -> str:
    """How to make an ``if`` give true or false, for what its expression gave."""
    if isinstance(value, int | float):
        body = expression_body(written)
        return f"compare the number, e.g. 'if: ${{{body} > 0}}' (a number is not true or false here)"
    if isinstance(value, list):
        return "compare a single number, e.g. 'if: ${min(in.spatial) >= 8}' (a list is not true or false here)"
    return "compare values with == != < <= > >=, and combine them with and/or/not"


def count_fix(written: Any, value: Any) -> str:
    """How to make a ``repeat`` expression give a whole number >= 1, for what it gave."""
    body = expression_body(written)
    if isinstance(value, float):
        whole = f"ceil({body})" if value > 0 else f"max(1, ceil({body}))"
        return f"make it whole, e.g. 'repeat: ${{{whole}}}' (or divide with // instead of /)"
    if isinstance(value, int) and not isinstance(value, bool):
        return (
            f"the expression gives {value}: keep at least one copy with 'repeat: ${{max(1, {body})}}', "
            "or leave the item out with 'if'"
        )
    if isinstance(value, bool):
        return f"choose a count with 'a if condition else b', e.g. 'repeat: ${{2 if {body} else 1}}'"
    return "make it give a whole number of copies, e.g. 'repeat: 2'"


def expression_body(written: Any) -> str:
    """The expression text of ``$x`` / ``${...}``, to quote it inside a suggested fix."""
    text = str(written)
    if text.startswith("${") and text.endswith("}"):
        return text[2:-1].strip()
    return text[1:] if text.startswith("$") else text
