"""Containers — ``concat``, ``add``, ``multiply``, ``head`` — and ``id`` / ``from`` routing and ``if``, on small
specs: every static number equals what the compiled module measurably does (``tests/truth.py``: shapes at
every path from forward hooks, ``numel()`` of parameters and buffers, FlopCounterMode / 2), receptive fields
equal the gradient probe's spans (``tests/probe.py``), and invalid graphs are located ``SpecError``s.
"""

from __future__ import annotations

import textwrap

import pytest
import torch
from probe import receptive_span
from truth import assert_layers_equal_measured, assert_static_equals_measured, static_and_measured

import archspec


def spec(layers: list, input: list[int] | None = None, **extra) -> dict:
    return {"archspec": 1, "name": "container_case", "input": input or [4, 8, 8], "layers": layers, **extra}


def conv(out: int, kernel: int = 3, **args) -> dict:
    return {"conv": {"out": out, "kernel": kernel, **args}}


# --- valid graphs: static == measured ---------------------------------------------------------------------

CONCAT_LIST = spec([{"concat": {"branches": [[conv(3, padding=1)], [conv(5, 1), "relu"], []]}}])
CONCAT_NAMED = spec(
    [{"concat": {"branches": {"wide": [conv(6, 5, padding=2)], "narrow": [conv(2, 1)], "skip": []}}, "name": "mix"}]
)
CONCAT_SPATIAL = spec([{"concat": {"dim": 2, "branches": [[conv(4, padding=1)], []]}}])
CONCAT_LAST_DIM = spec([{"concat": {"dim": -1, "branches": [[conv(4, padding=1)], [{"maxpool": {"kernel": [1, 2]}}]]}}])
RESIDUAL_PROJECTION = spec(
    [
        conv(8, padding=1),
        {
            "add": {
                "branches": {
                    "body": [
                        conv(16, stride=2, padding=1, bias=False),
                        {"batchnorm": {}},
                        "relu",
                        conv(16, padding=1, bias=False),
                        {"batchnorm": {}},
                    ],
                    "shortcut": [conv(16, 1, stride=2, bias=False), {"batchnorm": {}}],
                }
            },
            "name": "block",
        },
        "relu",
    ]
)
RESIDUAL_IDENTITY = spec(
    [{"add": {"branches": {"body": [conv(4, padding=1), "relu", conv(4, padding=1)], "shortcut": []}}}]
)
SQUEEZE_EXCITATION = spec(
    [
        conv(16, padding=1),
        {
            "multiply": {
                "branches": {"excite": ["global_avgpool", conv(4, 1), "relu", conv(16, 1), "sigmoid"], "identity": []}
            },
            "name": "se",
        },
    ]
)
UNET = spec(
    [
        conv(8, padding=1) | {"id": "enc1"},
        {"maxpool": {"kernel": 2}},
        conv(16, padding=1) | {"id": "enc2"},
        {"maxpool": {"kernel": 2}},
        conv(16, padding=1),
        {"upsample": {"scale": 2}},
        {"concat": {}, "from": ["prev", "enc2"]},
        conv(8, padding=1),
        {"upsample": {"scale": 2}},
        {"concat": {}, "from": ["prev", "enc1"]},
        conv(4, 1),
        {"add": {}, "from": ["prev", "input"]},
    ],
    input=[4, 16, 16],
)
ROUTED_BRANCHES = spec(
    [
        conv(8, stride=2, padding=1) | {"id": "down"},
        conv(8, 1),
        # three inputs, three branches: branch k takes input k
        {
            "concat": {
                "branches": {"a": [{"upsample": {"scale": 2}}], "b": [{"upsample": {"scale": 2}}, conv(3, 1)], "c": []}
            },
            "from": ["prev", "down", "input"],
        },
    ]
)
FROM_INPUT = spec(
    [
        conv(6, padding=1),
        conv(2, 1) | {"from": "input"},
        {"sequential": [conv(2, 1), {"add": {}, "from": ["prev", "input"]}], "name": "inner"},
    ]
)
CONDITIONAL = {
    "archspec": 1,
    "name": "conditional",
    "input": [4, 8, 8],
    "blocks": {
        "project": {
            "params": {"out": "required", "stride": 1, "needed": "${stride != 1 or in.channels != out}"},
            "layers": [
                {
                    "add": {
                        "branches": {
                            "body": [conv("$out", stride="$stride", padding=1)],
                            "shortcut": [conv("$out", 1, stride="$stride") | {"if": "$needed"}],
                        }
                    }
                }
            ],
        }
    },
    "layers": [
        {"project": {"out": 4}, "name": "same"},  # identity shortcut: 4 -> 4, stride 1
        {"project": {"out": 8}, "name": "wider"},  # projects: 4 -> 8
        {"project": {"out": 8, "stride": 2}, "name": "strided"},  # projects: stride 2
        conv(16, 1) | {"if": "${in.channels < 8}"},  # left out: 8 channels arrive
        conv(12, 1) | {"if": "${in.channels >= 8 and max(in.spatial) == 4}"},  # kept
    ],
}

