"""What every primitive op declares, in one place: arguments, shape rule, counts, MACs, receptive field,
torch builder and worked examples. Op modules never import torch; the backend hands them ``torch.nn``.

Shapes here are *feature* shapes without the batch dimension: ``(C, *spatial)`` or ``(features,)``.
MACs are per sample; every counted op is linear in the batch (REFERENCE.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from archspec.errors import OpError

Shape = tuple[int, ...]

# The largest size a spec may write or an op may produce: torch takes sizes as 64-bit ints, but its kernels
# (cuDNN and oneDNN descriptors, CUDA kernels with 32-bit indexing) take them as C ints, so a size past this
# is a mistake or a runaway (a chain of upsamplings), never a network that runs everywhere.
MAX_SIZE = 2**31 - 1
DTYPE_BYTES = 4  # float32: what archspec compiles to and what its memory figures count
INDEX_BYTES = 8  # int64: a token input's elements (torch.randint's default, what nn.Embedding takes)

PositiveInt = Annotated[int, Field(ge=1, le=MAX_SIZE)]
NonNegativeInt = Annotated[int, Field(ge=0, le=MAX_SIZE)]
PerDim = PositiveInt | list[PositiveInt]
PerDimNonNegative = NonNegativeInt | list[NonNegativeInt]
Padding = NonNegativeInt | list[NonNegativeInt] | Literal["same", "valid"]


class OpArgs(BaseModel):
    """Base of every op's argument model: unknown keys are errors and nothing is coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class NoArgs(OpArgs):
    """For ops that take no arguments."""


@dataclass(frozen=True)
class WindowStep:
    """How one op moves the receptive field, per spatial dimension (REFERENCE.md §5)."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]  # left padding


@dataclass(frozen=True)
class PositionDependent:
    """The op's field differs between output positions (upsampling, transposed conv, uneven bins)."""

    reason: str


@dataclass(frozen=True)
class Global:
    """Every output depends on the whole input along every spatial dimension."""

    reason: str


def global_along(x: Shape, dims: tuple[int, ...], reason: str) -> WindowStep | Global:
    """The step of an op whose every output reads the whole input along spatial ``dims`` (0-based) and is
    pointwise along the others: a window as long as the input with stride 0, so each output's span along
    those dims is the same, whole one (jump 0). Along every dim at once it is simply :class:`Global`.

    >>> global_along((4, 6, 9), (1,), "linear")
    WindowStep(kernel=(1, 9), stride=(1, 0), padding=(0, 0))
    """
    spatial = x[1:]
    if set(dims) >= set(range(len(spatial))):
        return Global(reason)
    return WindowStep(
        tuple(length if d in dims else 1 for d, length in enumerate(spatial)),
        tuple(0 if d in dims else 1 for d in range(len(spatial))),
        (0,) * len(spatial),
    )


class Tokens(tuple):  # type: ignore[type-arg]
    """The shape ``(L,)`` of a sequence of integer token indices in ``[0, vocab)`` (int64): a spec's
    ``input: {tokens: L, vocab: V}``. It equals the plain shape ``(L,)`` (it is one), and carries ``vocab`` so that
    ``embedding`` knows its table and every measurer draws ``torch.randint(0, vocab, ...)``. Only an op that
    declares ``takes_tokens`` accepts it; every other op and merge refuses it (a float op on indices is a
    mistake), so a ``Tokens`` shape never travels past the embedding."""

    vocab: int

    def __new__(cls, length: int, vocab: int) -> Tokens:
        shape = super().__new__(cls, (length,))
        shape.vocab = vocab
        return shape

    def __getnewargs__(self) -> tuple[int, int]:  # type: ignore[override]
        return (self[0], self.vocab)

    def __repr__(self) -> str:
        return f"Tokens({self[0]}, vocab={self.vocab})"


def refuse_tokens(what: str, x: object) -> None:
    """Raise the located error for a token input reaching ``what`` (an op or a merge that takes float tensors)."""
    if isinstance(x, Tokens):
        raise OpError(
            f"{what} takes a float tensor, but its input is {x[0]} integer token indices (the spec's "
            f"input: {{tokens: {x[0]}, vocab: {x.vocab}}})",
            "look the tokens up with 'embedding: {dim: D}' first: it turns [L] indices into [L, D] vectors",
        )


def accepted(op: Op, x: Shape) -> Shape:
    """``x``, once it is known that ``op`` takes it: token indices only where the op declares ``takes_tokens``."""
    if not op.takes_tokens:
        refuse_tokens(f"'{op.name}'", x)
    return x


