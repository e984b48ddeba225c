"""Train-only heads do not constrain the eval-mode input (DESIGN §4: in eval mode they do not run).

The network below is shaped like Inception v3 with its aux classifier: the head (5x5 average pool of stride 3,
then a 5x5 convolution) needs a 17x17 map, which the stem gives from 299x299 images; the main path takes any
input from 43x43. In eval mode it analyses (and runs) at 224x224 with the head reported as not running, its
layers built for the smallest input the head takes; in training the input must be 299x299 or more. Every
threshold is held to what torch itself accepts.
"""

from __future__ import annotations

import json

import pytest
import torch
from truth import assert_static_equals_measured

import archspec
from archspec.backend.verify import verify
from archspec.cli import main
from archspec.render.table import render_table

HEAD_LAYERS = [
    {"avgpool": {"kernel": 5, "stride": 3}},
    {"conv": {"out": 8, "kernel": 1}},
    "relu",
    {"conv": {"out": 12, "kernel": 5}},
    "relu",
    "global_avgpool",
    "flatten",
    {"linear": {"out": 10}},
]


def aux_spec(head_layers: list | None = None) -> dict:
    return {
        "archspec": 1,
        "name": "aux299",
        "input": [3, 299, 299],
        "layers": [
            {"conv": {"out": 8, "kernel": 15, "stride": 2}},
            "relu",
            {"conv": {"out": 8, "kernel": 3, "stride": 2}},
            "relu",
            {"conv": {"out": 16, "kernel": 3, "stride": 2}},
            "relu",
            {"conv": {"out": 16, "kernel": 3, "stride": 2}},
            "relu",
            {"head": {"train_only": True, "layers": head_layers or HEAD_LAYERS}, "name": "aux"},
            "global_avgpool",
            "flatten",
            {"linear": {"out": 10}, "name": "fc"},
        ],
    }


def runs(model: torch.nn.Module, size: int, train: bool) -> bool:
    model.train(train)
    try:
        with torch.no_grad():
            model(torch.zeros(2, 3, size, size))  # batch 2: batch statistics are defined
    except RuntimeError:
        return False
    return True


def test_eval_mode_analyses_below_what_the_head_needs():
    report = archspec.analyze(aux_spec(), input_shape=[3, 224, 224])
    assert report.output_shape == [1, 10] and report.outputs == [{"name": "output", "shape": [1, 10]}]
    head = [row for row in report.layers if row.path == "aux" or row.path.startswith("aux.")]
    assert head and all(row.train_only for row in head)
    assert report.layer("aux").input_shape == [1, 16, 12, 12]
    # built for the smallest input the head takes: 16x17x17 (5x5 pool of stride 3 → 5x5, 5x5 conv → 1x1)
    assert report.layer("aux.0").input_shape == [1, 16, 17, 17]
    assert report.layer("aux.3").output_shape == [1, 12, 1, 1]
    [warning] = report.warnings
    assert warning.module == "aux" and warning.spec_path == ("layers", 8)
    assert "runs only in training" in warning.message and "16×17×17" in warning.message
    assert "16×12×12" in warning.message and "3×299×299" in warning.fix
    # in training the head runs, and the input is refused where the head's layer rejects it
    with pytest.raises(archspec.SpecError) as error:
        archspec.analyze(aux_spec(), input_shape=[3, 224, 224], train=True)
    [diagnostic] = error.value.diagnostics
    assert diagnostic.path[:5] == ("layers", 8, "head", "layers", 3) and "output size" in diagnostic.message


def test_the_compiled_module_agrees_in_eval_mode():
    """At 224x224 in eval mode: every number equals measurement (the head's modules are counted, and do not
    run), --verify finds nothing, and a training-mode forward pass fails in torch as the report warns."""
    report = assert_static_equals_measured(aux_spec(), [3, 224, 224])
    model = archspec.compile(aux_spec(), input_shape=[3, 224, 224])
    assert verify(model, report) == []
    assert runs(model, 224, train=False) and not runs(model, 224, train=True)
    assert runs(model, 299, train=True)  # the head was built for the input it needs


@pytest.mark.parametrize("train", [False, True])
def test_smallest_valid_input_states_both_modes(train):
    """Eval 43 and training 299, as torch says; the table states both, the report's own mode first."""
    model = archspec.compile(aux_spec())  # the ground truth: compiled for 299x299
    assert runs(model, 299, train=True) and not runs(model, 298, train=True)
    assert runs(model, 43, train=False) and not runs(model, 42, train=False)
    report = archspec.analyze(aux_spec(), train=train)
    assert (report.min_input_eval, report.min_input_train) == ([3, 43, 43], [3, 299, 299])
    assert report.min_input == ([3, 299, 299] if train else [3, 43, 43])
    line = next(line for line in render_table(report).splitlines() if "Smallest valid input" in line)
    expected = "[3, 299, 299] (training; eval: [3, 43, 43])" if train else "[3, 43, 43] (eval; training: [3, 299, 299])"
    assert line.endswith(f"Smallest valid input: {expected}")
    assert report.to_dict()["min_input_by_mode"] == {"eval": [3, 43, 43], "train": [3, 299, 299]}


def test_eval_min_input_is_valid_and_one_less_is_not():
    assert archspec.analyze(aux_spec(), input_shape=[3, 43, 43]).warnings  # the head cannot run there
    with pytest.raises(archspec.SpecError):
        archspec.analyze(aux_spec(), input_shape=[3, 42, 42])
    archspec.analyze(aux_spec(), input_shape=[3, 299, 299], train=True)
    with pytest.raises(archspec.SpecError):
        archspec.analyze(aux_spec(), input_shape=[3, 298, 298], train=True)


def test_modes_that_agree_are_stated_once(capsys):
    assert main(["check", "resnet18", "--depth", "0"]) == 0
    assert "Smallest valid input: [3, 1, 1]\n" in capsys.readouterr().out
    assert main(["check", "resnet18", "--format", "json"]) == 0
    modes = json.loads(capsys.readouterr().out)["min_input_by_mode"]
    assert modes == {"eval": [3, 1, 1], "train": [3, 1, 1]}  # per dim, the other kept at 224


def test_probing_the_head_adds_no_modules_and_hides_no_error():
    """The sizes tried while looking for the head's input leave no modules behind (the network fits a node
    limit of exactly its own size), and a head whose layers disagree at every size (4 channels added to 8)
    is reported as wrong, not as merely too small."""
    modules = len(archspec.analyze(aux_spec(), input_shape=[3, 224, 224]).layers)
    assert archspec.analyze(aux_spec(), input_shape=[3, 224, 224], max_nodes=modules).warnings
    broken = [{"add": {"branches": [[{"conv": {"out": 4, "kernel": 1}}], [{"conv": {"out": 8, "kernel": 1}}]]}}]
    with pytest.raises(archspec.SpecError) as error:
        archspec.analyze(aux_spec(broken), input_shape=[3, 224, 224])
    assert "channels differ" in str(error.value)
