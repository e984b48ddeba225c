"""Parameter items (class_token, pos_embedding, layer_scale): each holds one tensor, registered on the enclosing
module under the item's name, as torchvision registers it — so a hand-written module with torchvision's layout
has the same state-dict keys, and with the same weights the same outputs, under every way PyTorch runs a
module (eager, deepcopy, pickle, fx, torch.compile, torch.export) and in the generated source."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch
from torch import nn

import archspec
from archspec.analysis.receptive_field import EXACT, POSITION_DEPENDENT
from archspec.backend.verify import verify
from archspec.render.codegen import generate_source

# A ViT in miniature: 16 patches of 3×4×4 values (already cut and flattened: the language has no permute yet, so
# the patch embedding is a linear over each patch, which is what torchvision's conv_proj computes), a class
# token, an encoder block holding the positional embedding, and a head over every position.
TINY_VIT = {
    "archspec": 1,
    "name": "tiny_vit",
    "input": [16, 48],
    "blocks": {
        "encoder": {
            "module": "Encoder",
            "params": {"length": "required"},
            "layers": [{"pos_embedding": {"length": "$length"}}, {"dropout": {"p": 0.0}}],
        }
    },
    "layers": [
        {"linear": {"out": 8}, "name": "conv_proj"},
        {"class_token": None, "name": "class_token"},
        {"encoder": {"length": 17}, "name": "encoder"},
        "flatten",
        {"linear": {"out": 3}, "name": "heads"},
    ],
}


class Encoder(nn.Module):
    def __init__(self, length: int, dim: int):
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.empty(1, length, dim).normal_(std=0.02))  # torchvision's Encoder
        self.dropout = nn.Dropout(0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x + self.pos_embedding)


class HandWrittenViT(nn.Module):
    """torchvision's VisionTransformer layout: class_token on the root, pos_embedding on the encoder."""

    def __init__(self):
        super().__init__()
        self.conv_proj = nn.Linear(48, 8)
        self.class_token = nn.Parameter(torch.zeros(1, 1, 8))
        self.encoder = Encoder(17, 8)
        self.heads = nn.Linear(17 * 8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_proj(x)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        return self.heads(self.encoder(x).flatten(1))


# ConvNeXt's CNBlock in miniature: layer_scale * block(input) + input, the scale registered on the block's module
# (named apart from the built-in cn_block of archspec/blocks/convnext.yaml, the full one).
TINY_CONVNEXT = {
    "archspec": 1,
    "name": "tiny_convnext",
    "input": [3, 16, 16],
    "blocks": {
        "mini_cn_block": {
            "module": "CNBlock",
            "params": {"dim": "required"},
            "layers": [
                {
                    "add": {
                        "branches": {
                            "body": [
                                {
                                    "sequential": [
                                        {"conv": {"out": "$dim", "kernel": 3, "padding": 1, "groups": "$dim"}},
                                        "gelu",
                                        {"conv": {"out": "$dim", "kernel": 1}},
                                    ],
                                    "name": "block",
                                },
                                {"layer_scale": {"init": 0.1}},
                            ],
                            "shortcut": [],
                        }
                    },
                    "inline": True,
                }
            ],
        }
    },
    "layers": [
        {
            "sequential": [
                {"sequential": [{"conv": {"out": 8, "kernel": 4, "stride": 4}}]},
                {"sequential": [{"mini_cn_block": {"dim": 8}}, {"mini_cn_block": {"dim": 8}}]},
            ],
            "name": "features",
        },
        "global_avgpool",
        "flatten",
        {"linear": {"out": 5}, "name": "classifier"},
    ],
}


class CNBlock(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(dim, dim, 3, padding=1, groups=dim), nn.GELU(), nn.Conv2d(dim, dim, 1))
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * 0.1)  # torchvision's CNBlock

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_scale * self.block(x) + x


class HandWrittenConvNeXt(nn.Module):
    def __init__(self):
        super().__init__()
        stem = nn.Sequential(nn.Conv2d(3, 8, 4, stride=4))
        self.features = nn.Sequential(stem, nn.Sequential(CNBlock(8), CNBlock(8)))
        self.pool, self.flatten = nn.AdaptiveAvgPool2d(1), nn.Flatten()
        self.classifier = nn.Linear(8, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(self.pool(self.features(x))))


CASES = [(TINY_VIT, HandWrittenViT), (TINY_CONVNEXT, HandWrittenConvNeXt)]
IDS = ["vit", "convnext"]