@dataclass(frozen=True)
class Rearrange:
    """How a layout op (permute, reshape, select, slice, ...) moves the input's feature dims, for the receptive
    field: output feature dim k *is* input feature dim ``source[k]`` (0-based over the feature shape: 0 is the
    channels), read at input positions ``start[k] + i * step[k]``; ``source[k]`` is None where output dim k is
    not one input dim (several merged, one split, a new dim of size 1). An input dim that no output dim is comes
    from a merge, a split or a ``select``: a spatial dim there loses its field ("not tracked")."""

    source: tuple[int | None, ...]
    start: tuple[int, ...]
    step: tuple[int, ...]

    @classmethod
    def moved(cls, source: tuple[int | None, ...]) -> Rearrange:
        """Dims moved (or merged, split) as they are: every position kept, none skipped."""
        return cls(source, (0,) * len(source), (1,) * len(source))


# None: pointwise, the field is unchanged
RFStep = WindowStep | PositionDependent | Global | Rearrange | None


@dataclass(frozen=True)
class LearnedTensor:
    """The one learnable tensor of a *parameter item* (an op that holds a tensor rather than a module: ViT's
    class token and positional embedding, ConvNeXt's layer scale). The backend registers it as an
    ``nn.Parameter`` on the enclosing module under the item's name (``class_token``, ``encoder.pos_embedding``,
    ``features.1.0.layer_scale``: torchvision's state-dict keys) and that module's data flow applies it at the
    item's place; no submodule is built.

    ``init`` as torchvision writes it: ``zeros``; ``normal`` (``torch.empty(shape).normal_(std=value)``);
    ``fill`` (``torch.ones(shape) * value``). ``apply``: ``prepend`` (concatenated before the input along dim
    1, expanded over the batch: ``torch.cat([t.expand(n, -1, -1), x], dim=1)``), ``add`` (``x + t``) or
    ``scale`` (``t * x``)."""

    shape: tuple[int, ...]  # the parameter's shape, batch dim included where torchvision has one
    init: Literal["zeros", "normal", "fill"]
    value: float  # the std of "normal", the value of "fill" (unused by "zeros")
    apply: Literal["prepend", "add", "scale"]


@dataclass(frozen=True)
class Example:
    """A worked case checked statically and against the real torch module by the contract tests."""

    args: dict[str, Any]
    input: Shape
    note: str = ""


@dataclass(frozen=True)
class Context:
    """Analysis settings an op may need to decide validity."""

    batch: int = 1
    train: bool = False


