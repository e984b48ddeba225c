"""Vision Transformers (issue 11): the bundled vit_b_16 spec is torchvision's ViT-B/16, and vit_b_32 and vit_l_16
come out of it with overrides. Ground truth is torchvision: its published metadata (num_params, and GFLOPS as
`_ops`, which is MACs in billions), Σ numel of its model's parameters and buffers, archspec's counter
(FlopCounterMode with autograd on and the fused CPU attention kernel counted) on its model, its module tree, its
assertion on the image size, and its outputs with its state dict (seeded random values, tests/weights.py) loaded
strictly — in eval mode, and in training mode under the same seed (dropout after the positional embedding, on
the attention weights, after the attention and in the MLPs draws in the same order).

The full-size networks are slow; the default run holds torchvision's VisionTransformer in miniature (the same
classes and code, 32x32 images of 8x8 patches, two layers) to the same spec with overrides."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torchvision.models.vision_transformer import VisionTransformer
from weights import numel, randomise

import archspec
from archspec.analysis.receptive_field import NOT_TRACKED
from archspec.backend.verify import flop_counter
from archspec.render.codegen import generate_source

# torchvision's builder, its weights enum, and the overrides of the vit_b_16 spec that give the same network
VARIANTS = [
    pytest.param("vit_b_16", "ViT_B_16_Weights", {}, id="vit_b_16"),
    pytest.param("vit_b_32", "ViT_B_32_Weights", {"patch": 32}, id="vit_b_32"),
    pytest.param(
        "vit_l_16", "ViT_L_16_Weights", {"hidden": 1024, "layers": 24, "heads": 16, "mlp_dim": 4096}, id="vit_l_16"
    ),
]
SLOW_VARIANTS = [pytest.param(*case.values, id=case.id, marks=pytest.mark.slow) for case in VARIANTS]
# torchvision's VisionTransformer at 32x32 with 8x8 patches (16 patches and the class token), and the overrides
TINY = {"image_size": 32, "patch_size": 8, "num_layers": 2, "num_heads": 4, "hidden_dim": 32, "mlp_dim": 48}
TINY_OVERRIDES = {"image_size": 32, "patch": 8, "layers": 2, "heads": 4, "hidden": 32, "mlp_dim": 48}
TINY_INPUT = [3, 32, 32]
FULL_INPUT = [3, 224, 224]
EXTRA_MODULES = {"reshape": "Reshape", "permute": "Permute", "select": "Select"}  # torchvision's forward() code


def counted_macs(model: torch.nn.Module, shape: list[int]) -> int:
    """archspec's counter: FlopCounterMode / 2 with autograd on, the CPU attention kernel counted."""
    counter = flop_counter()
    with torch.enable_grad(), counter:
        model(torch.zeros(1, *shape))
    return counter.get_total_flops() // 2


def tiny(overrides: dict | None = None) -> archspec.Spec:
    return archspec.load("vit_b_16", overrides={**TINY_OVERRIDES, **(overrides or {})})


@pytest.mark.parametrize(("builder", "weights", "overrides"), VARIANTS)
def test_parameters_and_macs_are_torchvisions_published_numbers(builder, weights, overrides):
    """torchvision's weights metadata: num_params exactly, and GFLOPS (`_ops`, to three decimals) = our MACs."""
    meta = getattr(torchvision.models, weights).IMAGENET1K_V1.meta
    report = archspec.analyze(archspec.load("vit_b_16", overrides=overrides))
    assert report.totals.params == meta["num_params"]
    assert round(report.totals.macs / 1e9, 3) == meta["_ops"]
    assert meta["min_size"] == (224, 224) and report.min_input == FULL_INPUT


@pytest.mark.parametrize(("builder", "weights", "overrides"), SLOW_VARIANTS)
def test_parameters_buffers_and_macs_are_torchvisions_model(builder, weights, overrides):
    reference = getattr(torchvision.models, builder)(weights=None).eval()
    report = archspec.analyze(archspec.load("vit_b_16", overrides=overrides))
    assert report.totals.params == numel(reference.parameters())
    assert report.totals.trainable_params == numel(p for p in reference.parameters() if p.requires_grad)
    assert report.totals.buffers == numel(reference.buffers()) == 0
    assert report.totals.macs == counted_macs(reference, FULL_INPUT)
    assert report.output_shape == [1, 1000]