VALID = {
    "concat_list": CONCAT_LIST,
    "concat_named": CONCAT_NAMED,
    "concat_spatial": CONCAT_SPATIAL,
    "concat_last_dim": CONCAT_LAST_DIM,
    "residual_projection": RESIDUAL_PROJECTION,
    "residual_identity": RESIDUAL_IDENTITY,
    "squeeze_excitation": SQUEEZE_EXCITATION,
    "unet": UNET,
    "routed_branches": ROUTED_BRANCHES,
    "from_input": FROM_INPUT,
    "conditional": CONDITIONAL,
}


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("name", VALID)
def test_static_equals_measured(name, batch, train):
    assert_static_equals_measured(VALID[name], batch=batch, train=train)


def shapes_of(report) -> dict[str, list[int]]:
    return {row.path: row.output_shape for row in report.layers}


def test_concat_list_branches_and_identity_branch():
    report = archspec.analyze(CONCAT_LIST)
    assert shapes_of(report) == {
        "0": [1, 12, 8, 8],
        "0.0": [1, 3, 8, 8],
        "0.0.0": [1, 3, 8, 8],
        "0.1": [1, 5, 8, 8],
        "0.1.0": [1, 5, 8, 8],
        "0.1.1": [1, 5, 8, 8],
        "0.2": [1, 4, 8, 8],
    }
    model = archspec.compile(CONCAT_LIST).eval()
    x = torch.randn(2, 4, 8, 8)
    with torch.no_grad():
        y = model(x)
        branches = model.get_submodule("0")
        expected = torch.cat([branches.get_submodule("0")(x), branches.get_submodule("1")(x), x], 1)
    torch.testing.assert_close(y, expected)


def test_concat_named_branches_are_submodule_names():
    report = archspec.analyze(CONCAT_NAMED)
    assert [row.path for row in report.layers] == [
        "mix",
        "mix.wide",
        "mix.wide.0",
        "mix.narrow",
        "mix.narrow.0",
        "mix.skip",
    ]
    assert report.output_shape == [1, 6 + 2 + 4, 8, 8]
    model = archspec.compile(CONCAT_NAMED)
    assert [name for name, _ in model.get_submodule("mix").named_children()] == ["wide", "narrow", "skip"]


def test_concat_along_spatial_dims():
    assert archspec.analyze(CONCAT_SPATIAL).output_shape == [1, 4, 16, 8]
    assert archspec.analyze(CONCAT_LAST_DIM).output_shape == [1, 4, 8, 12]


def test_multiply_broadcasts_the_excitation():
    report = archspec.analyze(SQUEEZE_EXCITATION, batch=2)
    assert report.layer("se.excite").output_shape == [2, 16, 1, 1]
    assert report.layer("se.identity").output_shape == [2, 16, 8, 8]
    assert report.layer("se").output_shape == [2, 16, 8, 8]
    model = archspec.compile(SQUEEZE_EXCITATION).eval()
    x = torch.randn(2, 4, 8, 8)
    with torch.no_grad():
        features = model.get_submodule("0")(x)
        expected = features * model.get_submodule("se.excite")(features)
        torch.testing.assert_close(model(x), expected)