class Op:
    """A primitive op. Subclasses set ``name``, ``Args`` and ``examples`` and override the rules they need."""

    name: ClassVar[str]
    Args: ClassVar[type[OpArgs]] = NoArgs
    examples: ClassVar[list[Example]] = []
    min_dims: ClassVar[int] = 1  # the least number of feature dimensions (C counts) it accepts
    max_dims: ClassVar[int] = 4
    # Its output is a new tensor that its own backward pass does not read, so the next op may overwrite it
    # in place (conv, linear, batchnorm, pooling). Views, pass-throughs and ops whose gradient is computed
    # from their result (activations, softmax) are not.
    fresh_output: ClassVar[bool] = False
    # A parameter item: it builds no module but holds one tensor (learned_tensor), registered on the
    # enclosing module under the item's name. The report lists it as a row whose path is a parameter's
    # (``model.get_parameter(path)``), with ``parameter: true``.
    holds_tensor: ClassVar[bool] = False
    # It takes integer token indices (a ``Tokens`` shape) and only those (``embedding``); every other op refuses
    # them before its shape rule runs.
    takes_tokens: ClassVar[bool] = False

    def pointwise_along_channels(self, args: Any, x: Shape) -> bool:
        """Whether each output reads only its own index along feature dim 0 (the channels): true for elementwise
        ops, false for ops that mix channels (conv). The receptive field asks where a spatial dim was moved
        there (``permute`` to channels last: ``[H, W, C]``); False by default, so an op that does not say loses
        that field ("not tracked") rather than report a wrong one."""
        return False

    def check_input(self, x: Shape) -> None:
        if not self.min_dims <= len(x) <= self.max_dims:
            wanted = _rank_text(self.min_dims, self.max_dims)
            raise OpError(f"'{self.name}' takes {wanted}, but its input has {len(x)}", _rank_fix(self.min_dims))

    def output_shape(self, args: Any, x: Shape, ctx: Context) -> Shape:
        return x

    def parameters(self, args: Any, x: Shape, y: Shape) -> int:
        return 0

    def buffers(self, args: Any, x: Shape, y: Shape) -> int:
        return 0

    def macs(self, args: Any, x: Shape, y: Shape) -> int:
        """Multiply-accumulates for one sample, as FlopCounterMode / 2 counts them."""
        return 0

    def receptive_field(self, args: Any, x: Shape, y: Shape) -> RFStep:
        return None

    def warnings(self, args: Any, x: Shape, y: Shape) -> list[tuple[str, str]]:
        """``(what, fix)`` for each way this valid use probably is not what was meant (a report warning,
        located at the item); none by default."""
        return []

    def learned_tensor(self, args: Any, x: Shape) -> LearnedTensor:
        """The tensor a parameter item (``holds_tensor``) holds for input ``x``."""
        raise NotImplementedError(f"op {self.name} holds no tensor")

    def build(self, nn: Any, args: Any, x: Shape) -> Any:
        raise NotImplementedError(f"op {self.name} has no torch builder")

    def build_in_place(self, nn: Any, args: Any, x: Shape) -> Any | None:
        """The same module computing in place (``ReLU(inplace=True)``), or None if the op has no such form.

        The backend asks only where the input is a fresh tensor that nothing else reads, as torchvision
        places its in-place ReLUs; the result is the same, one tensor fewer is allocated."""
        return None

    @classmethod
    def describe(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""


def format_shape(shape: Shape) -> str:
    return "×".join(str(s) for s in shape) if shape else "scalar"


def input_bytes(shape: Shape, batch: int = 1) -> int:
    """Bytes of a network input of feature shape ``shape``: int64 token indices or float32 values."""
    return prod(shape) * batch * (INDEX_BYTES if isinstance(shape, Tokens) else DTYPE_BYTES)


def spatial_rank(x: Shape) -> int:
    return len(x) - 1


def per_dim(value: int | list[int], dims: int, argument: str) -> tuple[int, ...]:
    """Expand an int or a per-dimension list to one value per spatial dimension.

    >>> per_dim(3, 2, "kernel")
    (3, 3)
    >>> per_dim([1, 2, 3], 3, "stride")
    (1, 2, 3)
    """
    if isinstance(value, int):
        return (value,) * dims
    if len(value) != dims:
        raise OpError(
            f"'{argument}' has {len(value)} values but the input has {dims} spatial dimension(s)",
            f"give one value (e.g. {argument}: {value[0] if value else 1}) or a list of {dims}",
            argument,
        )
    return tuple(value)


def require_spatial(op: str, x: Shape, least: int = 1) -> int:
    dims = spatial_rank(x)
    if dims < least:
        raise OpError(
            f"'{op}' needs an input with spatial dimensions, but its input has none",
            "put it before flatten/linear, or give the spec's input as [C, H, W]",
        )
    if dims > 3:
        raise OpError(
            f"'{op}' supports 1 to 3 spatial dimensions, its input has {dims}",
            "give the spec's input as [C, L], [C, H, W] or [C, D, H, W]",
        )
    return dims


def check_positive_output(op: str, x: Shape, y: Shape, detail: str, fix: str) -> None:
    """Reject an output size < 1; ``fix`` names the padding or input size that works (see :func:`size_fix`)."""
    if any(size < 1 for size in y[1:]):
        raise OpError(f"output size would be {format_shape(y[1:])}, less than 1 ({detail})", fix)


def per_dim_text(values: tuple[int, ...] | list[int], sizes: bool = False) -> str:
    """One number when every dimension agrees, else a list (or ``a×b`` for sizes).

    >>> per_dim_text((3, 3)), per_dim_text((1, 2)), per_dim_text((11, 7), sizes=True)
    ('3', '[1, 2]', '11×7')
    """
    if sizes:
        return "×".join(str(v) for v in values)
    return str(values[0]) if len(set(values)) == 1 else f"[{', '.join(str(v) for v in values)}]"


def size_fix(padding: list[int] | None, min_input: tuple[int, ...], padding_word: str = ">=") -> str:
    """The fix for an output size < 1: the padding that works (None: no padding does) or the input size.

    >>> size_fix([2, 2], (11, 11))
    "use padding >= 2, or make this layer's input at least 11×11"
    >>> size_fix(None, (4,))
    "make this layer's input at least 4 (padding cannot make up for it)"
    """
    smallest = per_dim_text(tuple(max(1, size) for size in min_input), sizes=True)
    if padding is None:
        return f"make this layer's input at least {smallest} (padding cannot make up for it)"
    return f"use padding {padding_word} {per_dim_text(padding)}, or make this layer's input at least {smallest}"


def _rank_text(low: int, high: int) -> str:
    if low == high:
        return f"inputs with {low} feature dimension(s)"
    return f"inputs with {low} to {high} feature dimensions"


def _rank_fix(low: int) -> str:
    return "add spatial dimensions to the input or move the layer before flatten" if low > 1 else "check the input"
