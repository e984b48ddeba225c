"""The limits expansion enforces as it goes (modules in all, nesting depth, sizes and tensor bytes torch can
describe), and the cheap count that rejects a runaway spec before it is built."""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any

from archspec.ir.frame import Frame
from archspec.ir.locating import Locator
from archspec.limits import DEFAULT_MAX_NODES
from archspec.ops.base import DTYPE_BYTES, MAX_SIZE, Context, Shape, format_shape
from archspec.ops.containers import Inputs
from archspec.spec.model import Item

# Torch runs nested modules by recursion: each level of nesting costs about 5 Python frames in a forward
# pass with hooks and FlopCounterMode (``build --verify``), so under Python's default limit of 1,000 frames
# a fresh process verifies 183 levels and fails at 225 (torch 2.14, Python 3.11). 64 levels leave room for a
# caller's own frames (pytest, notebooks) and for archspec's passes (expansion takes ~4 frames a level); the
# bundled specs nest at most 7.
MAX_NESTING = 64
# A float32 tensor whose byte size passes 2**63 - 1 cannot even be described: torch keeps storage sizes in
# int64 bytes ("Storage size calculation overflowed").
MAX_TENSOR_BYTES = 2**63 - 1
# Expansions past this many modules are first counted by a memoised estimate, so that a runaway spec is
# rejected in milliseconds instead of after building a million nodes.
SOFT_LIMIT = 5_000


@dataclass(frozen=True)
class ExpandLimits:
    """Caps that make runaway specs fail fast with a clear message."""

    max_nodes: int = DEFAULT_MAX_NODES
    max_block_depth: int = 32
    max_nesting: int = MAX_NESTING  # modules inside modules, from the network down to a leaf


class OverSoftLimit(Exception):
    """A large network: count it (cheaply) before building it."""


class Budget:
    """Counts the modules expansion adds and refuses what passes a limit, located by ``locator``.

    While ``estimating``, modules are counted without being kept: a block with the same arguments and input is
    counted once (``estimates``), and a repeat is extrapolated once its copies reach a fixed point;
    ``shortcuts`` counts what was counted without being built."""

    def __init__(
        self,
        limits: ExpandLimits,
        ctx: Context,
        locator: Locator,
        soft_limit: int | None = None,
        estimating: bool = False,
    ):
        self.limits = limits
        self.ctx = ctx
        self.locator = locator
        self.soft_limit = soft_limit
        self.estimating = estimating
        self.estimates: dict[Any, tuple[int, Shape]] = {}
        self.shortcuts = 0
        self.count = 0

    def add(self, added: int, item: Item, frame: Frame) -> None:
        self.count += added
        self.check(self.count, item, frame)
        if self.soft_limit is not None and self.count > self.soft_limit:
            raise OverSoftLimit

    def check(self, projected: int, item: Item, frame: Frame, repeat: tuple[int, int] | None = None) -> None:
        """Refuse a network that would have more than ``limits.max_nodes`` modules (``repeat``: the copies and
        the modules per copy of the repeat whose projection passes it)."""
        if projected <= self.limits.max_nodes:
            return
        detail = f" ({repeat[0]:,} copies of {repeat[1]:,} module{'s' if repeat[1] != 1 else ''})" if repeat else ""
        where = (*item.path, "repeat") if repeat else item.path
        lower = "the repeat count" if repeat else "the repeat counts or block fan-out"
        if frame.stack and frame.owner is not self.locator.spec:  # a bundled block's size is set by its arguments
            lower = f"the arguments of '{self.locator.user_call(frame.stack).block}' that set its size"
        raise self.locator.fail(
            frame,
            where,
            f"the network expands to more than {self.limits.max_nodes:,} modules{detail}",
            f"lower {lower}, or raise the limit with --max-nodes N (max_nodes=N in Python)",
        )

    def check_nesting(self, path: str, item: Item, frame: Frame) -> None:
        """Refuse to nest modules deeper than torch can run them (see :data:`MAX_NESTING`)."""
        limit = self.limits.max_nesting
        if path.count(".") < limit:  # a module at depth d has d - 1 dots in its path
            return
        stack = frame.stack
        calls = sum(1 for site in stack if site.block == stack[-1].block) if stack else 0
        recursion = f"; block '{stack[-1].block}' is {calls} calls deep here" if calls > 1 else ""
        raise self.locator.fail(
            frame,
            item.op_path,
            f"modules nest more than {limit} levels deep here "
            f"(each sequential, branch, repeat and block adds one{recursion}); torch runs nested "
            "modules by recursion and deeper nesting cannot be compiled and run reliably",
            "nest fewer containers and blocks, or end the block recursion sooner with an 'if' "
            "on a parameter that shrinks",
            context=False,
        )

    def check_size(self, x: Shape | Inputs, y: Shape, path: str, item: Item, frame: Frame) -> None:
        """Every size stays a size torch can run, and every tensor one it can describe (see the constants)."""
        largest = max(y, default=1)
        fail = self.locator.fail
        if largest > MAX_SIZE:
            raise fail(
                frame,
                item.op_path,
                f"module '{path}' would output {format_shape(y)}{_input_context(x)}, a "
                f"size of {largest:,}: more than {MAX_SIZE:,} (2**31 - 1), the largest size a spec may give or "
                "produce, as torch's kernels index sizes with 32-bit ints",
                "make this layer's output smaller: fewer channels, a smaller scale or size, or a smaller input",
            )
        too_many = self.too_many_values(y)
        if too_many:
            raise fail(
                frame,
                item.op_path,
                f"module '{path}' would output {format_shape(y)}{_input_context(x)}, {too_many}",
                "make this layer's output smaller (fewer channels or smaller sizes), or lower the batch",
            )

    def too_many_values(self, shape: Shape) -> str | None:
        """What is wrong with a float32 tensor of ``shape`` at the batch in hand that torch cannot describe, or
        None: torch counts a tensor's bytes in a 64-bit int."""
        elements = self.ctx.batch * prod(shape)
        if elements * DTYPE_BYTES <= MAX_TENSOR_BYTES:
            return None
        return (
            f"{elements:.3e} values at batch {self.ctx.batch:,}: more than a float32 tensor can hold (torch "
            "counts a tensor's bytes in a 64-bit int, at most 2**63 - 1)"
        )


def estimate_key(block: str, own: bool, values: dict[str, Any], x: Shape, frame: Frame) -> Any:
    """What makes two uses of a block count the same modules (the estimate's memo key)."""
    # A token input equals the float shape of its length: its vocabulary tells them apart.
    return (block, own, _frozen(values), x, getattr(x, "vocab", None), frame.in_head, frame.train_only)


def _frozen(value: Any) -> Any:
    """A hashable stand-in for evaluated arguments."""
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(v)) for key, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _input_context(x: Shape | Inputs) -> str:
    return "" if isinstance(x, Inputs) or not x else f" [input {format_shape(x)}]"