def test_unet_skips_read_saved_outputs():
    report = archspec.analyze(UNET)
    concats = [row for row in report.layers if row.op == "concat"]
    assert [row.input_shape for row in concats] == [[[1, 16, 8, 8], [1, 16, 8, 8]], [[1, 8, 16, 16], [1, 8, 16, 16]]]
    assert [row.output_shape for row in concats] == [[1, 32, 8, 8], [1, 16, 16, 16]]
    assert report.output_shape == [1, 4, 16, 16]


def test_if_reads_the_input_shape():
    paths = [row.path for row in archspec.analyze(CONDITIONAL).layers]
    # the shortcut conv exists only where the block projects
    assert "same.add.shortcut.0" not in paths  # an unnamed item of a block is named after its op
    assert "wider.add.shortcut.0" in paths and "strided.add.shortcut.0" in paths
    report = archspec.analyze(CONDITIONAL)
    assert report.output_shape == [1, 12, 4, 4]
    assert [row.op for row in report.layers if row.depth == 1] == ["project", "project", "project", "conv"]


# --- heads -------------------------------------------------------------------------------------------------

HEADS = spec(
    [
        conv(8, padding=1),
        {"head": {"train_only": True, "layers": ["global_avgpool", "flatten", {"linear": {"out": 3}}]}, "name": "aux"},
        {"head": {"layers": [conv(2, 1), {"batchnorm": {}}]}, "name": "side"},
        conv(4, stride=2, padding=1),
        "global_avgpool",
        "flatten",
        {"linear": {"out": 5}, "name": "fc"},
    ]
)
HEAD_IN_BLOCK = {
    "archspec": 1,
    "name": "head_in_block",
    "input": [4, 8, 8],
    "blocks": {
        "stage": {
            "params": {},
            "layers": [conv(4, padding=1), {"head": {"layers": ["global_avgpool", "flatten"]}, "name": "probe"}],
        }
    },
    "layers": [{"stage": {}, "name": "s1"}, {"stage": {}, "name": "s2"}],
}


def assert_heads_static_equals_measured(spec_data: dict, batch: int, train: bool):
    """``truth.assert_static_equals_measured`` for networks with heads: in eval mode the layers inside
    train-only heads do not run (no hook fires; the head itself still runs and passes its input on), and the
    network returns a dict ``{"output": main, "<head path>": side, ...}`` when some head produced an output."""
    report, truth = static_and_measured(spec_data, batch=batch, train=train)
    train_only = {row.path for row in report.layers if row.train_only}
    not_run = set() if train else {path for path in train_only if path.rpartition(".")[0] in train_only}
    assert {row.path: row.output_shape for row in report.layers if row.path not in not_run} == truth.shapes
    assert (report.totals.params, report.totals.buffers, report.totals.macs) == (
        truth.params,
        truth.buffers,
        truth.macs,
    )
    assert_layers_equal_measured(report, truth)
    outputs = truth.output if isinstance(truth.output, dict) else {"output": truth.output}
    assert report.outputs == [{"name": name, "shape": list(value.shape)} for name, value in outputs.items()]
    assert report.output_shape == list(outputs["output"].shape)
    return report, truth


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("spec_data", [HEADS, HEAD_IN_BLOCK], ids=["heads", "head_in_block"])
def test_heads_static_equals_measured(spec_data, batch, train):
    assert_heads_static_equals_measured(spec_data, batch, train)


def test_head_rows_show_the_main_path_and_outputs_the_side():
    report = archspec.analyze(HEADS, batch=2)
    assert report.layer("aux").output_shape == report.layer("0").output_shape == [2, 8, 8, 8]
    assert report.layer("aux.2").output_shape == [2, 3]
    assert report.layer("side").output_shape == [2, 8, 8, 8]
    assert {row.path for row in report.layers if row.train_only} == {"aux", "aux.0", "aux.1", "aux.2"}
    assert report.outputs == [{"name": "output", "shape": [2, 5]}, {"name": "side", "shape": [2, 2, 8, 8]}]
    train_report = archspec.analyze(HEADS, batch=2, train=True)
    assert [output["name"] for output in train_report.outputs] == ["output", "aux", "side"]
    # the aux head's linear layer: 2 x 8 x 3 MACs, counted only when it runs
    assert train_report.totals.macs - report.totals.macs == 2 * 8 * 3
    assert train_report.totals.params == report.totals.params