def _randomised(module: nn.Module) -> nn.Module:
    """Every parameter random (the class token starts at zeros, which would hide a missing token)."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator))
    return module.eval()


def _pair(spec, hand_written):
    reference = _randomised(hand_written())
    model = archspec.compile(spec).eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, *archspec.expand(spec).input, generator=torch.Generator().manual_seed(2))
    return model, reference, x


@pytest.mark.parametrize(("spec", "hand_written"), CASES, ids=IDS)
def test_state_dict_keys_are_the_hand_written_modules(spec, hand_written):
    keys = list(archspec.compile(spec).state_dict())
    assert keys == list(hand_written().state_dict())
    held = [key for key in keys if key.split(".")[-1] in TENSOR_NAMES]
    expected = (
        ["class_token", "encoder.pos_embedding"]
        if spec is TINY_VIT
        else [
            "features.1.0.layer_scale",
            "features.1.1.layer_scale",
        ]
    )
    assert held == expected  # on the enclosing module, not `class_token.weight` of a child


@pytest.mark.parametrize(("spec", "hand_written"), CASES, ids=IDS)
def test_outputs_equal_the_hand_written_module(spec, hand_written):
    model, reference, x = _pair(spec, hand_written)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), rtol=0, atol=0)
        for other in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
            torch.testing.assert_close(other(x), reference(x), rtol=0, atol=0)
            assert list(other.state_dict()) == list(reference.state_dict())


@pytest.mark.parametrize(("spec", "hand_written"), CASES, ids=IDS)
def test_fx_trace_and_export_run_the_same(spec, hand_written):
    model, reference, x = _pair(spec, hand_written)
    traced = torch.fx.symbolic_trace(model)
    attributes = {node.target for node in traced.graph.nodes if node.op == "get_attr"}
    assert attributes == {key for key, _ in model.named_parameters() if key.split(".")[-1] in TENSOR_NAMES}
    exported = torch.export.export(model, (x,))
    with torch.no_grad():
        torch.testing.assert_close(traced(x), reference(x), rtol=0, atol=0)
        torch.testing.assert_close(exported.module()(x), reference(x))
    assert set(exported.state_dict) == set(model.state_dict())


TENSOR_NAMES = {"class_token", "pos_embedding", "layer_scale"}


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "hand_written"), CASES, ids=IDS)
def test_torch_compile_runs_the_same(spec, hand_written):
    model, reference, x = _pair(spec, hand_written)
    compiled = torch.compile(model, backend="aot_eager", fullgraph=True)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), reference(x))


def test_assigned_parameter_is_what_runs():
    model, reference, x = _pair(TINY_VIT, HandWrittenViT)
    with torch.no_grad():
        before = model(x)
        model.class_token = nn.Parameter(torch.full((1, 1, 8), 3.0))
        reference.class_token = nn.Parameter(torch.full((1, 1, 8), 3.0))
        model.encoder.pos_embedding = nn.Parameter(torch.ones(1, 17, 8))
        reference.encoder.pos_embedding = nn.Parameter(torch.ones(1, 17, 8))
        after = model(x)
    assert not torch.equal(before, after)
    torch.testing.assert_close(after, reference(x), rtol=0, atol=0)


def test_torch_jit_script_refuses_parameter_items_by_name():
    with pytest.raises(RuntimeError, match=r"parameter items .*class_token"):
        torch.jit.script(archspec.compile(TINY_VIT))
    with pytest.raises(RuntimeError, match="layer_scale"):
        torch.jit.script(archspec.compile(TINY_CONVNEXT))


@pytest.mark.parametrize("spec", [TINY_VIT, TINY_CONVNEXT], ids=IDS)
def test_generated_source_has_the_same_keys_and_outputs(spec):
    network = archspec.expand(spec)
    compiled = _randomised(archspec.compile(network))
    namespace: dict = {"__name__": "generated"}
    exec(compile(generate_source(network), "<generated>", "exec"), namespace)  # the test runs its own output
    generated = namespace["build_model"]().eval()
    assert list(generated.state_dict()) == list(compiled.state_dict())
    generated.load_state_dict(compiled.state_dict(), strict=True)
    x = torch.randn(2, *network.input)
    with torch.no_grad():
        torch.testing.assert_close(generated(x), compiled(x), rtol=0, atol=0)


def test_initialisation_is_torchvisions_in_spec_order():
    torch.manual_seed(0)
    model = archspec.compile(TINY_VIT)
    torch.manual_seed(0)
    reference = HandWrittenViT()  # the same draws in the same order: conv_proj, then the embedding, then heads
    for (key, ours), (their_key, theirs) in zip(
        model.state_dict().items(), reference.state_dict().items(), strict=True
    ):
        assert key == their_key
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    assert torch.count_nonzero(model.class_token) == 0
    scales = archspec.compile(TINY_CONVNEXT).features[1][0].layer_scale
    assert scales.shape == (8, 1, 1) and torch.equal(scales, torch.ones(8, 1, 1) * 0.1)


@pytest.mark.parametrize("spec", [TINY_VIT, TINY_CONVNEXT], ids=IDS)
def test_report_rows_name_parameters_and_modules(spec):
    report = archspec.analyze(spec)
    model = archspec.compile(spec)
    tensor_rows = [row for row in report.layers if row.parameter]
    assert tensor_rows and all(row.op in TENSOR_NAMES for row in tensor_rows)
    for row in report.layers:
        if row.parameter:
            assert row.leaf and row.macs == 0 and row.activation_bytes == 0
            assert row.params == model.get_parameter(row.path).numel()
            assert row.to_dict()["parameter"] is True
        else:
            model.get_submodule(row.path)
    assert report.totals.params == sum(p.numel() for p in model.parameters())  # each counted once
    assert verify(model, report) == []


def test_fields_layer_scale_and_pos_embedding_pointwise_class_token_position_dependent():
    field_of = {row.path: row.rf for row in archspec.analyze(TINY_CONVNEXT).layers}
    assert field_of["features.1.0.layer_scale"] == field_of["features.1.0.block"]
    assert field_of["features.1.0.layer_scale"].kind == EXACT
    spec = {
        "archspec": 1,
        "name": "tokens",
        "input": [5, 6],
        "layers": [{"pos_embedding": {}}, {"class_token": None}, {"layer_scale": {"dim": -1}}],
    }
    rows = archspec.analyze(spec).layers
    assert [row.rf.kind for row in rows] == [EXACT, POSITION_DEPENDENT, POSITION_DEPENDENT]
    assert rows[0].rf.size == (1,)
    # Measured: output position 0 is the token and reads no input; position i reads input i - 1 only.
    model = archspec.compile(spec).eval()
    x = torch.randn(1, 5, 6, requires_grad=True)
    y = model(x)
    for position in range(6):
        (grad,) = torch.autograd.grad(y[0, position].sum(), x, retain_graph=True)
        reads = sorted({int(i) for i in grad[0].abs().sum(1).nonzero()})
        assert reads == ([] if position == 0 else [position - 1])


VIT_B16_PATCHES = {
    "archspec": 1,
    "name": "patches",
    "input": [3, 224, 224],
    "layers": [
        {"conv": {"out": 4, "kernel": 16, "stride": 16}},
        {"flatten": {"start": 2}},  # [4, 196]: a sequence of 196 positions along dim 2
        {"pos_embedding": {"length": 196, "dim": 2}},
    ],
}


def test_a_fixed_embedding_fixes_the_smallest_input():
    report = archspec.analyze(VIT_B16_PATCHES)
    assert report.min_input == [3, 224, 224]  # ViT-B/16: 14×14 patches, and no fewer
    assert archspec.analyze(VIT_B16_PATCHES, input_shape=[3, 239, 239]).min_input == [3, 224, 224]
    wide = {
        **VIT_B16_PATCHES,
        "input": [3, 224, 448],
        "layers": [*VIT_B16_PATCHES["layers"][:2], {"pos_embedding": {"length": 392, "dim": 2}}],
    }
    assert archspec.analyze(wide).min_input == [3, 224, 448]
    # Exactly one size: 256 positions from a 16×16 input that nothing shrinks.
    one = {
        "archspec": 1,
        "name": "one",
        "input": [3, 16, 16],
        "layers": [{"flatten": {"start": 2}}, {"pos_embedding": {"length": 256, "dim": 2}}],
    }
    assert archspec.analyze(one).min_input == [3, 16, 16]
    for size in (223, 240):  # measured: the compiled module at other sizes fails where the report says
        with pytest.raises(RuntimeError):
            archspec.compile(VIT_B16_PATCHES)(torch.randn(1, 3, size, size))


def test_pointwise_fields_agree_with_the_gradient_probe():
    from probe import probe_indices, receptive_span

    spec = {
        "archspec": 1,
        "name": "scaled",
        "input": [2, 12, 12],
        "layers": [
            {"conv": {"out": 3, "kernel": 3, "stride": 2}},
            {"layer_scale": {}},
            {"pos_embedding": {}},
            {"conv": {"out": 2, "kernel": 3}},
        ],
    }
    report = archspec.analyze(spec)
    model = archspec.compile(spec)
    field = report.layers[-1].rf
    assert field.kind == EXACT and report.layers[1].rf == report.layers[0].rf == report.layers[2].rf
    for index in probe_indices(report.output_shape[2:]):
        spans = receptive_span(model, [2, 12, 12], index)
        assert spans == [field.span(i, d) for d, i in enumerate(index)]
