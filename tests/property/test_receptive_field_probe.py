"""Receptive fields: static (archspec) == empirical (gradient probe, tests/probe.py) == REFERENCE.md §5.

Property: random 1-D / 2-D chains of conv, max / avg pooling and pointwise layers, whose static field must
be exact. Output index i depends on input positions [iJ - P, iJ - P + R - 1] clipped to [0, L-1]
(REFERENCE.md §5). That is exact when the unclipped span lies inside the input, and at the borders too
unless (a) some layer drops trailing inputs (a floor-mode window grid that stops short of the end of its
input: fields reaching the dropped tail stop where the truncating layer's last window stops), or (b) a
dilated window straddles the padding (its first real tap may lie past position 0: "dilation holes don't
matter, report the extent"). So the property asserts: the probe's span lies within the clipped static
span always, and equals it where neither (a) nor (b) can apply; and in every case the probe equals the
span computed tap by tap from the layers' geometry — a check on the probe itself.

Deterministic tests: the reference values of REFERENCE.md §5 for LeNet-5, AlexNet (original and
torchvision) and VGG16, and the probe on LeNet-5 and VGG16.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import torch
from hypothesis import assume, given, note
from hypothesis import strategies as st
from probe import clipped, prepare, probe_indices, receptive_span, receptive_spans
from torch_geometry import conv_out, extent, pool_out, same_padding

import archspec

# -- random exact chains ------------------------------------------------------------------------------


@dataclass
class Window:
    """One layer's geometry in one dim, and the length of its input."""

    kernel: int
    dilation: int
    stride: int
    left: int  # padding on the left
    length: int

    @property
    def extent(self) -> int:
        return extent(self.kernel, self.dilation)

    def every_window_reads_input(self, out: int) -> bool:
        """False when some window sees only padding (possible with dilation: taps at -1 and +1 over one
        input) — a max pool then outputs -inf, a conv its bias, and the element depends on no input."""
        return all(
            any(0 <= q * self.stride - self.left + j * self.dilation < self.length for j in range(self.kernel))
            for q in range(out)
        )


@dataclass
class Chain:
    spec: dict[str, Any]
    lengths: list[list[int]]  # per layer boundary (input first), per dim
    windows: list[list[Window | None]]  # per layer, per dim; None for pointwise layers

    def exact_span(self, index: int, dim: int) -> tuple[int, int]:
        """First and last input position that output ``index`` reads: the set of positions read, walked back
        tap by tap through every layer, without padding."""
        positions = {index}
        for windows in reversed(self.windows):
            w = windows[dim]
            if w is not None:
                positions = {q * w.stride - w.left + j * w.dilation for q in positions for j in range(w.kernel)}
                positions = {q for q in positions if 0 <= q < w.length}
        return min(positions), max(positions)

    def drops_tail(self, dim: int) -> bool:
        """Some layer's last window ends before the end of its input (floor mode leaves inputs unread)."""
        for layer, windows in enumerate(self.windows):
            w = windows[dim]
            if w is not None and (self.lengths[layer + 1][dim] - 1) * w.stride - w.left + w.extent - 1 < w.length - 1:
                return True
        return False

    def dilated(self, dim: int) -> bool:
        return any(
            w is not None and w.kernel > 1 and w.dilation > 1 for windows in self.windows for w in [windows[dim]]
        )


def _compact(draw: Any, values: list[int]) -> int | list[int]:
    return values[0] if len(set(values)) == 1 and draw(st.booleans()) else list(values)


