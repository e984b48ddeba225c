"""Token inputs (``input: {tokens: L, vocab: V}``, issue 11 "Also"): integer indices in the spec language, as the
analysis, --verify, checkpoints, --input and the renderers read them. Truth is torch's: the dtype and bytes of
``torch.randint`` indices, what ``nn.Embedding`` accepts, FlopCounterMode, and the compiled module's forward pass.
Errors of bad token inputs are in the corpus (tests/errors/corpus/350-355)."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
from truth import assert_static_equals_measured

import archspec
from archspec.backend.verify import example_input, forward_bytes, measure_shapes
from archspec.cli import main
from archspec.ops.base import Tokens

SPEC = {
    "archspec": 1,
    "name": "tokens",
    "input": {"tokens": "$context", "vocab": "$vocab"},
    "params": {"context": 10, "vocab": 37, "dim": 12},
    "layers": [
        {"embedding": {"dim": "$dim"}},
        {"self_attention": {"heads": 3, "causal": True}},
        {"linear": {"out": "$vocab"}},
    ],
}


def test_the_sizes_follow_the_params_and_the_measurement():
    report = assert_static_equals_measured(archspec.load(SPEC, overrides={"vocab": 91, "context": 7}), batch=2)
    assert report.input_shape == [2, 7] and report.input_vocab == 91
    assert report.output_shape == [2, 7, 91]
    assert report.layer("0").params == 91 * 12  # one row of the table per token value
    assert report.receptive_field is None and all(row.rf is None for row in report.layers)


def test_input_overrides_the_sequence_length_and_keeps_the_vocabulary():
    report = archspec.analyze(SPEC, input_shape=[25], batch=3)
    assert report.input_shape == [3, 25] and report.input_vocab == 37
    model = archspec.compile(SPEC, [25])
    assert measure_shapes(model, report.input_shape, report.input_vocab)["2"] == [3, 25, 37]
    with pytest.raises(archspec.SpecError, match="takes integer tokens"):
        archspec.analyze(SPEC, input_shape=[3, 25])


def test_measurers_draw_int64_indices_within_the_vocabulary():
    x = example_input([4, 9], vocab=5, generator=torch.Generator().manual_seed(0))
    assert x.dtype == torch.int64 and x.shape == (4, 9)
    assert int(x.min()) >= 0 and int(x.max()) < 5
    assert example_input([2, 3]).dtype == torch.float32


def test_the_memory_check_counts_the_input_as_int64():
    report = archspec.analyze(SPEC, batch=4)
    needed, _ = forward_bytes(report)
    x = example_input(report.input_shape, report.input_vocab)
    assert needed - report.totals.activation_bytes == x.numel() * x.element_size() == 4 * 10 * 8


def test_the_smallest_input_is_the_fewest_tokens_every_layer_takes():
    assert archspec.analyze(SPEC).min_input == [1]
    pinned = {**SPEC, "layers": [SPEC["layers"][0], {"pos_embedding": {"length": 10}}, *SPEC["layers"][1:]]}
    assert archspec.analyze(pinned, input_shape=[10]).min_input == [10]
    assert archspec.analyze(pinned, input_shape=[10]).to_dict()["min_input_by_mode"] == {"eval": [10], "train": [10]}


def test_only_the_embedding_takes_tokens_and_it_takes_nothing_else():
    for layers in ([{"linear": {"out": 4}}], ["relu"], [{"layernorm": {}}], [{"sequential": ["identity"]}]):
        with pytest.raises(archspec.SpecError, match="integer token indices"):
            archspec.analyze({**SPEC, "layers": layers})
    with pytest.raises(archspec.SpecError, match="looks up integer token indices"):
        archspec.analyze({**SPEC, "input": [4, 8], "layers": [{"embedding": {"dim": 3}}]})
    # A merge of tokens is refused; the same merge of two embeddings is fine.
    add = {"add": {"branches": [[{"embedding": {"dim": 4}}], []]}}
    with pytest.raises(archspec.SpecError, match="'add' takes a float tensor"):
        archspec.analyze({**SPEC, "layers": [add]})
    add["add"]["branches"][1] = [{"embedding": {"dim": 4}}]
    assert archspec.analyze({**SPEC, "layers": [add]}).output_shape == [1, 10, 4]


def test_a_larger_table_and_a_padding_row_are_torchs():
    spec = {**SPEC, "layers": [{"embedding": {"dim": 5, "vocab": 64, "padding_idx": -1}}]}
    report = assert_static_equals_measured(spec, batch=2)
    model = archspec.compile(spec)
    table = model.get_submodule("0")
    assert isinstance(table, torch.nn.Embedding) and table.weight.shape == (64, 5) and table.padding_idx == 63
    assert report.totals.params == table.weight.numel() and not table.weight[63].any()


def test_token_shapes_pickle_with_their_vocabulary():
    shape = pickle.loads(pickle.dumps(Tokens(6, vocab=11)))
    assert shape == (6,) and shape.vocab == 11 and isinstance(shape, Tokens)
    network = pickle.loads(pickle.dumps(archspec.expand(SPEC)))
    assert network.input.vocab == 37


def test_verify_save_and_rebuild_from_the_command_line(tmp_path, capsys):
    path = tmp_path / "tokens.yaml"
    path.write_text(json.dumps(SPEC))
    saved = tmp_path / "tokens.pt"
    assert main(["build", str(path), "--set", "vocab=20", "--verify", "--save", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "(int64 tokens, vocab 20)" in out and "integer tokens: no gradient" in out
    assert main(["build", str(saved), "--verify", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["input_shape"] == [1, 10] and report["input_vocab"] == 20
    assert main(["check", str(path), "--input", "4,4"]) == 2
    assert "takes integer tokens" in capsys.readouterr().err
    assert main(["graph", str(path)]) == 0
    assert "10 tokens (vocab 37)" in capsys.readouterr().out
