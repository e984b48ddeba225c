"""Random valid specs: every static number equals what the compiled module really does (DESIGN.md §5).

The strategies build spec dicts that are valid by construction: they track the shape flowing through the
layers with PyTorch's own formulas (``torch_geometry``, REFERENCE.md §1) and pick only arguments PyTorch
accepts for that shape. So a SpecError on a generated spec is a failure, not a filter. Covered: conv
(stride, padding as int / per-dim list / 'same' / 'valid', dilation, groups, bias, padding modes),
conv_transpose, max/avg pooling (ceil mode, padding <= k//2, dilation, count_include_pad, divisor_override),
adaptive and global pools, batchnorm, layernorm (last dims or channels), groupnorm, instancenorm,
stochastic_depth, lrn, activations, softmax, dropout, upsample, flatten (also partial), linear heads (also on
the last dim of a spatial tensor), self_attention on rank-2 tensors and window_attention on rank-3 ones; 1-D,
2-D and 3-D inputs; ``repeat`` with ``first``; ``sequential`` groups; ``concat`` / ``add`` / ``multiply``
branches (lists or named, empty = identity, channel broadcasting, strided); ``name``; user-defined blocks with
a required parameter, defaults, expressions (``${out * mult}``, ``${kernel // 2}``, ``${in.channels}``) and
``if``; global ``params``.

A second property appends one invalid-by-construction layer to a valid spec and asserts a located
SpecError pointing at that item — never another exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from torch_geometry import conv_out, extent, pool_out, transposed_out, upsampled
from truth import assert_static_equals_measured

import archspec

Shape = tuple[int, ...]

MAX_CHANNELS = 8
CAP = {1: 24, 2: 16, 3: 8}  # largest spatial size per dim the strategies let a layer produce
INPUT_RANGE = {1: (4, 24), 2: (3, 16), 3: (2, 8)}
MAX_KERNEL = {1: 5, 2: 5, 3: 3}
ACTIVATIONS = [
    "relu",
    "relu6",
    "gelu",
    "silu",
    "sigmoid",
    "tanh",
    "elu",
    "hardswish",
    "hardsigmoid",
    "mish",
    "identity",
]


def divisors(n: int) -> list[int]:
    return [g for g in range(1, n + 1) if n % g == 0]


@dataclass
class Builder:
    """Draws layers for the shape that flows in; ``shape`` is (C, *spatial) or (features,) after flatten."""

    draw: Any
    shape: Shape
    blocks: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    block_shape: Any = None  # shape function of the user block, when one is defined
    block_mult: int = 1
    names: int = 0

    # -- drawing helpers --------------------------------------------------------------------------------

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, max(lo, hi)))

    def flag(self) -> bool:
        return self.draw(st.booleans())

    def pick(self, options: list[Any]) -> Any:
        return self.draw(st.sampled_from(options))

    def compact(self, values: list[Any]) -> Any:
        """One value per spatial dim: an int when they agree (sometimes), else the list."""
        if len(set(values)) == 1 and self.flag():
            return values[0]
        return list(values)

    @property
    def dims(self) -> int:
        return len(self.shape) - 1

    @property
    def cap(self) -> int:
        return CAP[max(self.dims, 1)]

    def channels_out(self, channels_in: int) -> tuple[int, int]:
        """(groups, out) with groups dividing both."""
        groups = self.pick(divisors(channels_in)) if self.flag() else 1
        return groups, groups * self.integer(1, MAX_CHANNELS // groups)

    # -- spatial layers ---------------------------------------------------------------------------------

    def conv(self, x: Shape) -> tuple[dict, Shape]:
        dims, lengths = len(x) - 1, x[1:]
        groups, out = self.channels_out(x[0])
        mode = self.pick(["int", "int", "same", "valid"])
        shared = self.flag()
        geometry = []
        for length in [min(lengths)] * dims if shared else lengths:
            if geometry and shared:
                geometry.append(geometry[0])
                continue
            dilation = self.pick([1, 1, 2])
            max_padding = 0 if mode == "valid" else 3
            kernel = self.integer(1, min(MAX_KERNEL[dims], (length + 2 * max_padding - 1) // dilation + 1))
            if mode == "same":
                geometry.append((kernel, 1, 0, dilation))
                continue
            stride = self.integer(1, 3)
            lowest = max(0, -(-(extent(kernel, dilation) - length) // 2))
            fits = [
                p
                for p in range(lowest, max_padding + 1)
                if conv_out(max(lengths), kernel, stride, p, dilation) <= max(self.cap, max(lengths))
            ]
            geometry.append((kernel, stride, self.pick(fits or [lowest]), dilation))
        kernels, strides, paddings, dilations = (list(v) for v in zip(*geometry, strict=True))
        args: dict[str, Any] = {"out": out, "kernel": self.compact(kernels)}
        if mode == "same":
            args["padding"] = "same"
            sizes = list(lengths)
        else:
            if any(s != 1 for s in strides) or self.flag():
                args["stride"] = self.compact(strides)
            if mode == "valid":
                args["padding"] = "valid"
            elif any(paddings) or self.flag():
                args["padding"] = self.compact(paddings)
            sizes = [
                conv_out(n, k, s, p, d)
                for n, k, s, p, d in zip(lengths, kernels, strides, paddings, dilations, strict=True)
            ]
            if mode == "int" and any(paddings) and self.integer(0, 3) == 0:
                modes = ["replicate"]
                if all(p <= n for p, n in zip(paddings, lengths, strict=True)):
                    modes.append("circular")
                if all(p <= n - 1 for p, n in zip(paddings, lengths, strict=True)):
                    modes.append("reflect")
                args["padding_mode"] = self.pick(modes)
        if any(d != 1 for d in dilations) or self.flag():
            args["dilation"] = self.compact(dilations)
        if groups != 1 or self.flag():
            args["groups"] = groups
        if self.flag():
            args["bias"] = self.flag()
        return {"conv": args}, (out, *sizes)

    def conv_transpose(self, x: Shape) -> tuple[dict, Shape]:
        lengths = x[1:]
        groups, out = self.channels_out(x[0])
        kernels, strides, paddings, dilations, output_paddings, sizes = [], [], [], [], [], []
        for length in lengths:
            stride = self.integer(1, 3) if length * 2 <= self.cap else 1
            dilation = self.pick([1, 1, 2])
            kernel = self.integer(1, 4)
            output_padding = self.integer(0, max(stride, dilation) - 1)
            fits = [
                p
                for p in range(3)
                if 1 <= transposed_out(length, kernel, stride, p, dilation, output_padding) <= self.cap
            ]
            if not fits:
                stride, dilation, kernel, output_padding, fits = 1, 1, 1, 0, [0]
            padding = self.pick(fits)
            kernels.append(kernel)
            strides.append(stride)
            paddings.append(padding)
            dilations.append(dilation)
            output_paddings.append(output_padding)
            sizes.append(transposed_out(length, kernel, stride, padding, dilation, output_padding))
        args: dict[str, Any] = {"out": out, "kernel": self.compact(kernels), "stride": self.compact(strides)}
        for key, values in (("padding", paddings), ("dilation", dilations), ("output_padding", output_paddings)):
            if any(v != (1 if key == "dilation" else 0) for v in values) or self.flag():
                args[key] = self.compact(values)
        if groups != 1 or self.flag():
            args["groups"] = groups
        if self.flag():
            args["bias"] = self.flag()
        return {"conv_transpose": args}, (out, *sizes)

    def pool(self, x: Shape, kind: str) -> tuple[dict, Shape]:
        dims, lengths = len(x) - 1, x[1:]
        ceil_mode = self.flag()
        default_stride = self.flag()
        kernels, strides, paddings, dilations, sizes = [], [], [], [], []
        for length in lengths:
            # dilation 2 on a length-1 input would give windows of padding only (archspec refuses them:
            # tests/unit/test_maxpool_blind_windows.py)
            dilation = self.pick([1, 1, 2]) if kind == "maxpool" and length >= 2 else 1
            # the largest padding allowed is k//2; the padded input must hold one window
            options = [
                k
                for k in range(1, MAX_KERNEL[dims] + 1)
                if length + 2 * (k // 2) >= extent(k, dilation) and not (kind == "avgpool" and dims == 3 and k > length)
            ]  # AvgPool3d CPU quirk
            kernel = self.pick(options)
            lowest = max(0, -(-(extent(kernel, dilation) - length) // 2))
            padding = self.integer(lowest, kernel // 2)
            stride = kernel if default_stride else self.integer(1, 3)
            kernels.append(kernel)
            strides.append(stride)
            paddings.append(padding)
            dilations.append(dilation)
            sizes.append(pool_out(length, kernel, stride, padding, dilation, ceil_mode))
        args: dict[str, Any] = {"kernel": self.compact(kernels)}
        if not default_stride:
            args["stride"] = self.compact(strides)
        if any(paddings) or self.flag():
            args["padding"] = self.compact(paddings)
        if ceil_mode or self.flag():
            args["ceil_mode"] = ceil_mode
        if kind == "maxpool" and (any(d != 1 for d in dilations) or self.flag()):
            args["dilation"] = self.compact(dilations)
        if kind == "avgpool":
            if self.flag():
                args["count_include_pad"] = self.flag()
            if dims > 1 and self.integer(0, 3) == 0:
                args["divisor_override"] = self.integer(1, 5)
        return {kind: args}, (x[0], *sizes)

    def adaptive(self, x: Shape) -> tuple[dict, Shape]:
        kind = self.pick(["adaptive_avgpool", "adaptive_maxpool"])
        lengths = x[1:]
        if self.flag():
            size = self.integer(1, min(8, self.cap))
            return {kind: {"output": size}}, (x[0], *[size] * len(lengths))
        # ``None`` keeps that dimension's size (in 1-D too: see test_adaptive_pool_1d_none_output)
        output = [None if self.integer(0, 3) == 0 else self.integer(1, min(8, self.cap)) for _ in lengths]
        sizes = [n if o is None else o for o, n in zip(output, lengths, strict=True)]
        return {kind: {"output": output}}, (x[0], *sizes)

    def upsample(self, x: Shape) -> tuple[dict, Shape]:
        dims, lengths = len(x) - 1, x[1:]
        modes = ["nearest", "nearest-exact", "linear", "area"] + (["bicubic"] if dims == 2 else [])
        mode = self.pick(modes)
        args: dict[str, Any] = {}
        if self.flag():
            sizes = [self.integer(1, self.cap) for _ in lengths]
            args["size"] = self.compact(sizes)
        else:
            scales = []
            for length in lengths:
                options = [s for s in (0.5, 1, 1.5, 2, 2.5, 3) if 1 <= upsampled(length, s) <= max(self.cap, length)]
                scales.append(self.pick(options))
            sizes = [upsampled(n, s) for n, s in zip(lengths, scales, strict=True)]
            args["scale"] = self.compact(scales)
        if mode != "nearest" or self.flag():
            args["mode"] = mode
        if mode in ("linear", "bicubic") and self.flag():
            args["align_corners"] = self.flag()
        return {"upsample": args}, (x[0], *sizes)

    # -- layers for any shape -----------------------------------------------------------------------------

    def pointwise(self, x: Shape) -> tuple[Any, Shape]:
        spatial = len(x) > 1
        kind = self.pick(
            ["activation", "activation", "batchnorm", "dropout", "softmax", "tensor", "norm", "stochastic_depth"]
            + (["lrn"] if spatial else [])
        )
        if kind == "norm":
            return self.norm(x), x
        if kind == "stochastic_depth":
            return {"stochastic_depth": {"p": self.pick([0.0, 0.2, 1.0]), "mode": self.pick(["row", "batch"])}}, x
        if kind == "tensor":  # a parameter item that keeps the shape: a learned scale or an added tensor
            dim = self.integer(1, len(x)) * self.pick([1, -1]) if len(x) > 1 else 1
            if self.flag():
                return {"layer_scale": {"dim": dim, "init": self.pick([1e-6, 0.5])}}, x
            length = x[abs(dim) - 1 if dim > 0 else len(x) + dim]
            return {"pos_embedding": {"dim": dim, "length": length} if self.flag() else {}}, x
        if kind == "activation":
            name = self.pick([*ACTIVATIONS, "leaky_relu"])
            if name == "leaky_relu" and self.flag():
                return {"leaky_relu": {"slope": self.pick([0.0, 0.01, 0.2])}}, x
            if name == "gelu" and self.flag():
                return {"gelu": {"approximate": self.pick(["none", "tanh"])}}, x
            if name == "elu" and self.flag():
                return {"elu": {"alpha": self.pick([0.5, 1.0])}}, x
            return name, x
        if kind == "batchnorm":
            args: dict[str, Any] = {}
            if self.flag():
                args["affine"] = self.flag()
            if self.flag():
                args["eps"] = self.pick([1e-5, 1e-3])
            if self.flag():
                args["momentum"] = self.pick([None, 0.1, 0.5])
            if prod(x[1:]) > 1 and self.integer(0, 3) == 0:  # batch statistics: needs > 1 value per channel
                args["track_running_stats"] = False
            return ({"batchnorm": args} if args or self.flag() else "batchnorm"), x
        if kind == "dropout":
            args = {"p": self.pick([0.0, 0.2, 0.5])} if self.flag() else {}
            if spatial and self.flag():
                args["channel"] = True
            return ({"dropout": args} if args or self.flag() else "dropout"), x
        if kind == "softmax":
            return {"softmax": {"dim": self.pick([1, -1, len(x)])}}, x
        return {"lrn": {"size": self.integer(1, 5), "alpha": 1e-4, "beta": 0.75, "k": self.pick([1.0, 2.0])}}, x

    def norm(self, x: Shape) -> Any:
        """layernorm (over the last dims, or over channels), groupnorm or instancenorm for input ``x``."""
        kinds = ["layernorm", "groupnorm"] + (["instancenorm"] if prod(x[1:]) > 1 else [])
        kind = self.pick(kinds)
        args: dict[str, Any] = {}
        if kind == "layernorm":
            if len(x) > 1 and self.flag():
                args["channels"] = True
            elif self.flag():
                args["dims"] = self.integer(1, len(x))
            if self.flag():
                args["elementwise_affine"] = self.flag()
            if self.flag():
                args["bias"] = self.flag()
        elif kind == "groupnorm":
            # torch rejects a group of one value (batch × channels per group × positions == 1)
            args["groups"] = self.pick([g for g in divisors(x[0]) if x[0] // g * prod(x[1:]) > 1] or [None])
            if args["groups"] is None:
                return "relu"
            if self.flag():
                args["affine"] = self.flag()
        else:
            if self.flag():
                args["affine"] = self.flag()
            if self.flag():
                args["track_running_stats"] = self.flag()
        if self.flag():
            args["eps"] = self.pick([1e-5, 1e-3])
        return {kind: args} if args or self.flag() else kind

    def attention(self, x: Shape) -> tuple[dict, Shape]:
        """``self_attention`` on a rank-2 tensor (read as [L, D]) or ``window_attention`` on a rank-3 one (read
        as [H, W, C]); both keep the shape, their heads divide the last dim."""
        heads = self.pick(divisors(x[-1]))
        if len(x) == 2:
            args: dict[str, Any] = {"heads": heads}
            for key in ("bias", "causal"):
                if self.flag():
                    args[key] = self.flag()
            return {"self_attention": args}, x
        window = [self.integer(1, 4), self.integer(1, 4)]
        args = {"window": window if self.flag() else window[0], "heads": heads}
        window = window if isinstance(args["window"], list) else [window[0]] * 2
        if self.flag():
            shift = [self.integer(0, w - 1) for w in window]
            args["shift"] = shift if self.flag() or shift[0] != shift[1] else shift[0]
        for key in ("qkv_bias", "proj_bias"):
            if self.flag():
                args[key] = self.flag()
        return {"window_attention": args}, x

    def linear(self, x: Shape) -> tuple[dict, Shape]:
        out = self.integer(1, MAX_CHANNELS if len(x) == 1 else self.cap)
        args: dict[str, Any] = {"out": out}
        if self.flag():
            args["bias"] = self.flag()
        return {"linear": args}, (*x[:-1], out)

    def flatten(self, x: Shape) -> tuple[Any, Shape]:
        if len(x) >= 3 and self.flag():  # keep the channels: (C, prod(spatial)), one spatial dim
            return {"flatten": {"start": 2}}, (x[0], prod(x[1:]))
        return ("flatten" if self.flag() else {"flatten": {}}), (prod(x),)

    # -- modifiers, blocks and params ---------------------------------------------------------------------

    def conv_repeat(self, x: Shape) -> tuple[dict, Shape]:
        """``conv`` k3 p1 repeated, the first copy overriding stride or out."""
        copies = self.integer(2, 3)
        out = self.integer(1, MAX_CHANNELS)
        item: dict[str, Any] = {"conv": {"out": out, "kernel": 3, "padding": 1}, "repeat": copies}
        sizes = list(x[1:])
        if self.flag():
            item["first"] = {"stride": 2}
            sizes = [(n - 1) // 2 + 1 for n in sizes]
        elif self.flag():
            item["first"] = {"out": self.integer(1, MAX_CHANNELS), "bias": False}
        return item, (out, *sizes)

    def define_block(self) -> None:
        """A user block ``unit(out, kernel=K, stride=1, mult=M)``: conv to out*mult channels with 'same'-style
        padding, optional batchnorm / activation and a depthwise conv included only when stride == 1."""
        dims = self.dims
        kernel = self.pick([1, 3, 5] if dims < 3 else [1, 3])
        mult = self.pick([1, 2])
        layers: list[Any] = [
            {
                "conv": {
                    "out": "${out * mult}",
                    "kernel": "$kernel",
                    "stride": "$stride",
                    "padding": "${kernel // 2}",
                    "bias": self.flag(),
                }
            }
        ]
        if self.flag():
            layers.append("batchnorm")
        if self.flag():
            layers.append(self.pick(ACTIVATIONS))
        depthwise = self.flag()
        if depthwise:
            layers.append(
                {
                    "conv": {"out": "${in.channels}", "kernel": 3, "padding": 1, "groups": "${in.channels}"},
                    "if": "${stride == 1}",
                    "name": "depthwise",
                }
            )
        self.blocks["unit"] = {
            "doc": "generated",
            "params": {"out": "required", "kernel": kernel, "stride": 1, "mult": mult},
            "layers": layers,
        }
        self.block_shape = lambda x, out, stride: (out * mult, *[(n - 1) // stride + 1 for n in x[1:]])
        self.block_mult = mult

    def block_use(self, x: Shape) -> tuple[dict, Shape]:
        out = self.integer(1, MAX_CHANNELS // self.block_mult)
        args: dict[str, Any] = {"out": out}
        if self.flag():
            args["kernel"] = self.pick([1, 3])
        stride = self.integer(1, 2) if self.flag() else 1
        if stride != 1 or self.flag():
            args["stride"] = stride
        item: dict[str, Any] = {"unit": args}
        y = self.block_shape(x, out, stride)
        if self.flag():
            copies = self.integer(2, 3)
            item["repeat"] = copies
            first_stride = self.integer(1, 2)
            item["first"] = {"stride": first_stride}
            y = self.block_shape(x, out, first_stride)
            for _ in range(copies - 1):
                y = self.block_shape(y, out, stride)
        return item, y

    def width_param(self, x: Shape) -> tuple[dict, Shape]:
        """A conv whose width is the global param ``width`` through an expression."""
        width = self.params.setdefault("width", self.integer(1, MAX_CHANNELS // 2))
        expression, out = self.pick(
            [("$width", width), ("${width * 2}", width * 2), ("${max(width, 3)}", max(width, 3))]
        )
        return {"conv": {"out": expression, "kernel": 1}}, (out, *x[1:])

    # -- parallel containers ------------------------------------------------------------------------------

    def keeping_size(self, x: Shape, channels: int | None = None) -> tuple[Any, Shape]:
        """A layer that keeps the spatial size (to ``channels`` channels when given: a conv)."""
        dims = len(x) - 1
        kinds = (
            ["conv"]
            if channels is not None
            else ["conv", "pointwise", "maxpool"] + (["avgpool"] if dims < 3 or min(x[1:]) >= 3 else [])
        )
        kind = self.pick(kinds)
        if kind == "conv":
            out = channels or self.integer(1, MAX_CHANNELS)
            kernel = self.pick([1, 3] if dims == 3 else [1, 2, 3, 5])
            if kernel % 2 == 0 or self.flag():
                return {"conv": {"out": out, "kernel": kernel, "padding": "same"}}, (out, *x[1:])
            return {"conv": {"out": out, "kernel": kernel, "padding": kernel // 2}}, (out, *x[1:])
        if kind == "pointwise":
            return self.pointwise(x)
        if kind == "maxpool":
            return {"maxpool": {"kernel": 3, "stride": 1, "padding": 1, "ceil_mode": self.flag()}}, x
        return {"avgpool": {"kernel": 3, "stride": 1, "padding": 1, "count_include_pad": self.flag()}}, x

    def branch(self, x: Shape, stride: int, channels: int | None) -> tuple[list[Any], Shape]:
        """One branch: halves the size first when ``stride`` is 2, then keeps it; ends with ``channels``."""
        items: list[Any] = []
        if stride == 2:
            kind = self.pick(["conv", "maxpool", "avgpool"])
            if kind == "conv":
                kernel = self.pick([1, 3])
                out = self.integer(1, MAX_CHANNELS)
                items.append({"conv": {"out": out, "kernel": kernel, "stride": 2, "padding": kernel // 2}})
                x = (out, *x[1:])
            elif kind == "maxpool":
                items.append({"maxpool": {"kernel": 3, "stride": 2, "padding": 1}})
            else:
                items.append({"avgpool": {"kernel": 1, "stride": 2}})
            x = (x[0], *[(n - 1) // 2 + 1 for n in x[1:]])
        for _ in range(self.integer(0 if stride == 2 or channels is None else 1, 2)):
            item, x = self.keeping_size(x)
            items.append(item)
        if channels is not None and x[0] != channels:
            item, x = self.keeping_size(x, channels)
            items.append(item)
        return items, x

    def parallel(self, x: Shape) -> tuple[dict, Shape]:
        """concat / add / multiply over 2-3 branches (an empty branch is the identity)."""
        kind = self.pick(["concat", "add", "multiply"])
        stride = self.pick([1, 1, 2])
        count = self.integer(2, 3)
        identity = stride == 1 and self.flag()  # one branch is empty
        # channels every branch ends with (add / multiply): the input's when one branch is the identity
        target = None if kind == "concat" else x[0] if identity else self.integer(1, MAX_CHANNELS)
        branches: list[list[Any]] = []
        outputs: list[Shape] = []
        for index in range(count):
            if identity and index == count - 1:
                branches.append([])
                outputs.append(x)
                continue
            # add / multiply broadcast a single channel against the others
            broadcast = target is not None and target > 1 and index == 0 and self.integer(0, 3) == 0
            items, y = self.branch(x, stride, 1 if broadcast else target)
            branches.append(items)
            outputs.append(y)
        if kind == "concat":
            y = (sum(o[0] for o in outputs), *outputs[0][1:])
        else:
            y = (max(o[0] for o in outputs), *outputs[0][1:])
        value: Any = branches if self.flag() else {f"b{i}": items for i, items in enumerate(branches)}
        args: dict[str, Any] = {"branches": value}
        if kind == "concat" and self.flag():
            args["dim"] = 1
        return {kind: args}, y

    def layout(self, x: Shape) -> tuple[Any, Shape]:
        """Layout and selection ops (issue 11) that leave a [C, *spatial] map: channels last with a linear
        there and back, two spatial dims swapped, a strided slice, ShuffleNet's shuffle (as reshapes or as
        ``channel_shuffle``) and its channel split."""
        dims = len(x) - 1
        kind = self.pick(["channels_last", "swap", "slice", "shuffle", "channel_shuffle", "split"])
        if kind == "channels_last":
            out = self.integer(1, MAX_CHANNELS)
            order = [0, *range(2, dims + 2), 1]
            back = [0, dims + 1, *range(1, dims + 1)]
            items = [{"permute": {"dims": order}}, {"linear": {"out": out}}, {"permute": {"dims": back}}]
            return {"sequential": items}, (out, *x[1:])
        if kind == "swap" and dims >= 2:
            a, b = self.draw(st.permutations(range(2, dims + 2)))[:2]
            y = list(x)
            y[a - 1], y[b - 1] = x[b - 1], x[a - 1]
            return {"transpose": {"dim0": a, "dim1": b}}, tuple(y)
        if kind == "slice" or kind == "swap":
            dim = self.integer(1, dims)
            length = x[dim]
            start, step = self.integer(0, length - 1), self.integer(1, 3)
            args: dict[str, Any] = {"dim": dim + 1, "start": start, "step": step}
            stop = self.integer(start + 1, length) if self.flag() else None
            if stop is not None:
                args["stop"] = stop
            kept = len(range(start, length if stop is None else stop, step))
            return {"slice": args}, (*x[:dim], kept, *x[dim + 1 :])
        groups = self.pick(divisors(x[0]))
        if kind == "shuffle" and len(x) < 4:  # the groups are one more dim: at most 4 feature dims
            items = [
                {"unflatten": {"dim": 1, "sizes": [groups, -1]}},
                {"transpose": {"dim0": 1, "dim1": 2}},
                {"reshape": {"shape": list(x)}},
            ]
            return {"sequential": items}, x
        if kind in ("channel_shuffle", "shuffle"):
            return {"channel_shuffle": {"groups": groups}}, x
        parts = [count for count in divisors(x[0]) if count >= 2]
        if not parts:  # one channel cannot be split
            return {"channel_shuffle": {"groups": 1}}, x
        count = self.pick(parts)
        part = (x[0] // count, *x[1:])
        branches = [[] if index == 0 else self.branch(part, 1, part[0])[0] for index in range(count)]
        return {"channel_split": {"branches": branches}}, x

    # -- chains ---------------------------------------------------------------------------------------------

    def spatial_layer(self, x: Shape, depth: int = 0) -> tuple[Any, Shape]:
        choices = [
            "conv",
            "conv",
            "conv",
            "pointwise",
            "pointwise",
            "maxpool",
            "avgpool",
            "conv_transpose",
            "adaptive",
            "upsample",
            "conv_repeat",
            "width",
            "parallel",
            "parallel",
            "layout",
        ]
        if len(x) in (2, 3):
            choices.append("attention")
        if self.block_shape is not None:
            choices += ["block"] * 4
        if depth == 0:
            choices += ["sequential"] * 2
        choice = self.pick(choices)
        if choice == "conv":
            return self.conv(x)
        if choice == "pointwise":
            return self.pointwise(x)
        if choice in ("maxpool", "avgpool"):
            return self.pool(x, choice)
        if choice == "conv_transpose":
            return self.conv_transpose(x)
        if choice == "adaptive":
            return self.adaptive(x)
        if choice == "upsample":
            return self.upsample(x)
        if choice == "conv_repeat":
            return self.conv_repeat(x)
        if choice == "width":
            return self.width_param(x)
        if choice == "block":
            return self.block_use(x)
        if choice == "parallel":
            return self.parallel(x)
        if choice == "layout":
            return self.layout(x)
        if choice == "attention":
            return self.attention(x)
        children = []
        for _ in range(self.integer(1, 3)):
            child, x = self.spatial_layer(x, depth + 1)
            children.append(child)
        return {"sequential": children}, x

    def head(self, x: Shape) -> list[tuple[Any, Shape]]:
        """Optional end: global pool / flatten, then linear layers with pointwise layers between."""
        layers: list[tuple[Any, Shape]] = []
        kind = self.pick(["none", "flatten", "global", "last_dim_linear"])
        if kind == "none":
            return layers
        if kind == "last_dim_linear":
            layers.append(self.linear(x))
            return layers
        if kind == "global":
            pool = self.pick(["global_avgpool", "global_maxpool"])
            x = (x[0], *[1] * (len(x) - 1))
            layers.append((pool, x))
        item, x = self.flatten(x)
        layers.append((item, x))
        if len(x) == 2 and self.flag():  # a sequence [C, L] as ViT's: [L, C], a class token, read out
            x = (x[1], x[0])
            layers.append(({"transpose": {"dim0": 1, "dim1": 2}}, x))
            x = (x[0] + 1, x[1])
            layers.append(("class_token", x))
            if self.flag():
                x = (x[1],)
                layers.append(({"select": {"dim": 1, "index": self.pick([0, -1])}}, x))
        if len(x) == 2 and self.flag():  # a sequence: attention over its positions
            layers.append(self.attention(x))
        for _ in range(self.integer(1, 3)):
            item, x = self.linear(x)
            layers.append((item, x))
            if self.flag():
                item, x = self.pointwise(x)
                layers.append((item, x))
        return layers

    def named(self, item: Any) -> Any:
        """Sometimes give the item a name (unique by construction)."""
        if self.integer(0, 3) != 0:
            return item
        self.names += 1
        named = {item: {}} if isinstance(item, str) else dict(item)
        named["name"] = f"layer_{self.names}"
        return named


@st.composite
def valid_specs(draw: Any) -> tuple[dict, Shape]:
    """A valid spec dict and the output shape (without batch) that PyTorch's formulas give for it."""
    dims = draw(st.sampled_from([1, 1, 2, 2, 2, 3]))
    lo, hi = INPUT_RANGE[dims]
    shape: Shape = (
        draw(st.integers(1, MAX_CHANNELS)),
        *draw(st.lists(st.integers(lo, hi), min_size=dims, max_size=dims)),
    )
    builder = Builder(draw, shape)
    if builder.flag():
        builder.define_block()
    layers: list[Any] = []
    x = shape
    for _ in range(draw(st.integers(1, 5))):
        item, x = builder.spatial_layer(x)
        layers.append(builder.named(item))
    for item, y in builder.head(x):
        layers.append(builder.named(item))
        x = y
    spec: dict[str, Any] = {"archspec": 1, "name": "random", "input": list(shape), "layers": layers}
    if builder.params:
        spec["params"] = builder.params
    if builder.blocks:
        spec["blocks"] = builder.blocks
    return spec, x


