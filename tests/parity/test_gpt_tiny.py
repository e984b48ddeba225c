"""gpt_tiny (issue 11, "Also"): the bundled decoder-only transformer over integer tokens against a hand-written
reference ``nn.Module``, written here from the GPT-2 layout with torch's own layers and nothing of archspec's
(its names are the spec's by construction: ``wte``, ``wpe``, ``h.N.ln_1``, ``h.N.attn``, ``h.N.ln_2``,
``h.N.mlp.0``/``.2``, ``ln_f``, ``lm_head``). Ground truth: Σ numel of the reference's parameters and buffers,
FlopCounterMode total / 2 on the reference with autograd on (``archspec.backend.verify.flop_counter``, which
counts the CPU fused attention kernel), its outputs with its (seeded random) state dict loaded strictly, and
causality measured on the compiled module: the output at position i does not change when tokens after i do."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from truth import assert_static_equals_measured
from weights import numel, randomise

import archspec
from archspec.backend.verify import flop_counter

DEFAULTS = {"layers": 4, "dim": 128, "heads": 4, "context": 64, "vocab": 512}
SMALL = {"layers": 2, "dim": 32, "heads": 2, "context": 12, "vocab": 50}


class Block(nn.Module):
    """Pre-norm decoder block: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.shape[1]
        future = torch.ones(length, length, dtype=torch.bool).triu(1)  # True: may not attend (a later position)
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, attn_mask=future, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class ReferenceGPT(nn.Module):
    def __init__(self, layers: int, dim: int, heads: int, context: int, vocab: int) -> None:
        super().__init__()
        self.wte = nn.Embedding(vocab, dim)
        self.wpe = nn.Parameter(torch.empty(1, context, dim).normal_(std=0.02))
        self.h = nn.Sequential(*(Block(dim, heads) for _ in range(layers)))
        self.ln_f = nn.LayerNorm(dim)
        self.lm_head = nn.Linear(dim, vocab, bias=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.lm_head(self.ln_f(self.h(self.wte(tokens) + self.wpe)))


def tokens(params: dict, batch: int = 2, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, params["vocab"], (batch, params["context"]), generator=generator)


def reference_macs(model: nn.Module, x: torch.Tensor) -> int:
    counter = flop_counter()
    with torch.enable_grad(), counter:
        model(x)
    return counter.get_total_flops() // 2


@pytest.mark.parametrize("params", [DEFAULTS, SMALL], ids=["defaults", "small"])
def test_parameters_buffers_and_macs_are_the_references(params):
    reference = ReferenceGPT(**params).eval()
    report = archspec.analyze(archspec.load("gpt_tiny", overrides=params), batch=2)
    assert report.totals.params == numel(reference.parameters())
    assert report.totals.trainable_params == numel(p for p in reference.parameters() if p.requires_grad)
    assert report.totals.buffers == numel(reference.buffers()) == 0
    assert report.totals.macs == reference_macs(reference, tokens(params))
    assert report.input_shape == [2, params["context"]] and report.input_vocab == params["vocab"]
    assert report.output_shape == [2, params["context"], params["vocab"]]


@pytest.mark.parametrize("params", [DEFAULTS, SMALL], ids=["defaults", "small"])
def test_the_references_state_dict_loads_strictly_and_gives_the_same_outputs(params):
    reference = randomise(ReferenceGPT(**params), seed=1)
    ours = archspec.compile(archspec.load("gpt_tiny", overrides=params))
    assert list(ours.state_dict()) == list(reference.state_dict())  # same keys, in registration order
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = tokens(params)
    for train in (False, True):  # no dropout: training mode is deterministic too
        reference.train(train)
        ours.train(train)
        with torch.no_grad():
            torch.testing.assert_close(ours(x), reference(x), rtol=1e-5, atol=1e-5)


def test_the_output_at_position_i_reads_no_later_token():
    params = SMALL
    model = randomise(archspec.compile(archspec.load("gpt_tiny", overrides=params)), seed=2).eval()
    x = tokens(params, batch=1)
    with torch.no_grad():
        before = model(x)
        for position in range(params["context"]):
            changed = x.clone()
            changed[0, position:] = (x[0, position:] + 1 + torch.arange(params["context"] - position)) % params["vocab"]
            after = model(changed)
            # Positions before the change are untouched; the changed position itself does see its new token.
            torch.testing.assert_close(after[0, :position], before[0, :position], rtol=0, atol=1e-6)
            assert not torch.allclose(after[0, position], before[0, position])


def test_static_equals_measured_at_every_module():
    report = assert_static_equals_measured(archspec.load("gpt_tiny", overrides=SMALL), batch=3)
    assert report.receptive_field is None  # tokens: no gradient flows to integer indices, no field is defined


def test_the_smallest_input_is_the_context_and_the_context_follows_the_params():
    assert archspec.analyze("gpt_tiny").min_input == [DEFAULTS["context"]]  # the positional tensor pins it
    assert archspec.analyze(archspec.load("gpt_tiny", overrides={"context": 8})).input_shape == [1, 8]
    with pytest.raises(archspec.SpecError, match="pos_embedding"):
        archspec.analyze("gpt_tiny", input_shape=[32])  # --input must be the context the table was built for
