"""Pointwise activations and ``softmax``: shape-preserving, parameter-free, no MACs (REFERENCE.md §3)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from archspec.errors import OpError
from archspec.ops.base import Context, Example, NoArgs, Op, OpArgs, RFStep, Shape, global_along
from archspec.ops.registry import register

_EVERY_RANK = [Example({}, (5,)), Example({}, (3, 7)), Example({}, (2, 4, 4)), Example({}, (2, 3, 3, 3))]


class Pointwise(Op):
    """Shared shape of the elementwise activations: ``torch_class`` built with the op's arguments."""

    torch_class: ClassVar[str]
    examples = _EVERY_RANK
    # torch's in-place form computes its gradient from the result alone (relu_, hardtanh_, leaky_relu_ with
    # slope >= 0), so overwriting the input is safe in training too.
    has_in_place_form: ClassVar[bool] = False

    def build(self, nn: Any, args: Any, x: Shape) -> Any:
        return getattr(nn, self.torch_class)(**self.torch_kwargs(args))

    def build_in_place(self, nn: Any, args: Any, x: Shape) -> Any | None:
        if not self.has_in_place_form:
            return None
        return getattr(nn, self.torch_class)(**self.torch_kwargs(args), inplace=True)

    def torch_kwargs(self, args: Any) -> dict[str, Any]:
        return args.model_dump()

    def pointwise_along_channels(self, args: Any, x: Shape) -> bool:
        return True  # elementwise: a spatial dim moved to dim 1 (channels last) keeps its field


@register
class ReLU(Pointwise):
    """max(0, x) (torch.nn.ReLU)."""

    name, torch_class = "relu", "ReLU"
    has_in_place_form = True


@register
class ReLU6(Pointwise):
    """min(max(0, x), 6) (torch.nn.ReLU6; MobileNet)."""

    name, torch_class = "relu6", "ReLU6"
    has_in_place_form = True


class LeakyReLUArgs(OpArgs):
    slope: Annotated[float, Field(ge=0)] = 0.01


@register
class LeakyReLU(Pointwise):
    """x for x > 0, slope·x otherwise (torch.nn.LeakyReLU)."""

    name, torch_class, Args = "leaky_relu", "LeakyReLU", LeakyReLUArgs
    has_in_place_form = True
    examples = [*_EVERY_RANK, Example({"slope": 0.2}, (3, 4, 4))]

    def torch_kwargs(self, args: LeakyReLUArgs) -> dict[str, Any]:
        return {"negative_slope": args.slope}


class ELUArgs(OpArgs):
    alpha: Annotated[float, Field(gt=0)] = 1.0


@register
class ELU(Pointwise):
    """Exponential linear unit (torch.nn.ELU)."""

    name, torch_class, Args = "elu", "ELU", ELUArgs


class GELUArgs(OpArgs):
    approximate: Literal["none", "tanh"] = "none"


@register
class GELU(Pointwise):
    """Gaussian error linear unit; ``approximate: tanh`` for the tanh form (torch.nn.GELU)."""

    name, torch_class, Args = "gelu", "GELU", GELUArgs
    examples = [*_EVERY_RANK, Example({"approximate": "tanh"}, (3, 4, 4))]


@register
class SiLU(Pointwise):
    """x·sigmoid(x), a.k.a. swish (torch.nn.SiLU)."""

    name, torch_class = "silu", "SiLU"


@register
class Sigmoid(Pointwise):
    """Logistic sigmoid (torch.nn.Sigmoid)."""

    name, torch_class = "sigmoid", "Sigmoid"


@register
class Tanh(Pointwise):
    """Hyperbolic tangent (torch.nn.Tanh; LeNet-5)."""

    name, torch_class = "tanh", "Tanh"


@register
class Hardswish(Pointwise):
    """x·relu6(x+3)/6 (torch.nn.Hardswish; MobileNet v3)."""

    name, torch_class = "hardswish", "Hardswish"


@register
class Hardsigmoid(Pointwise):
    """relu6(x+3)/6 (torch.nn.Hardsigmoid)."""

    name, torch_class = "hardsigmoid", "Hardsigmoid"


@register
class Mish(Pointwise):
    """x·tanh(softplus(x)) (torch.nn.Mish)."""

    name, torch_class = "mish", "Mish"


@register
class Identity(Pointwise):
    """Passes its input through unchanged (torch.nn.Identity)."""

    name, torch_class, Args = "identity", "Identity", NoArgs


class SoftmaxArgs(OpArgs):
    dim: int = 1


@register
class Softmax(Pointwise):
    """Softmax along ``dim`` (torch's numbering: 0 is the batch, 1 the channels; negative counts from the end)."""

    name, torch_class, Args = "softmax", "Softmax", SoftmaxArgs
    examples = [
        Example({}, (10,)),
        Example({"dim": -1}, (3, 7)),
        Example({"dim": 2}, (2, 4, 4)),
        Example({"dim": 1}, (2, 3, 3, 3)),
    ]

    def output_shape(self, args: SoftmaxArgs, x: Shape, ctx: Context) -> Shape:
        rank = len(x) + 1
        if not -rank <= args.dim < rank or args.dim in (0, -rank):
            raise OpError(
                f"dim {args.dim} is not a feature dimension of an input with {rank} dimensions (batch included)",
                f"use a dim from 1 to {rank - 1}, or -1 for the last",
                "dim",
            )
        return x

    def pointwise_along_channels(self, args: SoftmaxArgs, x: Shape) -> bool:
        return args.dim % (len(x) + 1) != 1  # along dim 1 every output reads all of it

    def receptive_field(self, args: SoftmaxArgs, x: Shape, y: Shape) -> RFStep:
        """Along channels softmax is pointwise in space; along a spatial dim every output sees that whole dim."""
        dim = args.dim % (len(x) + 1)
        if dim >= 2:
            return global_along(x, (dim - 2,), f"softmax along spatial dim {args.dim} reads the whole dimension")
        return None