def test_the_miniature_counts_are_torchvisions():
    reference = VisionTransformer(**TINY).eval()
    report = archspec.analyze(tiny(), input_shape=TINY_INPUT)
    assert report.totals.params == numel(reference.parameters())
    assert report.totals.buffers == numel(reference.buffers()) == 0
    assert report.totals.macs == counted_macs(reference, TINY_INPUT)
    assert report.min_input == TINY_INPUT


@pytest.mark.parametrize(("builder", "weights", "overrides"), SLOW_VARIANTS)
def test_torchvisions_state_dict_loads_strictly_and_gives_the_same_outputs(builder, weights, overrides):
    reference = randomise(getattr(torchvision.models, builder)(weights=None), seed=1).eval()
    ours = archspec.compile(archspec.load("vit_b_16", overrides=overrides))
    result = ours.load_state_dict(reference.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    ours.eval()
    x = torch.randn(2, *FULL_INPUT, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-4, atol=1e-4)


def test_the_miniature_loads_torchvisions_state_dict_and_gives_the_same_outputs():
    """Eval mode with and without autograd: under no_grad both take torch's fused attention path."""
    reference = randomise(VisionTransformer(**TINY), seed=1).eval()
    ours = archspec.compile(tiny(), TINY_INPUT)
    result = ours.load_state_dict(reference.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert set(ours.state_dict()) == set(reference.state_dict())
    ours.eval()
    x = torch.randn(3, *TINY_INPUT, generator=torch.Generator().manual_seed(2))
    for grad in (False, True):
        with torch.set_grad_enabled(grad):
            torch.testing.assert_close(ours(x), reference(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dropout", [(0.1, 0.2), (0.0, 0.0)], ids=["dropout", "no-dropout"])
def test_training_mode_under_the_same_seed_gives_the_same_outputs(dropout):
    """With dropout (after the positional embedding, after each attention, in each MLP) and attention dropout,
    the same seed drops the same values in both; without, training is deterministic and equals eval."""
    p, attention_p = dropout
    reference = randomise(VisionTransformer(**TINY, dropout=p, attention_dropout=attention_p), seed=3).train()
    ours = archspec.compile(tiny({"dropout": p, "attention_dropout": attention_p}), TINY_INPUT)
    ours.load_state_dict(reference.state_dict(), strict=True)
    ours.train()
    x = torch.randn(4, *TINY_INPUT, generator=torch.Generator().manual_seed(4))
    outputs = []
    for seed in (0, 7):
        torch.manual_seed(seed)
        theirs = reference(x)
        torch.manual_seed(seed)
        got = ours(x)
        torch.testing.assert_close(got, theirs, rtol=1e-5, atol=1e-5)
        outputs.append(got)
    if p:
        assert not torch.allclose(outputs[0], outputs[1])  # the seed matters: something was dropped
    else:
        torch.testing.assert_close(outputs[0], ours.eval()(x), rtol=1e-5, atol=1e-5)


def module_classes(model: torch.nn.Module) -> dict[str, str]:
    return {path: type(module).__name__ for path, module in model.named_modules() if path}


@pytest.mark.parametrize("full", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["miniature", "vit_b_16"])
def test_module_tree_is_torchvisions(full):
    """Every module torchvision has, at its path and of its class (Encoder, EncoderBlock named encoder_layer_0,
    1, ..., MLPBlock, LayerNorm, ...), plus the three parameterless modules for what torchvision's forward()
    does in code; the attention is archspec's SelfAttention, an nn.MultiheadAttention."""
    with torch.device("meta"):
        reference = torchvision.models.vit_b_16() if full else VisionTransformer(**TINY)
        ours = archspec.compile("vit_b_16" if full else tiny(), FULL_INPUT if full else TINY_INPUT)
    theirs, got = module_classes(reference), module_classes(ours)
    attention = {path for path, name in theirs.items() if name == "MultiheadAttention"}
    assert len(attention) == (12 if full else 2)
    for path in attention:
        assert isinstance(ours.get_submodule(path), torch.nn.MultiheadAttention)
        got[path] = "MultiheadAttention"
    assert got == {**theirs, **EXTRA_MODULES}
    assert [name for name, _ in ours.named_parameters(recurse=False)] == ["class_token"]
    assert [name for name, _ in ours.encoder.named_parameters(recurse=False)] == ["pos_embedding"]


def test_smallest_valid_input_is_exactly_the_image_size():
    """The learned positional embedding holds (224 / 16)² + 1 = 197 positions: 224 is the least input, 223
    (13x13 patches) is refused at the embedding, and torchvision asserts the same size. Like the convolution
    itself, archspec runs 225-239 too (the rows that fill no patch are dropped); torchvision refuses them."""
    report = archspec.analyze("vit_b_16")
    assert report.min_input == FULL_INPUT
    assert archspec.analyze("vit_b_16", input_shape=[3, 239, 239]).output_shape == [1, 1000]
    with pytest.raises(archspec.SpecError) as caught:
        archspec.analyze("vit_b_16", input_shape=[3, 223, 223])
    [diagnostic] = caught.value.diagnostics
    assert "pos_embedding" in str(diagnostic) and "197" in str(diagnostic) and "170" in str(diagnostic)
    with torch.device("meta"):
        reference = torchvision.models.vit_b_16()
    with pytest.raises(AssertionError, match="Wrong image height"):
        reference(torch.zeros(1, 3, 223, 223, device="meta"))
    # the miniature: (32 / 8)² + 1 = 17 positions, so exactly 32 (the search never probes past the given size)
    assert archspec.analyze(tiny(), input_shape=[3, 39, 39]).min_input == TINY_INPUT


def test_the_receptive_field_is_not_tracked_and_every_output_reads_every_pixel():
    """The reshape merges the patch grid's rows and columns into one sequence, so archspec claims no field
    ("not tracked", with the reason) rather than a number; the gradient shows why no exact number could be
    right: every logit reads every pixel (through attention over all patches)."""
    report = archspec.analyze(tiny(), input_shape=TINY_INPUT)
    assert report.receptive_field is not None and report.receptive_field.kind == NOT_TRACKED
    assert "merged" in report.receptive_field.reason
    assert report.layer("conv_proj").rf.size == (8, 8) and report.layer("conv_proj").rf.jump == (8, 8)
    model = randomise(archspec.compile(tiny(), TINY_INPUT), seed=5).eval()
    x = torch.randn(1, *TINY_INPUT, requires_grad=True)
    (grad,) = torch.autograd.grad(model(x)[0, 3], x)
    assert bool((grad != 0).all())


def test_the_report_shows_the_sequence_layouts():
    report = archspec.analyze("vit_b_16")
    shapes = {row.path: row.output_shape for row in report.layers}
    assert shapes["conv_proj"] == [1, 768, 14, 14]
    assert shapes["reshape"] == [1, 768, 196]
    assert shapes["permute"] == [1, 196, 768]
    assert shapes["class_token"] == [1, 197, 768]
    assert shapes["encoder.layers.encoder_layer_11"] == [1, 197, 768]
    assert shapes["select"] == [1, 768]
    assert shapes["heads.head"] == [1, 1000]
    assert report.warnings == []


def test_generated_source_and_export_give_the_same_outputs():
    """`archspec codegen`'s standalone source (the layer classes copied in) and torch.export run the miniature
    as the compiled module does, with torchvision's state dict."""
    reference = randomise(VisionTransformer(**TINY), seed=6).eval()
    namespace: dict = {"__name__": "generated"}
    exec(compile(generate_source(archspec.expand(tiny(), TINY_INPUT)), "<generated>", "exec"), namespace)
    generated = namespace["build_model"]()
    generated.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, *TINY_INPUT, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        expected = reference(x)
        torch.testing.assert_close(generated.eval()(x), expected, rtol=1e-5, atol=1e-5)
        ours = archspec.compile(tiny(), TINY_INPUT)
        ours.load_state_dict(reference.state_dict(), strict=True)
        exported = torch.export.export(ours.eval(), (x,)).module()
        torch.testing.assert_close(exported(x), expected, rtol=1e-5, atol=1e-5)
