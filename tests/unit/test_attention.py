"""Attention ops against torch and torchvision: ``self_attention`` is torchvision's ViT attention
(``nn.MultiheadAttention(D, heads, dropout, batch_first=True)`` called as ``attn(x, x, x, need_weights=False)``),
``window_attention`` is torchvision's ``ShiftedWindowAttention`` — the same state-dict keys, the same initial
weights under a seed, bitwise the same outputs — with parameters, buffers and MACs equal to numel() and to
FlopCounterMode / 2 measured with autograd on, Q·Kᵀ and A·V included (checked against the unfused math), and
receptive fields that say what the gradient shows."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models.swin_transformer import ShiftedWindowAttention as TorchvisionWindowAttention
from torchvision.models.vision_transformer import EncoderBlock
from truth import assert_static_equals_measured
from weights import randomise

import archspec
from archspec.analysis.receptive_field import GLOBAL, POSITION_DEPENDENT
from archspec.backend.verify import flop_counter, verify
from archspec.render.codegen import generate_source


def one_op(op: str, args: dict, input_shape: tuple[int, ...], name: str = "attn") -> dict:
    return {"archspec": 1, "name": op, "input": list(input_shape), "layers": [{op: args, "name": name}]}


def numel(tensors) -> int:
    return sum(t.numel() for t in tensors)


def counted_macs(module: Callable[[torch.Tensor], object], x: torch.Tensor, counter: Any = None) -> int:
    """FlopCounterMode / 2 for one forward pass with autograd on (plain torch counter unless one is given)."""
    counter = counter or FlopCounterMode(display=False)
    with torch.enable_grad(), counter:
        module(x)
    return counter.get_total_flops() // 2


# --- self_attention -------------------------------------------------------------------------------------------


def test_self_attention_is_torchvisions_vit_attention():
    """Same keys as torchvision's EncoderBlock.self_attention; its weights load strictly and give bitwise the
    same outputs, on torch's fused inference path (eval, no_grad) and off it, and in training under a seed."""
    reference = EncoderBlock(4, 16, 32, dropout=0.0, attention_dropout=0.1).self_attention
    randomise(reference, seed=3)
    ours = archspec.compile(one_op("self_attention", {"heads": 4, "dropout": 0.1}, (10, 16), "self_attention"))
    assert list(ours.state_dict()) == [f"self_attention.{key}" for key in reference.state_dict()]
    ours.load_state_dict({f"self_attention.{k}": v for k, v in reference.state_dict().items()}, strict=True)
    x = torch.randn(3, 10, 16)
    for train, grad in ((False, False), (False, True), (True, True)):
        reference.train(train)
        ours.train(train)
        with torch.set_grad_enabled(grad):
            torch.manual_seed(7)
            expected = reference(x, x, x, need_weights=False)[0]
            torch.manual_seed(7)
            assert torch.equal(ours(x), expected), (train, grad)


def test_self_attention_initialises_as_multihead_attention_does():
    torch.manual_seed(0)
    reference = nn.MultiheadAttention(8, 2, batch_first=True)
    torch.manual_seed(0)
    ours = archspec.compile(one_op("self_attention", {"heads": 2}, (5, 8)))
    for key, value in reference.state_dict().items():
        assert torch.equal(ours.state_dict()[f"attn.{key}"], value), key


@pytest.mark.parametrize(
    ("length", "features", "heads", "bias", "batch"),
    [(5, 8, 2, True, 1), (7, 12, 3, False, 2), (1, 4, 4, True, 3), (197, 24, 6, True, 1)],
)
def test_self_attention_macs_are_the_unfused_maths(length, features, heads, bias, batch):
    """The static MACs equal what FlopCounterMode counts on the unfused path (need_weights=True: Q·Kᵀ and A·V
    as two bmm), and what archspec's counter (the fused CPU kernel counted) counts on the module it compiles.
    torch's own counter misses exactly Q·Kᵀ and A·V there (2·L·L·D per sample): the trap the counter avoids."""
    spec = one_op("self_attention", {"heads": heads, "bias": bias}, (length, features))
    static = archspec.analyze(spec, batch=batch).totals.macs
    x = torch.randn(batch, length, features)
    unfused = nn.MultiheadAttention(features, heads, bias=bias, batch_first=True)
    assert counted_macs(lambda t: unfused(t, t, t, need_weights=True), x) == static
    ours = archspec.compile(spec)
    assert counted_macs(ours, x, flop_counter()) == static
    assert counted_macs(ours, x) == static - batch * 2 * length * length * features