def test_head_forward_returns_dict_or_tensor():
    model = archspec.compile(HEADS)
    x = torch.randn(2, 4, 8, 8)
    model.train()
    out = model(x)
    assert list(out) == ["output", "aux", "side"]
    assert [tuple(v.shape) for v in out.values()] == [(2, 5), (2, 3), (2, 2, 8, 8)]
    model.eval()
    with torch.no_grad():
        out = model(x)
    assert list(out) == ["output", "side"]  # the train-only head does not run
    only_train = spec([conv(8, padding=1), HEADS["layers"][1], "global_avgpool", "flatten"])
    model = archspec.compile(only_train).eval()
    with torch.no_grad():
        assert isinstance(model(x), torch.Tensor)  # no head produced an output: a plain tensor
    model.train()
    assert list(model(x)) == ["output", "aux"]


def test_head_side_output_is_its_layers_applied_to_its_input():
    model = archspec.compile(HEADS).eval()
    x = torch.randn(2, 4, 8, 8)
    with torch.no_grad():
        out = model(x)
        features = model.get_submodule("0")(x)
        side = model.get_submodule("side")
        torch.testing.assert_close(out["side"], side[1](side[0](features)))


def test_heads_in_blocks_are_named_by_full_path():
    report = archspec.analyze(HEAD_IN_BLOCK)
    assert report.outputs == [
        {"name": "output", "shape": [1, 4, 8, 8]},
        {"name": "s1.probe", "shape": [1, 4]},
        {"name": "s2.probe", "shape": [1, 4]},
    ]
    out = archspec.compile(HEAD_IN_BLOCK).eval()(torch.randn(1, 4, 8, 8))
    assert list(out) == ["output", "s1.probe", "s2.probe"]


# --- receptive fields through merges, against the gradient probe ------------------------------------------

FIELD_CASES = {
    # union of the branches: 3x3 and 5x5 centred, plus the identity
    "concat": (
        spec([{"concat": {"branches": [[conv(3, padding=1)], [conv(3, 5, padding=2)], []]}}], input=[4, 16, 16]),
        "0",
        3,
    ),
    # strided residual with projection: body 3x3/2 then 3x3, shortcut 1x1/2
    "add": (
        spec(
            [
                {
                    "add": {
                        "branches": {
                            "body": [conv(8, stride=2, padding=1), conv(8, padding=1)],
                            "shortcut": [conv(8, 1, stride=2)],
                        }
                    }
                }
            ],
            input=[4, 16, 16],
        ),
        "0",
        3,
    ),
}


@pytest.mark.parametrize("case", ["concat", "add"])
def test_merged_field_equals_probe(case):
    spec_data, path, index = FIELD_CASES[case]
    rf = archspec.analyze(spec_data).layer(path).rf
    assert rf.kind == "exact"
    measured = receptive_span(archspec.compile(spec_data), spec_data["input"], [index, index], path=path)
    assert measured == [rf.span(index, 0), rf.span(index, 1)]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")
def test_unaligned_branches_warn():
    """A 2x2 'same' convolution pads right only (REFERENCE §1), so its field's centre is half a pixel off the
    identity branch's: the report says so."""
    data = spec([{"concat": {"branches": [[conv(2, 2, padding="same")], []]}}], input=[4, 16, 16])
    report = archspec.analyze(data)
    assert [(warning.module, warning.spec_path) for warning in report.warnings] == [("0", ("layers", 0))]
    assert "not aligned" in report.warnings[0].message
    rf = report.layer("0").rf
    measured = receptive_span(archspec.compile(data), data["input"], [5, 5], path="0")
    assert measured == [rf.span(5, 0), rf.span(5, 1)] == [(5, 6), (5, 6)]