@st.composite
def exact_chains(draw: Any) -> Chain:
    """A chain whose field is exact: conv (padding <= extent - 1, so no window lies wholly in padding),
    max / avg pooling (ceil mode, padding <= k//2) and pointwise layers, in 1-D or 2-D."""
    dims = draw(st.sampled_from([1, 2]))
    low, high = (8, 24) if dims == 1 else (6, 20)
    lengths = draw(st.lists(st.integers(low, high), min_size=dims, max_size=dims))
    layers: list[Any] = []
    boundaries = [list(lengths)]
    windows: list[list[Window | None]] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["conv", "conv", "conv", "maxpool", "avgpool", "relu", "tanh", "batchnorm"]))
        if kind in ("relu", "tanh", "batchnorm"):
            layers.append(kind)
            windows.append([None] * dims)
            boundaries.append(list(lengths))
            continue
        row: list[Window | None] = []
        sizes: list[int] = []
        if kind == "conv":
            mode = draw(st.sampled_from(["int", "int", "same", "valid"]))
            kernels, strides, paddings, dilations = [], [], [], []
            for length in lengths:
                dilation = draw(st.sampled_from([1, 1, 2]))
                limit = length if mode == "valid" else 3 * length  # 'valid': the extent must fit the input
                kernel = draw(st.integers(1, max(1, min(5, (limit - 1) // dilation + 1))))
                ke = extent(kernel, dilation)
                stride = 1 if mode == "same" else draw(st.integers(1, 3))
                if mode == "same":
                    left, right = same_padding(kernel, dilation)
                elif mode == "valid":
                    left = right = 0
                else:
                    left = right = draw(st.integers(max(0, -(-(ke - length) // 2)), ke - 1))
                kernels.append(kernel)
                strides.append(stride)
                paddings.append(left)
                dilations.append(dilation)
                sizes.append(conv_out(length, kernel, stride, left, dilation, right_padding=right))
                row.append(Window(kernel, dilation, stride, left, length))
            args: dict[str, Any] = {
                "out": draw(st.integers(1, 4)),
                "kernel": _compact(draw, kernels),
                "stride": _compact(draw, strides),
                "dilation": _compact(draw, dilations),
            }
            args["padding"] = mode if mode != "int" else _compact(draw, paddings)
            if mode == "same":
                del args["stride"]
        else:
            ceil_mode = draw(st.booleans())
            default_stride = draw(st.booleans())
            kernels, strides, paddings, dilations = [], [], [], []
            for length in lengths:
                # (dilation 2 on a length-1 input: windows of padding only, refused)
                dilation = draw(st.sampled_from([1, 2])) if kind == "maxpool" and length >= 2 else 1
                options = [k for k in range(1, 5) if length + 2 * (k // 2) >= extent(k, dilation)]
                kernel = draw(st.sampled_from(options))
                ke = extent(kernel, dilation)
                padding = draw(st.integers(max(0, -(-(ke - length) // 2)), kernel // 2))
                stride = kernel if default_stride else draw(st.integers(1, 3))
                kernels.append(kernel)
                strides.append(stride)
                paddings.append(padding)
                dilations.append(dilation)
                sizes.append(pool_out(length, kernel, stride, padding, dilation, ceil_mode))
                row.append(Window(kernel, dilation, stride, padding, length))
            args = {"kernel": _compact(draw, kernels), "padding": _compact(draw, paddings), "ceil_mode": ceil_mode}
            if not default_stride:
                args["stride"] = _compact(draw, strides)
            if kind == "maxpool":
                args["dilation"] = _compact(draw, dilations)
            elif draw(st.booleans()):
                args["count_include_pad"] = draw(st.booleans())
        assume(all(w.every_window_reads_input(n) for w, n in zip(row, sizes, strict=True)))
        layers.append({kind: args})
        windows.append(row)
        lengths = sizes
        boundaries.append(list(lengths))
    spec = {"archspec": 1, "name": "chain", "input": [draw(st.integers(1, 3)), *boundaries[0]], "layers": layers}
    return Chain(spec, boundaries, windows)


@given(exact_chains())
def test_probe_equals_static_field_on_random_chains(chain):
    note(f"spec: {chain.spec}")
    report = archspec.analyze(chain.spec)
    last = report.layers[-1]
    field = last.rf
    assert field is not None and field.kind == "exact", field
    inputs, outputs = chain.lengths[0], chain.lengths[-1]
    assert last.output_shape[2:] == outputs
    model = archspec.compile(chain.spec)
    indices = probe_indices(outputs)
    measured = receptive_spans(model, chain.spec["input"], indices)
    for index, spans in zip(indices, measured, strict=True):
        for dim, span in enumerate(spans):
            unclipped = field.span(index[dim], dim)
            static = clipped(unclipped, inputs[dim])
            assert span == chain.exact_span(index[dim], dim), (index, dim)
            assert static[0] <= span[0] <= span[1] <= static[1], (index, dim, span, static)
            inside = unclipped[0] >= 0 and unclipped[1] < inputs[dim]
            if inside or not (chain.dilated(dim) or chain.drops_tail(dim)):
                assert span == static, (index, dim, span, static)


# -- reference networks (REFERENCE.md §5) ----------------------------------------------------------------


def _spatial_rows(report, ops: tuple[str, ...]):
    return [row for row in report.layers if row.leaf and row.op in ops]


def _assert_field(row, size: int, jump: int, padding: int | None = None, start: float | None = None) -> None:
    field = row.rf
    assert field is not None and field.kind == "exact", (row.path, field)
    assert field.size == (size, size), row.path
    assert field.jump == (jump, jump), row.path
    if padding is not None:
        assert field.padding == (padding, padding), row.path
    if start is not None:
        assert field.start == (start, start), row.path


LENET = {"c1": (5, 1, 0, 2.5), "s2": (6, 2, 0, 3.0), "c3": (14, 2, 0, 7.0), "s4": (16, 4, 0, 8.0)}


def test_lenet5_reference_fields():
    report = archspec.analyze("lenet5")
    rows = _spatial_rows(report, ("conv", "avgpool"))
    assert [row.path for row in rows] == list(LENET)
    for row in rows:
        _assert_field(row, *LENET[row.path])


def test_lenet5_probe():
    report = archspec.analyze("lenet5")
    model = archspec.compile("lenet5")
    length = 32
    for path, (size, jump, padding, _) in LENET.items():
        sizes = report.layer(path).output_shape[2:]
        indices = probe_indices(sizes)
        for index, spans in zip(indices, receptive_spans(model, [1, length, length], indices, path=path), strict=True):
            for dim, span in enumerate(spans):
                reference = (index[dim] * jump - padding, index[dim] * jump - padding + size - 1)
                assert span == clipped(reference, length), (path, index, dim)
                assert span == clipped(report.layer(path).rf.span(index[dim], dim), length), (path, index, dim)


ALEXNET_SIZE = [11, 19, 51, 67, 99, 131, 163, 195]
ALEXNET_JUMP = [4, 8, 8, 16, 16, 16, 16, 32]


def test_alexnet_original_reference_fields():
    rows = _spatial_rows(archspec.analyze("alexnet_original"), ("conv", "maxpool"))
    assert len(rows) == 8  # conv1, pool1, conv2, pool2, conv3, conv4, conv5, pool3
    for row, size, jump in zip(rows, ALEXNET_SIZE, ALEXNET_JUMP, strict=True):
        _assert_field(row, size, jump)


def test_alexnet_torchvision_reference_fields():
    rows = _spatial_rows(archspec.analyze("alexnet"), ("conv", "maxpool"))
    assert [row.path for row in rows] == [f"features.{i}" for i in (0, 2, 3, 5, 6, 8, 10, 12)]  # torchvision's
    for row, size, jump, padding in zip(rows, ALEXNET_SIZE, ALEXNET_JUMP, [2, 2, 18, 18, 34, 50, 66, 66], strict=True):
        _assert_field(row, size, jump, padding)


VGG16_POOLS = [(6, 2, 2), (16, 4, 6), (44, 8, 18), (100, 16, 42), (212, 32, 90)]  # size, jump, padding


def test_vgg16_reference_fields():
    report = archspec.analyze("vgg16")
    pools = _spatial_rows(report, ("maxpool",))
    assert len(pools) == 5
    for row, (size, jump, padding) in zip(pools, VGG16_POOLS, strict=True):
        _assert_field(row, size, jump, padding)
    _assert_field(pools[-1], 212, 32, 90, start=16.0)
    field = report.receptive_field
    assert field is not None and field.kind == "exact"
    assert (field.size, field.jump, field.padding) == ((212, 212), (32, 32), (90, 90))


@pytest.fixture(scope="module")
def vgg16_features():
    """VGG16's compiled feature extractor and the paths of its pools inside it."""
    model = archspec.compile("vgg16")
    pools = [row.path for row in _spatial_rows(archspec.analyze("vgg16"), ("maxpool",))]
    assert all(path.startswith("features.") for path in pools)
    # prepared once for all the probes; float32 is safe here: no saturating activations, and the smallest
    # gradient is ~1e-5
    return prepare(model.features, dtype=torch.float32), [path.removeprefix("features.") for path in pools]


def _check_vgg_probe(
    features, path: str, field: tuple[int, int, int], shape: list[int], indices: list[tuple[int, int]]
) -> None:
    size, jump, padding = field
    spans = receptive_spans(features, shape, indices, path=path)
    for index, per_dim in zip(indices, spans, strict=True):
        for dim, span in enumerate(per_dim):
            reference = (index[dim] * jump - padding, index[dim] * jump - padding + size - 1)
            assert span == clipped(reference, shape[1 + dim]), (path, index, dim)


def test_vgg16_probe_pools_1_to_4(vgg16_features):
    features, paths = vgg16_features
    shape = [3, 16, 128]  # the field does not depend on the input size; 128 wide leaves pool4's unclipped
    for path, field, width in zip(paths[:4], VGG16_POOLS[:4], (64, 32, 16, 8), strict=True):
        _check_vgg_probe(features, path, field, shape, [(0, 0), (0, width // 2), (0, width - 1)])


def test_vgg16_probe_pool5(vgg16_features):
    features, paths = vgg16_features
    # 224 wide: pool5 has 7 columns; column 0 reads [-90, 121] (clipped to [0, 121]), column 3 [6, 217]
    _check_vgg_probe(features, paths[4], VGG16_POOLS[4], [3, 32, 224], [(0, 0), (0, 3)])


def test_probe_sees_through_max_pooling_and_relu():
    """The probe's own soundness: max pooling and ReLU hide dependencies from a plain gradient."""
    spec = {
        "archspec": 1,
        "name": "probe_check",
        "input": [1, 12],
        "layers": [
            {"conv": {"out": 2, "kernel": 3}},
            "relu",
            {"maxpool": {"kernel": 3, "stride": 2, "ceil_mode": True}},
        ],
    }
    model = archspec.compile(spec)
    with torch.no_grad():
        for param in model.parameters():
            param.fill_(-1.0)  # a plain gradient would be all zero behind this ReLU
    # conv k3: output j reads [j, j+2]; pool window i covers conv outputs [2i, 2i+2] (ceil: 5 windows over 10)
    assert receptive_span(model, [1, 12], [0]) == [(0, 4)]
    assert receptive_span(model, [1, 12], [4]) == [(8, 11)]


# -- layout ops (issue 11): the field follows the spatial dims through them ------------------------------------


def _excursion(draw: Any, dims: int, channels: int, lengths: list[int]) -> list[Any]:
    """Items that leave the geometry as it is and return to [C, *spatial]: channels last with pointwise work
    there, spatial dims swapped and back, or ShuffleNet's shuffle written with reshapes (where no spatial dim has
    length 1: a reshape cannot tell which of several size-1 dims is which, and says "not tracked")."""
    kinds = ["channels_last", "swap"] if dims == 2 else ["channels_last"]
    kind = draw(st.sampled_from([*kinds, "shuffle"] if min(lengths) > 1 else kinds))
    if kind == "channels_last":
        last = [0, 2, 3, 1] if dims == 2 else [0, 2, 1]
        first = [0, 3, 1, 2] if dims == 2 else [0, 2, 1]
        pointwise = [{"linear": {"out": channels}}, "relu", {"layer_scale": {"dim": -1}}]
        if channels > 1:  # a softmax over one channel is constant: no gradient for the probe to see
            pointwise.append({"softmax": {"dim": -1}})
        middle = draw(st.lists(st.sampled_from(pointwise), max_size=3))
        return [{"permute": {"dims": last}}, *middle, {"permute": {"dims": first}}]
    if kind == "swap":
        return [{"transpose": {"dim0": 2, "dim1": 3}}, "relu", {"transpose": {"dim0": -1, "dim1": -2}}]
    groups = draw(st.sampled_from([g for g in range(1, channels + 1) if channels % g == 0]))
    return [
        {"unflatten": {"dim": 1, "sizes": [groups, -1]}},
        {"transpose": {"dim0": 1, "dim1": 2}},
        {"reshape": {"shape": [channels, *lengths]}},
        {"channel_shuffle": {"groups": groups}},
    ]


@st.composite
def chains_through_layout_ops(draw: Any) -> tuple[Chain, bool]:
    """An exact chain with layout excursions between its layers, ending maybe in a strided slice of a spatial
    dim (a window of 1 with stride ``step`` and left padding ``-start``) and maybe left channels last."""
    chain = draw(exact_chains())
    dims = len(chain.lengths[0])
    report = archspec.analyze(chain.spec)
    layers: list[Any] = []
    for position, layer in enumerate(chain.spec["layers"]):
        layers.append(layer)
        if draw(st.booleans()):
            channels = report.layer(str(position)).output_shape[1]
            layers += _excursion(draw, dims, channels, chain.lengths[position + 1])
    windows, lengths = list(chain.windows), list(chain.lengths)
    if draw(st.booleans()):
        dim = draw(st.integers(0, dims - 1))
        length = lengths[-1][dim]
        start = draw(st.integers(0, length - 1))
        step = draw(st.integers(1, 3))
        layers.append({"slice": {"dim": dim + 2, "start": start, "step": step}})
        windows.append([Window(1, 1, step, -start, length) if d == dim else None for d in range(dims)])
        lengths.append([len(range(start, length, step)) if d == dim else n for d, n in enumerate(lengths[-1])])
    channels_last = draw(st.booleans())
    if channels_last:
        layers += [{"permute": {"dims": [0, 2, 3, 1] if dims == 2 else [0, 2, 1]}}, "relu"]
    return Chain({**chain.spec, "layers": layers}, lengths, windows), channels_last


class _ChannelsFirst(torch.nn.Module):
    """Puts a module's output back in [N, C, *spatial] for the probe, from the field's ``axes``."""

    def __init__(self, module: torch.nn.Module, axes: tuple[int, ...]):
        super().__init__()
        self.module, self.axes = module, axes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.module(x)
        channel = next(d for d in range(y.dim() - 1) if d not in self.axes)
        return y.permute(0, channel + 1, *(a + 1 for a in self.axes))


@given(chains_through_layout_ops())
def test_probe_equals_static_field_through_layout_ops(case):
    chain, channels_last = case
    note(f"spec: {chain.spec}")
    report = archspec.analyze(chain.spec)
    field = report.layers[-1].rf
    assert field is not None and field.kind == "exact", field
    dims = len(chain.lengths[0])
    assert field.axes == (tuple(range(dims)) if channels_last else ())
    model = archspec.compile(chain.spec)
    if field.axes:
        model = _ChannelsFirst(model, field.axes)
    inputs, outputs = chain.lengths[0], chain.lengths[-1]
    indices = probe_indices(outputs)
    measured = receptive_spans(model, chain.spec["input"], indices)
    for index, spans in zip(indices, measured, strict=True):
        for dim, span in enumerate(spans):
            unclipped = field.span(index[dim], dim)
            static = clipped(unclipped, inputs[dim])
            assert span == chain.exact_span(index[dim], dim), (index, dim)
            assert static[0] <= span[0] <= span[1] <= static[1], (index, dim, span, static)
            inside = unclipped[0] >= 0 and unclipped[1] < inputs[dim]
            if inside or not (chain.dilated(dim) or chain.drops_tail(dim)):
                assert span == static, (index, dim, span, static)


def test_probe_through_convnext_and_swin_layouts():
    """ConvNeXt's channels-last LayerNorm and MLP keep the depthwise conv's field; Swin's 2x2 phases (slices
    with step 2, concatenated along the channels) double the jump, and the union of the four phases covers 2
    positions."""
    convnext = {
        "archspec": 1,
        "name": "convnext_like",
        "input": [4, 12, 12],
        "layers": [
            {"conv": {"out": 4, "kernel": 7, "padding": 3, "groups": 4}},
            {"permute": {"dims": [0, 2, 3, 1]}},
            {"layernorm": {"eps": 1e-6}},
            {"linear": {"out": 8}},
            "gelu",
            {"linear": {"out": 4}},
            {"permute": {"dims": [0, 3, 1, 2]}},
            {"conv": {"out": 2, "kernel": 3, "padding": 1}},
        ],
    }
    swin = {
        "archspec": 1,
        "name": "swin_like",
        "input": [3, 12, 12],
        "layers": [
            {"conv": {"out": 4, "kernel": 3, "padding": 1}},
            {"permute": {"dims": [0, 2, 3, 1]}},
            {
                "concat": {
                    "dim": -1,
                    "branches": [
                        [{"slice": {"dim": 1, "start": a, "step": 2}}, {"slice": {"dim": 2, "start": b, "step": 2}}]
                        for a, b in ((0, 0), (1, 0), (0, 1), (1, 1))
                    ],
                }
            },
            {"linear": {"out": 5}},
        ],
    }
    for spec, expected in ((convnext, ((9, 9), (1, 1), (4, 4))), (swin, ((4, 4), (2, 2), (1, 1)))):
        report = archspec.analyze(spec)
        field = report.layers[-1].rf
        assert field.kind == "exact" and (field.size, field.jump, field.padding) == expected, (spec["name"], field)
        model = archspec.compile(spec)
        if field.axes:
            model = _ChannelsFirst(model, field.axes)
        sizes = report.layers[-1].output_shape[1:3] if field.axes else report.layers[-1].output_shape[2:]
        indices = probe_indices(sizes)
        for index, spans in zip(indices, receptive_spans(model, spec["input"], indices), strict=True):
            for dim, span in enumerate(spans):
                assert span == clipped(field.span(index[dim], dim), 12), (spec["name"], index, dim)


def test_probe_through_select_of_a_channel():
    """Selecting one channel leaves [H, W] (the spatial dims at feature dims 0 and 1); a new size-1 dim in front
    makes it [1, H, W] again, and the fields of both convs add up."""
    spec = {
        "archspec": 1,
        "name": "select_channel",
        "input": [3, 11, 9],
        "layers": [
            {"conv": {"out": 4, "kernel": 3, "padding": 1}},
            {"select": {"dim": 1, "index": -2}},
            "relu",
            {"unflatten": {"dim": 1, "sizes": [1, -1]}},
            {"conv": {"out": 2, "kernel": [3, 5], "stride": 2}},
        ],
    }
    report = archspec.analyze(spec)
    assert report.layer("1").rf.axes == (0, 1) and report.layer("3").rf.axes == ()
    field = report.layers[-1].rf
    assert field.kind == "exact" and (field.size, field.jump, field.padding) == ((5, 7), (2, 2), (1, 1))
    sizes = report.layers[-1].output_shape[2:]
    indices = probe_indices(sizes)
    for index, spans in zip(indices, receptive_spans(archspec.compile(spec), spec["input"], indices), strict=True):
        for dim, span in enumerate(spans):
            assert span == clipped(field.span(index[dim], dim), spec["input"][1 + dim]), (index, dim)