def test_causal_self_attention_masks_the_future():
    """Equal (to rounding) to nn.MultiheadAttention with an explicit -inf mask on the unfused path; position i
    reads positions 0..i, measured by the gradient; the MACs are the unmasked ones (FlopCounterMode counts the
    products for every pair, whatever the mask hides)."""
    spec = one_op("self_attention", {"heads": 2, "causal": True}, (6, 8))
    ours = archspec.compile(spec).eval()
    reference = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    reference.load_state_dict({k.removeprefix("attn."): v for k, v in ours.state_dict().items()})
    mask = torch.full((6, 6), float("-inf")).triu(1)
    x = torch.randn(2, 6, 8, requires_grad=True)
    expected = reference(x, x, x, attn_mask=mask, need_weights=True)[0]
    y = ours(x)
    torch.testing.assert_close(y, expected)
    for position in range(6):
        (grad,) = torch.autograd.grad(y[0, position].sum(), x, retain_graph=True)
        assert sorted({int(i) for i in grad[0].abs().sum(1).nonzero()}) == list(range(position + 1))
    report = archspec.analyze(spec, batch=2)
    assert report.layers[0].rf.kind == POSITION_DEPENDENT
    masked = nn.MultiheadAttention(8, 2, batch_first=True)
    assert report.totals.macs == counted_macs(lambda t: masked(t, t, t, attn_mask=mask, need_weights=True), x)
    assert_static_equals_measured(spec, batch=2)


def test_self_attention_field_is_global():
    spec = one_op("self_attention", {"heads": 1}, (5, 4))
    assert archspec.analyze(spec).layers[0].rf.kind == GLOBAL
    model = archspec.compile(spec).eval()
    x = torch.rand(1, 5, 4, requires_grad=True)
    y = model(x)
    for position in range(5):
        for feature in range(4):
            (grad,) = torch.autograd.grad(y[0, position, feature], x, retain_graph=True)
            assert bool((grad != 0).all()), (position, feature)  # every position, every feature
    causal_of_one = one_op("self_attention", {"heads": 1, "causal": True}, (1, 4))
    assert archspec.analyze(causal_of_one).layers[0].rf.kind == GLOBAL  # one position: nothing to hide


def test_the_parts_of_an_op_module_are_not_rows():
    """MultiheadAttention holds out_proj but uses its weight itself: it is not a row, every row is a submodule,
    and --verify and the per-row truth agree."""
    spec = {
        "archspec": 1,
        "name": "encoderish",
        "input": [6, 10],
        "layers": [
            {"linear": {"out": 8}},
            {"self_attention": {"heads": 2}, "name": "self_attention"},
            {"linear": {"out": 3}},
        ],
    }
    report = archspec.analyze(spec, batch=2)
    model = archspec.compile(spec)
    assert [row.path for row in report.layers] == ["0", "self_attention", "2"]
    assert "self_attention.out_proj" in dict(model.named_modules())
    for row in report.layers:
        model.get_submodule(row.path)
    assert verify(model, report) == []
    assert_static_equals_measured(spec, batch=2)


# --- window_attention -----------------------------------------------------------------------------------------

# (H, W, C, window, shift, heads, qkv_bias, proj_bias): exact tilings, padding, a shift with its mask, the
# shift dropped along a dim one window covers (both dims, or one), a 1×1 map, rectangular windows.
WINDOW_CASES = [
    (8, 8, 8, 4, 0, 2, True, True),
    (8, 8, 8, 4, 2, 2, True, True),
    (7, 5, 4, 3, 1, 2, True, True),
    (9, 10, 6, [3, 4], [1, 2], 3, False, True),
    (5, 5, 4, 7, 3, 2, True, False),
    (6, 3, 4, [2, 4], [1, 2], 2, True, True),
    (1, 1, 6, 7, 3, 3, True, True),
    (14, 14, 12, 7, 3, 4, True, True),
]


def _window_args(window, shift, heads, qkv_bias, proj_bias, **extra) -> dict:
    return {"window": window, "shift": shift, "heads": heads, "qkv_bias": qkv_bias, "proj_bias": proj_bias, **extra}


def _pair(value) -> list[int]:
    return list(value) if isinstance(value, list) else [value, value]