def test_squeeze_excitation_field_is_global():
    report = archspec.analyze(SQUEEZE_EXCITATION)
    model = archspec.compile(SQUEEZE_EXCITATION)
    # measured: every output position depends on the whole input
    assert receptive_span(model, [4, 8, 8], [0, 0], path="se") == [(0, 7), (0, 7)]
    assert receptive_span(model, [4, 8, 8], [7, 3], path="se") == [(0, 7), (0, 7)]
    assert report.layer("se").rf.kind == "global"
    assert report.warnings == []


# --- invalid graphs: located SpecErrors ---------------------------------------------------------------------


def error_of(tmp_path, text: str) -> archspec.SpecError:
    path = tmp_path / "case.yaml"
    path.write_text(textwrap.dedent(text).lstrip())
    with pytest.raises(archspec.SpecError) as caught:
        archspec.analyze(str(path))
    assert len(caught.value.diagnostics) == 1, str(caught.value)
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.location is not None and diagnostic.location.file == str(path)
    assert str(caught.value).startswith(f"{path}:{diagnostic.location.line}:{diagnostic.location.column}: error: ")
    return caught.value


def test_unknown_from_id_suggests_the_close_one(tmp_path):
    error = error_of(
        tmp_path,
        """
        archspec: 1
        name: unknown_id
        input: [4, 8, 8]
        layers:
          - conv: {out: 8, kernel: 3, padding: 1}
            id: encoder1
          - relu
          - concat: {}
            from: [prev, encoder2]
        """,
    )
    diagnostic = error.diagnostics[0]
    assert diagnostic.path == ("layers", 2, "from")
    assert diagnostic.location.line == 9
    assert "encoder2" in diagnostic.message
    assert "did you mean 'encoder1'" in (diagnostic.fix or "")


def test_forward_reference_says_defined_later(tmp_path):
    error = error_of(
        tmp_path,
        """
        archspec: 1
        name: later_id
        input: [4, 8, 8]
        layers:
          - conv: {out: 8, kernel: 3, padding: 1}
          - concat: {}
            from: [prev, late]
          - conv: {out: 8, kernel: 1}
            id: late
        """,
    )
    diagnostic = error.diagnostics[0]
    assert diagnostic.path == ("layers", 1, "from")
    assert diagnostic.location.line == 7
    assert "defined later" in diagnostic.message and "layers[2]" in diagnostic.message


def test_concat_of_different_spatial_sizes_shows_both_shapes(tmp_path):
    error = error_of(
        tmp_path,
        """
        archspec: 1
        name: bad_concat
        input: [4, 8, 8]
        layers:
          - relu
          - concat:
              branches:
                - - conv: {out: 8, kernel: 3, padding: 1}
                - - conv: {out: 8, kernel: 3, stride: 2, padding: 1}
        """,
    )
    diagnostic = error.diagnostics[0]
    assert diagnostic.path[:2] == ("layers", 1)
    assert diagnostic.location.line in (6, 7)
    assert "8×8×8" in diagnostic.message and "8×4×4" in diagnostic.message
    with pytest.raises(RuntimeError):  # torch agrees: these cannot be concatenated
        torch.cat([torch.zeros(1, 8, 8, 8), torch.zeros(1, 8, 4, 4)], 1)


def test_add_of_different_channel_counts(tmp_path):
    error = error_of(
        tmp_path,
        """
        archspec: 1
        name: bad_add
        input: [4, 8, 8]
        layers:
          - add:
              branches:
                body:
                  - conv: {out: 8, kernel: 3, padding: 1}
                shortcut: []
        """,
    )
    diagnostic = error.diagnostics[0]
    assert diagnostic.path[:2] == ("layers", 0)
    assert diagnostic.location.line in (5, 6)
    assert "8×8×8" in diagnostic.message and "4×8×8" in diagnostic.message
    assert diagnostic.fix
    with pytest.raises(RuntimeError):  # torch agrees: 8 and 4 channels do not broadcast
        torch.zeros(1, 8, 8, 8) + torch.zeros(1, 4, 8, 8)