@given(valid_specs(), st.integers(2, 3), st.booleans())
def test_random_spec_static_equals_measured(case, batch, train):
    """Shapes at every path, params, buffers and MACs at batch 1 (eval) and at batch 2-3 (eval or train:
    with more than one sample batchnorm's batch statistics are always defined)."""
    spec, output = case
    note(f"spec: {spec}")
    for n, mode in ((1, False), (batch, train)):
        report = assert_static_equals_measured(spec, batch=n, train=mode)
        assert report.output_shape == [n, *output]  # the strategy's own shape bookkeeping agrees
    # a linear layer warns exactly where its input still has spatial dims (only merges and linears warn)
    on_spatial = {row.path for row in report.layers if row.op == "linear" and len(row.input_shape) > 2}
    assert {w.module for w in report.warnings if w.message.startswith("linear ")} == on_spatial


# -- invalid specs: a located error, never a traceback ----------------------------------------------------


# items invalid wherever they stand (the others depend on the shape flowing in, so go last)
ANYWHERE = [
    ("unknown op", {"convolution": {"out": 4, "kernel": 3}}),
    ("unknown argument", {"relu": {"inplace_typo": True}}),
    ("negative out", {"linear": {"out": -1}}),
    ("unknown name in expression", {"linear": {"out": "${undefined_param * 2}"}}),
    ("fractional expression for an int", {"linear": {"out": "${7 / 2}"}}),
    ("repeat zero", {"relu": {}, "repeat": 0}),
    ("first without repeat", {"relu": {}, "first": {}}),
    ("block missing required argument", {"unit": {}}),
    ("block unknown argument", {"unit": {"out": 2, "colour": 1}}),
]