def _torchvision(channels, window, shift, heads, qkv_bias, proj_bias, **extra) -> nn.Module:
    return TorchvisionWindowAttention(channels, _pair(window), _pair(shift), heads, qkv_bias, proj_bias, **extra)


@pytest.mark.parametrize("case", WINDOW_CASES, ids=[str(case[:5]) for case in WINDOW_CASES])
def test_window_attention_is_torchvisions(case):
    """The same keys, dtypes and initial values under a seed; torchvision's weights load strictly; outputs are
    bitwise equal in eval and, with both dropouts, in training under the same seed."""
    height, width, channels, window, shift, heads, qkv_bias, proj_bias = case
    extra = {"attention_dropout": 0.2, "dropout": 0.1}
    spec = one_op("window_attention", _window_args(window, shift, heads, qkv_bias, proj_bias, **extra), case[:3])
    torch.manual_seed(0)
    reference = _torchvision(channels, window, shift, heads, qkv_bias, proj_bias, **extra)
    torch.manual_seed(0)
    ours = archspec.compile(spec)
    theirs = {f"attn.{key}": value for key, value in reference.state_dict().items()}
    assert [(k, v.dtype, v.shape) for k, v in ours.state_dict().items()] == [
        (k, v.dtype, v.shape) for k, v in theirs.items()
    ]
    for key, value in theirs.items():
        assert torch.equal(ours.state_dict()[key], value), key
    randomise(reference, seed=5)
    ours.load_state_dict({f"attn.{k}": v for k, v in reference.state_dict().items()}, strict=True)
    x = torch.randn(2, height, width, channels)
    for train in (False, True):
        reference.train(train)
        ours.train(train)
        torch.manual_seed(11)
        expected = reference(x)
        torch.manual_seed(11)
        assert torch.equal(ours(x), expected), train


@pytest.mark.parametrize("case", WINDOW_CASES, ids=[str(case[:5]) for case in WINDOW_CASES])
@pytest.mark.parametrize("batch", [1, 3])
def test_window_attention_counts_are_torchvisions(case, batch):
    """Parameters and buffers = numel() of torchvision's module (its relative_position_index is a persistent
    buffer); MACs = FlopCounterMode / 2 on torchvision's module with autograd on (its matmuls are plain bmm),
    and the compiled module agrees row by row."""
    height, width, channels, window, shift, heads, qkv_bias, proj_bias = case
    spec = one_op("window_attention", _window_args(window, shift, heads, qkv_bias, proj_bias), case[:3])
    report = archspec.analyze(spec, batch=batch)
    reference = _torchvision(channels, window, shift, heads, qkv_bias, proj_bias)
    assert "relative_position_index" in reference.state_dict()
    assert report.totals.params == numel(reference.parameters())
    assert report.totals.buffers == numel(reference.buffers())
    assert report.totals.macs == counted_macs(reference, torch.randn(batch, height, width, channels))
    assert_static_equals_measured(spec, batch=batch)