def test_two_inputs_into_a_single_input_op(tmp_path):
    error = error_of(
        tmp_path,
        """
        archspec: 1
        name: two_inputs
        input: [4, 8, 8]
        layers:
          - conv: {out: 4, kernel: 1}
            id: x
          - conv: {out: 4, kernel: 1}
            from: [prev, x]
        """,
    )
    diagnostic = error.diagnostics[0]
    assert diagnostic.path == ("layers", 1, "from")
    assert "2 arrive" in diagnostic.message and "concat" in (diagnostic.fix or "")


def test_invalid_graph_in_cli_is_one_located_line(tmp_path, capsys):
    from archspec.cli import main

    path = tmp_path / "bad.yaml"
    path.write_text(
        "archspec: 1\nname: bad\ninput: [4, 8, 8]\nlayers:\n  - relu\n  - add: {}\n    from: [prev, nope]\n"
    )
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:7:") and "unknown id 'nope'" in err and "Traceback" not in err


# --- merges of fewer than two inputs, reserved names, inputs named by their ids ----------------------------


@pytest.mark.parametrize(
    "layers",
    [
        [conv(4, padding=1), {"add": {}}],
        [{"add": {"branches": []}}],
        [{"add": {"branches": [[conv(4, padding=1)]]}}],
        [{"multiply": {"branches": {"only": []}}}],
        [{"concat": {"branches": [["relu"]]}}],
        [{**conv(4, padding=1), "id": "a"}, {"concat": {}, "from": ["a"]}],
        [{**conv(4, padding=1), "id": "a"}, {"add": {}, "from": "prev"}],
    ],
    ids=["add-alone", "no-branches", "one-branch", "one-named-branch", "concat-one", "from-one-id", "from-prev"],
)
def test_a_merge_of_one_input_is_rejected(layers):
    """These were silently the identity."""
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(spec(layers))
    (diagnostic,) = info.value.diagnostics
    assert "merges two or more inputs" in diagnostic.message
    assert "branches" in diagnostic.fix and "from: [prev, some_id]" in diagnostic.fix


@pytest.mark.parametrize("name", ["output", "out${suffix}"])
def test_a_top_level_head_may_not_be_named_output(name):
    """Its side output replaced the main output in report.outputs and in the forward dict."""
    layers = [conv(4, padding=1), {"head": {"layers": ["global_avgpool"]}, "name": name}, "relu"]
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(spec(layers, params={"suffix": "put"}))
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.path == ("layers", 1, "name")
    assert "reserved for the network's main output" in diagnostic.message and diagnostic.fix


def test_a_nested_head_named_output_keeps_both_outputs():
    data = spec(
        [{"sequential": [conv(4, padding=1), {"head": {"layers": ["global_avgpool"]}, "name": "output"}]}, "relu"]
    )
    names = [output["name"] for output in archspec.analyze(data).to_dict()["outputs"]]
    assert names == ["output", "0.output"]
    model = archspec.compile(data).eval()
    assert set(model(torch.zeros(1, 4, 8, 8))) == {"output", "0.output"}


def test_merge_errors_name_the_ids_that_came_through_from():
    layers = [{**conv(16, padding=1), "id": "e2"}, conv(32, stride=2, padding=1), {"add": {}, "from": ["prev", "e2"]}]
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(spec(layers))
    message = info.value.diagnostics[0].message
    assert "32×4×4 ('prev') and 16×8×8 ('e2')" in message and "branch" not in message


def test_merge_errors_name_branches_and_the_ids_feeding_them():
    layers = [
        {**conv(16, padding=1), "id": "skip"},
        conv(16, stride=2, padding=1),
        {"concat": {"branches": {"up": [{"upsample": {"scale": 2}}], "same": [conv(8)]}}, "from": ["prev", "skip"]},
    ]
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(spec(layers))
    diagnostic = info.value.diagnostics[0]
    assert "16×8×8 (branch up on 'prev') and 8×6×6 (branch same on 'skip')" in diagnostic.message
    assert "branch up on 'prev' gives *×8×8, branch same on 'skip' gives *×6×6" in diagnostic.fix
