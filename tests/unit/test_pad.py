"""The ``pad`` op (zeros at the end of one dim: a fixed number and/or up to a multiple), which Swin's patch
merging uses as torchvision pads an odd map (``F.pad(x, (0, 0, 0, W % 2, 0, H % 2))``). Static shapes against
the built module and against torch's own ``F.pad``; located errors naming the shape; the field is pointwise; the
module scripts, exports and is copied by the code generator. The contract test checks its examples."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import archspec
from archspec.render.codegen import generate_source


def spec(layers: list, input_shape: list[int]) -> dict:
    return {"archspec": 1, "name": "pad_test", "input": input_shape, "layers": layers}


CHANNELS_LAST = [{"permute": {"dims": [0, 2, 3, 1]}}]


@pytest.mark.parametrize(("height", "width"), [(7, 7), (8, 7), (7, 8), (8, 8), (1, 1), (15, 23)])
def test_pads_an_odd_map_as_torchvisions_patch_merging(height, width):
    """torchvision: ``F.pad(x, (0, 0, 0, W % 2, 0, H % 2))`` on [N, H, W, C]; two pads to a multiple of 2."""
    layers = [*CHANNELS_LAST, {"pad": {"dim": 1, "multiple": 2}}, {"pad": {"dim": 2, "multiple": 2}}]
    network = spec(layers, [4, height, width])
    report = archspec.analyze(network, batch=3)
    model = archspec.compile(network)
    x = torch.randn(3, 4, height, width, generator=torch.Generator().manual_seed(0))
    channels_last = x.permute(0, 2, 3, 1)
    expected = F.pad(channels_last, (0, 0, 0, width % 2, 0, height % 2))
    got = model(x)
    assert report.output_shape == list(expected.shape)
    torch.testing.assert_close(got, expected, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("args", "input_shape", "length"),
    [
        ({"dim": 2, "after": 2}, [3, 5], 7),
        ({"dim": 2, "multiple": 7}, [3, 15], 21),  # Swin's window padding: 15 → 3 windows of 7
        ({"dim": 2, "after": 1, "multiple": 4}, [3, 8], 12),  # 8 + 1 → the next multiple of 4
        ({"dim": -1, "multiple": 3}, [2, 4, 9], 9),  # already a multiple
        ({"dim": 1, "after": 2}, [3, 4, 4], 5),  # the channels
    ],
)
def test_length_is_after_then_up_to_a_multiple(args, input_shape, length):
    network = spec([{"pad": args}], input_shape)
    report = archspec.analyze(network)
    x = torch.randn(2, *input_shape)
    y = archspec.compile(network)(x)
    dim = args["dim"] % (len(input_shape) + 1)
    assert y.shape[dim] == length == report.output_shape[dim]
    kept = y.narrow(dim, 0, x.shape[dim])
    torch.testing.assert_close(kept, x, rtol=0, atol=0)  # the input first, then zeros
    assert not y.narrow(dim, x.shape[dim], length - x.shape[dim]).any()


@pytest.mark.parametrize(
    ("args", "argument", "words"),
    [
        ({"dim": 0, "multiple": 2}, "dim", ["dim 0", "15×15×3", "batch"]),
        ({"dim": 4}, "dim", ["dim 4", "15×15×3"]),
        ({"dim": -4}, "dim", ["dim -4", "15×15×3"]),
        ({"dim": 1, "multiple": 0}, "multiple", []),
        ({"dim": 1, "after": -1}, "after", []),
        ({"dim": 1, "after": 2**31 - 1}, None, ["15×15×3", "largest size"]),
    ],
)
def test_located_errors_name_the_shape(args, argument, words):
    network = spec([*CHANNELS_LAST, {"pad": args}], [3, 15, 15])
    with pytest.raises(archspec.SpecError) as caught:
        archspec.analyze(network)
    (diagnostic,) = caught.value.diagnostics
    text = str(diagnostic)
    assert "layers[1].pad" in text
    if argument:
        assert f"pad.{argument}" in text
    for word in words:
        assert word in text


def test_field_is_pointwise():
    """Zeros appended at the end move no position: output i reads input i, so a conv after the pad sees what it
    sees without the pad (the appended positions lie outside the input, like a conv's padding)."""
    conv = {"conv": {"out": 2, "kernel": 3, "stride": 2}}
    padded = archspec.analyze(spec([conv, {"pad": {"dim": 2, "multiple": 4}}, conv], [1, 31]))
    plain = archspec.analyze(spec([conv, conv], [1, 31]))
    assert padded.to_dict()["receptive_field"] == plain.to_dict()["receptive_field"]
    assert padded.to_dict()["receptive_field"]["size"] == [7]


SWIN_LIKE = spec(
    [
        {"conv": {"out": 8, "kernel": 4, "stride": 4}},
        *CHANNELS_LAST,
        {"swin_transformer_block": {"dim": 8, "heads": 2, "window": 4, "shift": 2}},
        {"patch_merging": {"dim": 8}},
    ],
    [3, 28, 36],
)


def test_scripts_exports_and_generates_code():
    model = archspec.compile(SWIN_LIKE).eval()
    x = torch.randn(2, 3, 28, 36, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = model(x)
        torch.testing.assert_close(torch.jit.script(model)(x), expected, rtol=0, atol=0)
        exported = torch.export.export(model, (x,))
        torch.testing.assert_close(exported.module()(x), expected, rtol=0, atol=0)
    namespace: dict = {"__name__": "generated"}
    exec(compile(generate_source(archspec.expand(SWIN_LIKE)), "<generated>", "exec"), namespace)  # our own code
    generated = namespace["build_model"]().eval()
    generated.load_state_dict(model.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(generated(x), expected, rtol=0, atol=0)
