"""Layout and selection ops (``permute``, ``transpose``, ``reshape``, ``unflatten``, ``select``, ``slice``,
``channel_shuffle``) and the ``channel_split`` container (issue 11): chains as the modern networks write them
agree with the compiled module (tests/truth.py), the modules equal torch's own expressions, inputs they cannot
take are located errors naming the shape, and receptive fields follow the spatial dims through them or say
"not tracked" (the gradient probe's side of it is tests/property/test_receptive_field_probe.py)."""

from __future__ import annotations

import copy
import json
import pickle

import pytest
import torch
from truth import assert_static_equals_measured

import archspec


def spec(layers: list, input: list[int] | None = None, **extra) -> dict:
    return {"archspec": 1, "name": "layout_case", "input": input or [8, 6, 10], "layers": layers, **extra}


CHANNELS_LAST = [{"permute": {"dims": [0, 2, 3, 1]}}]
CHANNELS_FIRST = [{"permute": {"dims": [0, 3, 1, 2]}}]
# ConvNeXt's block body: depthwise 7x7, channels last, an MLP on the channels, channels first again.
CONVNEXT_BODY = spec(
    [
        {"conv": {"out": 8, "kernel": 7, "padding": 3, "groups": 8}},
        *CHANNELS_LAST,
        {"linear": {"out": 32}},
        "gelu",
        {"linear": {"out": 8}},
        {"layer_scale": {"dim": -1}},
        *CHANNELS_FIRST,
    ]
)
# ViT's patch embedding to a sequence and its class-token readout.
VIT_SEQUENCE = spec(
    [
        {"conv": {"out": 12, "kernel": 2, "stride": 2}},
        {"reshape": {"shape": [12, -1]}},
        {"transpose": {"dim0": 1, "dim1": 2}},
        "class_token",
        {"select": {"dim": 1, "index": 0}},
        {"linear": {"out": 5}},
    ]
)
# Swin's patch merging: the four 2x2 phases of [H, W, C], concatenated along the channels.
SWIN_MERGE = spec(
    [
        *CHANNELS_LAST,
        {
            "concat": {
                "dim": -1,
                "branches": [
                    [{"slice": {"dim": 1, "start": a, "step": 2}}, {"slice": {"dim": 2, "start": b, "step": 2}}]
                    for a, b in ((0, 0), (1, 0), (0, 1), (1, 1))
                ],
            }
        },
        {"linear": {"out": 16, "bias": False}},
    ]
)
SHUFFLE = spec(
    [
        {"conv": {"out": 12, "kernel": 1}},
        {"unflatten": {"dim": 1, "sizes": [3, -1]}},
        {"transpose": {"dim0": 1, "dim1": 2}},
        {"reshape": {"shape": [12, 6, 10]}},
        {"channel_shuffle": {"groups": 4}},
    ]
)
SPLIT = spec([{"channel_split": {"branches": [[], [{"conv": {"out": 4, "kernel": 3, "padding": 1}}, "relu"]]}}])
CASES = {
    "convnext_body": CONVNEXT_BODY,
    "vit_sequence": VIT_SEQUENCE,
    "swin_merge": SWIN_MERGE,
    "shuffle": SHUFFLE,
    "split": SPLIT,
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("batch", [1, 3])
def test_chains_static_equals_measured(name, batch):
    assert_static_equals_measured(CASES[name], batch=batch)


def test_modules_compute_what_torch_writes():
    x = torch.randn(2, 8, 6, 10)
    model = archspec.compile(
        spec([*CHANNELS_LAST, {"select": {"dim": 1, "index": -1}}, {"slice": {"dim": 2, "step": 3}}])
    )
    torch.testing.assert_close(model(x), x.permute(0, 2, 3, 1)[:, -1][:, :, ::3], rtol=0, atol=0)
    swin = archspec.compile(SWIN_MERGE)
    torch.nn.init.eye_(swin.get_submodule("2").weight)  # the identity on the 32 merged channels... of 16
    h = x.permute(0, 2, 3, 1)
    merged = torch.cat([h[:, 0::2, 0::2], h[:, 1::2, 0::2], h[:, 0::2, 1::2], h[:, 1::2, 1::2]], -1)
    torch.testing.assert_close(swin(x), merged[..., :16], rtol=0, atol=0)
    shuffle = archspec.compile(spec([{"channel_shuffle": {"groups": 2}}], [4, 3]))
    y = torch.arange(8.0).reshape(2, 4, 1).expand(2, 4, 3)
    assert shuffle(y)[0, :, 0].tolist() == [0.0, 2.0, 1.0, 3.0]  # torchvision's channel_shuffle(x, 2)


def test_reshape_keeps_the_batch_and_infers_minus_one():
    report = archspec.analyze(spec([{"reshape": {"shape": [-1, 4]}}], [6, 2, 2]))
    assert report.output_shape == [1, 6, 4]
    assert archspec.analyze(spec([{"reshape": {"shape": [-1, 4]}}], [6, 2, 2]), batch=5).output_shape == [5, 6, 4]


ERRORS = [
    ({"permute": {"dims": [0, 2, 1]}}, "dims [0, 2, 1] is not an order of 4 dims: the input 8×6×10"),
    ({"permute": {"dims": [0, 1, 1, 2]}}, "names a dim twice"),
    ({"permute": {"dims": [1, 0, 2, 3]}}, "moves the batch (dim 0) of the input 8×6×10"),
    ({"transpose": {"dim0": 0, "dim1": 1}}, "dim0 0 is not a feature dimension of the input 8×6×10"),
    ({"transpose": {"dim0": 1, "dim1": 4}}, "dim1 4 is not a feature dimension of the input 8×6×10"),
    ({"reshape": {"shape": [7, -1]}}, "cannot reshape 8×6×10 into [7, -1]: 480 elements are not a multiple of 7"),
    ({"reshape": {"shape": [8, 6]}}, "cannot reshape 8×6×10 (480 elements) into 8×6 (48 elements)"),
    ({"reshape": {"shape": [-1, -1]}}, "more than one -1"),
    ({"unflatten": {"dim": 2, "sizes": [4, 2]}}, "cannot unflatten 6 (6 elements) into 4×2 (8 elements)"),
    ({"select": {"dim": 3, "index": 10}}, "index 10 is outside dim 3 of the input 8×6×10, which has 10 positions"),
    ({"select": {"dim": 0, "index": 0}}, "dim 0 is not a feature dimension of the input 8×6×10"),
    ({"slice": {"dim": 2, "start": 6}}, "keeps nothing of the input 8×6×10 (6 positions)"),
    ({"channel_shuffle": {"groups": 3}}, "groups 3 does not divide the 8 channels of the input 8×6×10"),
]


@pytest.mark.parametrize(("item", "message"), ERRORS, ids=[f"{next(iter(i))}-{n}" for n, (i, _) in enumerate(ERRORS)])
def test_inputs_an_op_cannot_take_are_located_errors_naming_the_shape(item, message):
    with pytest.raises(archspec.SpecError) as error:
        archspec.analyze(spec([{"relu": {}}, item]))
    text = str(error.value)
    assert message in text, text
    assert "layers[1]" in text and "<dict>:" in text


def test_select_and_shuffle_need_the_dims_they_name():
    with pytest.raises(archspec.SpecError, match=r"'select' takes inputs with 2 to 4 feature dimensions"):
        archspec.analyze(spec(["flatten", {"select": {"dim": 1, "index": 0}}]))
    with pytest.raises(archspec.SpecError, match=r"'channel_shuffle' takes \[C, \*spatial\].*its input is 480"):
        archspec.analyze(spec(["flatten", {"channel_shuffle": {"groups": 2}}]))


def test_the_readme_select_error():
    with pytest.raises(archspec.SpecError, match="index 5 is outside dim 2 of the input 4×5, which has 5 positions"):
        archspec.analyze(spec([{"select": {"dim": 2, "index": 5}}], [4, 5]))


# --- receptive fields ----------------------------------------------------------------------------------------


def test_field_follows_a_permute_to_channels_last_and_back():
    report = archspec.analyze(CONVNEXT_BODY)
    conv = report.layer("0").rf
    for path in ("1", "2", "3", "4", "5", "6"):
        rf = report.layer(path).rf
        assert rf.kind == "exact" and (rf.size, rf.jump, rf.padding) == (conv.size, conv.jump, conv.padding), path
    assert report.layer("1").rf.axes == (0, 1)  # H and W at feature dims 0 and 1 of [H, W, C]
    assert report.layer("6").rf.axes == ()  # back where they started
    rows = {row["path"]: row["rf"] for row in report.to_dict()["layers"]}
    assert rows["1"]["dims"] == [1, 2] and "dims" not in rows["6"]
    json.dumps(report.to_dict())


def test_a_slice_multiplies_the_jump_and_shifts_the_field():
    report = archspec.analyze(spec([{"conv": {"out": 4, "kernel": 3}}, {"slice": {"dim": 3, "start": 1, "step": 2}}]))
    rf = report.layer("1").rf
    assert (rf.size, rf.jump, rf.padding) == ((3, 3), (1, 2), (0, -1))
    assert rf.span(0, 1) == (1, 3) and rf.span(2, 1) == (5, 7)  # output i reads conv outputs 1 + 2i


def test_merging_or_selecting_spatial_dims_is_not_tracked():
    report = archspec.analyze(VIT_SEQUENCE)
    assert report.layer("0").rf.kind == "exact"
    for path in ("1", "2", "3"):
        rf = report.layer(path).rf
        assert rf.kind == "not_tracked" and rf.size == (), path
    assert report.layer("1").to_dict()["rf"]["kind"] == "not_tracked"
    flattened = archspec.analyze(spec([{"flatten": {"start": 2}}]))
    assert flattened.layer("0").rf.kind == "not_tracked"
    picked = archspec.analyze(spec([{"select": {"dim": 2, "index": 0}}]))
    assert picked.layer("0").rf.kind == "not_tracked"


def test_splitting_channels_into_groups_keeps_the_field():
    report = archspec.analyze(SHUFFLE)
    assert [report.layer(str(i)).rf.kind for i in range(5)] == ["exact"] * 5


def test_an_op_that_mixes_dim_1_where_a_spatial_dim_lies_loses_the_field():
    report = archspec.analyze(spec([*CHANNELS_LAST, {"conv": {"out": 3, "kernel": 1}}]))
    rf = report.layer("1").rf
    assert rf.kind == "not_tracked" and "dim 1" in rf.reason
    softmax = archspec.analyze(spec([*CHANNELS_LAST, {"softmax": {"dim": 1}}])).layer("1").rf
    assert softmax.kind == "not_tracked"
    assert archspec.analyze(spec([*CHANNELS_LAST, {"softmax": {"dim": -1}}])).layer("1").rf.kind == "exact"


def test_not_tracked_shows_in_the_table():
    from archspec.render.table import render_table

    text = render_table(archspec.analyze(VIT_SEQUENCE))
    assert "not tracked" in text


# --- channel_split ---------------------------------------------------------------------------------------------

SPLIT_BLOCK = spec(
    [{"unit": {}}, {"unit": {}}],
    blocks={
        "unit": {
            "module": "Unit",
            "layers": [
                {
                    "channel_split": {
                        "branches": [
                            [],
                            [{"sequential": [{"conv": {"out": 4, "kernel": 3, "padding": 1}}, "batchnorm", "relu"]}],
                        ]
                    },
                    "inline": True,
                },
                {"channel_shuffle": {"groups": 2}},
            ],
        }
    },
)


@pytest.mark.parametrize("case", [SPLIT, SPLIT_BLOCK], ids=["module", "inlined"])
def test_channel_split_is_chunk_then_concat_and_survives_copies(case):
    model = archspec.compile(case).eval()
    x = torch.randn(2, 8, 6, 10)
    with torch.no_grad():
        expected = model(x)
        if case is SPLIT:
            first, second = x.chunk(2, dim=1)
            branch = model.get_submodule("0.1")
            torch.testing.assert_close(expected, torch.cat([first, branch(second)], 1), rtol=0, atol=0)
        others = [
            copy.deepcopy(model),
            pickle.loads(pickle.dumps(model)),
            torch.fx.symbolic_trace(model),
            torch.export.export(model, (x,)).module(),
            torch.jit.script(model),
        ]
        for other in others:
            torch.testing.assert_close(other(x), expected, rtol=0, atol=0)


def test_inlined_channel_split_registers_the_branches_on_the_block():
    model = archspec.compile(SPLIT_BLOCK)
    assert [name for name, _ in model.get_submodule("0").named_children()] == ["sequential", "channel_shuffle"]
    assert type(model.get_submodule("0")).__name__ == "Unit"
    assert_static_equals_measured(SPLIT_BLOCK, batch=2)


def test_channel_split_errors():
    with pytest.raises(archspec.SpecError, match=r"cannot split the 8 channels of the input 8×6×10 into 3 equal parts"):
        archspec.analyze(spec([{"channel_split": {"branches": [[], [], []]}}]))
    with pytest.raises(archspec.SpecError, match=r"one part per branch, but it has 1"):
        archspec.analyze(spec([{"channel_split": {"branches": [[]]}}]))
    with pytest.raises(archspec.SpecError, match=r"cannot concatenate the branches' outputs along the channels"):
        archspec.analyze(spec([{"channel_split": {"branches": [[], [{"maxpool": {"kernel": 2}}]]}}]))
    with pytest.raises(archspec.SpecError, match=r"'channel_split' takes one input, 2 arrive through 'from'"):
        archspec.analyze(
            spec([{"relu": {}, "id": "a"}, {"channel_split": {"branches": [[], []]}, "from": ["a", "prev"]}])
        )
    with pytest.raises(archspec.SpecError, match=r"dim"):
        archspec.analyze(spec([{"channel_split": {"dim": 2, "branches": [[], []]}}]))