def invalid_for(x: Shape) -> list[tuple[str, Any]]:
    """Items that PyTorch rejects for input ``x`` (and archspec must reject statically), as (what, item)."""
    channels, lengths = x[0], x[1:]
    if not lengths:
        return [
            ("conv on a vector", {"conv": {"out": 2, "kernel": 1}}),
            ("lrn on a vector", "lrn"),
            ("instancenorm on a vector", "instancenorm"),
            ("layernorm over channels of a vector", {"layernorm": {"channels": True}}),
            ("layernorm over more dims than the input has", {"layernorm": {"dims": len(x) + 1}}),
            ("groupnorm groups not dividing the channels", {"groupnorm": {"groups": channels + 1}}),
        ]
    wide = max(lengths) + 3
    cases = [
        ("groups not dividing in channels", {"conv": {"out": (channels + 1) * 2, "kernel": 1, "groups": channels + 1}}),
        ("stride 0", {"conv": {"out": 2, "kernel": 1, "stride": 0}}),
        ("negative padding", {"conv": {"out": 2, "kernel": 1, "padding": -1}}),
        ("dilation 0", {"conv": {"out": 2, "kernel": 3, "dilation": 0}}),
        ("kernel larger than the padded input", {"conv": {"out": 2, "kernel": wide + 2, "padding": 1}}),
        ("same with stride 2", {"conv": {"out": 2, "kernel": 3, "stride": 2, "padding": "same"}}),
        ("per-dim list of the wrong length", {"conv": {"out": 2, "kernel": [1] * (len(lengths) + 1)}}),
        ("pool padding above k//2", {"maxpool": {"kernel": 3, "padding": 2}}),
        ("pool window larger than the input", {"avgpool": {"kernel": wide + 4}}),
        ("output_padding too large", {"conv_transpose": {"out": 2, "kernel": 3, "stride": 2, "output_padding": 2}}),
        ("adaptive output 0", {"adaptive_avgpool": {"output": 0}}),
        ("upsample with both size and scale", {"upsample": {"size": 4, "scale": 2}}),
        ("upsample shrinking to nothing", {"upsample": {"scale": 1 / (wide * 2)}}),
        ("groupnorm groups not dividing the channels", {"groupnorm": {"groups": channels + 1}}),
        ("layernorm over more dims than the input has", {"layernorm": {"dims": len(x) + 1}}),
        ("stochastic_depth with p above 1", {"stochastic_depth": {"p": 1.5}}),
    ]
    if channels > 1:
        cases.append(
            ("groups not dividing out channels", {"conv": {"out": channels * 2 + 1, "kernel": 1, "groups": channels}})
        )
    rank = len(x) + 1
    cases += [  # layout and selection ops (issue 11)
        ("permute moving the batch", {"permute": {"dims": [*range(1, rank), 0]}}),
        ("permute of the wrong length", {"permute": {"dims": list(range(rank + 1))}}),
        ("transpose of the batch", {"transpose": {"dim0": 0, "dim1": 1}}),
        ("select past the end", {"select": {"dim": 2, "index": lengths[0]}}),
        ("slice keeping nothing", {"slice": {"dim": 2, "start": lengths[0]}}),
        ("reshape to another size", {"reshape": {"shape": [channels + 1, *lengths]}}),
        ("unflatten to another size", {"unflatten": {"dim": 1, "sizes": [channels + 1, 1]}}),
        ("channel_shuffle groups not dividing", {"channel_shuffle": {"groups": channels + 1}}),
        ("channel_split of indivisible channels", {"channel_split": {"branches": [[]] * (channels + 1)}}),
    ]
    return cases