def _reads(model: nn.Module, shape: tuple[int, int, int], position: tuple[int, int]) -> set[tuple[int, int]]:
    """The (h, w) input positions whose values change output ``position``, from the gradient (float64)."""
    x = torch.rand(1, *shape, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(model(x)[0, position[0], position[1]].sum(), x)
    return {(int(h), int(w)) for h, w in grad[0].abs().sum(-1).nonzero()}


def _shifted_window(position, size, window, shift) -> set[tuple[int, int]]:
    """The real positions of the window that holds ``position`` in the grid of windows over the map padded to
    whole windows and rolled back by ``shift`` (Swin's shifted grid), written from the paper's description."""
    padded = [-(-n // w) * w for n, w in zip(size, window, strict=True)]

    def cell(p):
        return tuple(((p[d] - shift[d]) % padded[d]) // window[d] for d in range(2))

    return {(h, w) for h in range(size[0]) for w in range(size[1]) if cell((h, w)) == cell(position)}


@pytest.mark.parametrize(
    ("size", "window", "shift"),
    [((6, 6), [3, 3], [0, 0]), ((7, 5), [3, 2], [1, 1]), ((8, 8), [4, 4], [2, 2])],
)
def test_window_attention_field_is_each_positions_window(size, window, shift):
    """A position reads exactly its own window of the (shifted) grid — the mask adds -100 before the softmax,
    so positions brought together by the roll weigh e**-100, not 0 — which is no sliding window: two
    positions of one window read the same set, so the field is reported as position dependent."""
    spec = one_op("window_attention", {"window": window, "shift": shift, "heads": 1}, (*size, 2))
    assert archspec.analyze(spec).layers[0].rf.kind == POSITION_DEPENDENT
    model = archspec.compile(spec).double().eval()
    for h in range(size[0]):
        for w in range(size[1]):
            assert _reads(model, (*size, 2), (h, w)) == _shifted_window((h, w), size, window, shift), (h, w)


def test_window_attention_over_one_window_is_global():
    spec = one_op("window_attention", {"window": 7, "shift": 3, "heads": 1}, (5, 6, 2))
    assert archspec.analyze(spec).layers[0].rf.kind == GLOBAL
    model = archspec.compile(spec).double().eval()
    every = {(h, w) for h in range(5) for w in range(6)}
    assert all(_reads(model, (5, 6, 2), (h, w)) == every for h in range(5) for w in range(6))


@pytest.mark.parametrize("size", [(1, 1), (1, 9), (8, 1), (2, 3)])
def test_window_attention_takes_every_map_size(size):
    """Any H, W >= 1: the map is padded to whole windows (as torchvision's); only C must be a multiple of heads."""
    spec = one_op("window_attention", {"window": 7, "shift": 3, "heads": 2}, (*size, 4))
    assert archspec.analyze(spec).min_input[1] == 1  # W: every size works (the layout's C and H are fixed)
    reference = randomise(_torchvision(4, 7, 3, 2, True, True), seed=2).eval()
    ours = archspec.compile(spec).eval()
    ours.load_state_dict({f"attn.{k}": v for k, v in reference.state_dict().items()})
    x = torch.randn(2, *size, 4)
    assert torch.equal(ours(x), reference(x))


# --- both -----------------------------------------------------------------------------------------------------

BOTH = [
    one_op("self_attention", {"heads": 2, "causal": True}, (5, 8)),
    one_op("window_attention", {"window": 3, "shift": 1, "heads": 2}, (7, 5, 4)),
]


@pytest.mark.parametrize("spec", BOTH, ids=["self_attention", "window_attention"])
def test_copies_and_generated_source_compute_the_same(spec):
    model = archspec.compile(spec).eval()
    x = torch.randn(2, *spec["input"])
    expected = model(x)
    for other in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert torch.equal(other(x), expected)
    namespace: dict = {"__name__": "generated"}
    exec(compile(generate_source(archspec.expand(spec)), "<generated>", "exec"), namespace)
    generated = namespace["build_model"]()
    generated.load_state_dict(model.state_dict(), strict=True)
    assert torch.equal(generated.eval()(x), expected)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
@pytest.mark.parametrize("spec", BOTH, ids=["self_attention", "window_attention"])
def test_torchscript_and_export_run_the_same(spec):
    """TorchScript compiles no super() call, so SelfAttention spells out nn.MultiheadAttention's general path
    there (equal to rounding to the fused inference kernel it uses in eval under no_grad); the window
    attention scripts as it is. torch.export traces both."""
    model = archspec.compile(spec).eval()
    x = torch.randn(2, *spec["input"])
    with torch.no_grad():
        expected = model(x)
        torch.testing.assert_close(torch.jit.script(model)(x), expected)
        torch.testing.assert_close(torch.export.export(model, (x,)).module()(x), expected)
    model.train()
    torch.manual_seed(0)
    expected = model(x)
    torch.manual_seed(0)
    torch.testing.assert_close(torch.jit.script(model)(x), expected)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "weights"), [("vit_b_16", "ViT_B_16_Weights"), ("swin_t", "Swin_T_Weights")])
def test_the_counter_reads_torchvisions_published_gflops(name, weights):
    """archspec's counter (autograd on, the fused CPU attention kernel counted) on torchvision's full networks
    gives torchvision's published GFLOPS (its weights' metadata, in G MACs to three decimals); under no_grad
    the fused inference path hides ViT's attention from it (11.27 G), and with autograd on but torch's counter
    as it is, the CPU kernel's Q·Kᵀ and A·V are missing (16.85 G). Swin's attention is plain matmuls."""
    import torchvision

    model = getattr(torchvision.models, name)(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    macs = counted_macs(model, x, flop_counter())
    assert round(macs / 1e9, 3) == getattr(torchvision.models, weights).IMAGENET1K_V1.meta["_ops"]
    if name == "vit_b_16":
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            model(x)
        assert counter.get_total_flops() // 2 < counted_macs(model, x) < macs