@st.composite
def invalid_specs(draw: Any) -> tuple[dict, str, int]:
    """A valid spec with one invalid item inserted; returns the spec, what is wrong and the item's index."""
    spec, x = draw(valid_specs())
    anywhere = draw(st.booleans())
    what, item = draw(st.sampled_from(ANYWHERE if anywhere else invalid_for(x)))
    if what.startswith("block") and "unit" not in spec.get("blocks", {}):
        spec["blocks"] = {
            **spec.get("blocks", {}),
            "unit": {"params": {"out": "required"}, "layers": [{"linear": {"out": "$out"}}]},
        }
    index = draw(st.integers(0, len(spec["layers"]))) if anywhere else len(spec["layers"])
    spec["layers"].insert(index, item)
    return spec, what, index


@given(invalid_specs())
def test_invalid_spec_gives_a_located_error(case):
    spec, what, index = case
    note(f"{what} at layers[{index}]: {spec}")
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(spec)
    diagnostics = info.value.diagnostics
    assert diagnostics
    for diagnostic in diagnostics:
        assert diagnostic.location is not None, str(diagnostic)
        assert diagnostic.message
    # the first problem in source order is the inserted item (a shape error stops the chain there)
    assert any(tuple(d.path[:2]) == ("layers", index) for d in diagnostics), [str(d) for d in diagnostics]


# -- known archspec bugs, kept visible ---------------------------------------------------------------------


@pytest.mark.parametrize("op", ["adaptive_avgpool", "adaptive_maxpool"])
def test_adaptive_pool_1d_none_output(op):
    assert_static_equals_measured({"archspec": 1, "name": "bug", "input": [1, 4], "layers": [{op: {"output": [None]}}]})
