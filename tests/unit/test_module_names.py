"""Blocks are modules of their own class and names are the network's own (issue 10 §2): ``print(model)``
reads like torchvision's, ``module:`` names a block's class, and ``inline`` keeps containers that exist only
for the data flow out of module paths. Ground truth: torchvision's own module trees, and forward passes."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch
import torchvision

import archspec


def container_classes(model: torch.nn.Module) -> dict[str, str]:
    """``{path: class name}`` of every module below the root that holds other modules."""
    return {path: type(module).__name__ for path, module in model.named_modules() if path and module._modules}


@pytest.mark.parametrize("name", ["resnet50", "googlenet", "densenet121"])
def test_container_classes_equal_torchvisions_at_the_same_paths(name):
    extra = {"init_weights": False} if name == "googlenet" else {}
    with torch.device("meta"):
        theirs = container_classes(getattr(torchvision.models, name)(weights=None, **extra))
        ours = archspec.compile(name)
    assert {path: type(ours.get_submodule(path)).__name__ for path in theirs} == theirs
    # and no container of ours is missing from torchvision's tree (no extra levels such as 'merge.body')
    assert set(container_classes(ours)) == set(theirs)


USER_BLOCK = {
    "archspec": 1,
    "name": "user",
    "input": [3, 8, 8],
    "blocks": {
        "squeeze": {"module": "SqueezeBlock", "layers": [{"conv": {"out": 4, "kernel": 1}}, "relu", "relu"]},
        "conv_act": {"layers": [{"conv": {"out": 4, "kernel": 3, "padding": 1}}, "relu"]},
    },
    "layers": ["squeeze", "conv_act"],
}


def test_a_users_block_gets_its_module_class_or_its_name_in_camel_case():
    model = archspec.compile(USER_BLOCK)
    assert type(model.get_submodule("0")).__name__ == "SqueezeBlock"
    assert type(model.get_submodule("1")).__name__ == "ConvAct"
    assert "SqueezeBlock(" in repr(model)
    # unnamed items of a block are named after their op, numbered only where a second one needs a name
    assert [name for name, _ in model.get_submodule("0").named_children()] == ["conv", "relu", "relu_1"]
    # one class per name: every use of a block shares it
    again = archspec.compile(USER_BLOCK)
    assert type(again.get_submodule("0")) is type(model.get_submodule("0"))
    assert isinstance(model.get_submodule("0"), torch.nn.Module)


def test_block_classes_survive_pickle_deepcopy_and_torchscript():
    model = archspec.compile("resnet18", [3, 32, 32]).eval()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = model(x)
        for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model), torch.jit.script(model)):
            torch.testing.assert_close(other(x), expected, rtol=0, atol=0)
    restored = pickle.loads(pickle.dumps(model))
    assert type(restored.layer1[0]).__name__ == "BasicBlock"
    assert list(restored.state_dict()) == list(model.state_dict())


def spec_with(layers: list, blocks: dict | None = None) -> dict:
    return {"archspec": 1, "name": "inline", "input": [4, 8, 8], "blocks": blocks or {}, "layers": layers}


def conv(out: int = 4, **extra) -> dict:
    return {"conv": {"out": out, "kernel": 3, "padding": 1}, **extra}


def test_inline_sequential_registers_its_items_on_the_enclosing_module():
    model = archspec.compile(spec_with([conv(), {"sequential": [conv(), "relu"], "inline": True}, conv()]))
    assert [name for name, _ in model.named_children()] == ["0", "1", "2", "3"]  # positions run on
    x = torch.randn(1, 4, 8, 8)
    with torch.no_grad():
        expected = model.get_submodule("3")(torch.relu(model.get_submodule("1")(model.get_submodule("0")(x))))
        torch.testing.assert_close(model(x), expected)


def test_inline_merge_adds_no_level_and_its_branches_neither():
    residual = {
        "add": {
            "branches": {
                "body": [conv(name="conv1"), {"relu": {}, "name": "relu1"}],
                "shortcut": [{"conv": {"out": 4, "kernel": 1}, "name": "downsample"}],
            }
        },
        "inline": True,
    }
    model = archspec.compile(spec_with([residual, "relu"])).eval()
    assert [name for name, _ in model.named_children()] == ["conv1", "relu1", "downsample", "3"]
    x = torch.randn(2, 4, 8, 8)
    with torch.no_grad():
        expected = torch.relu(model.relu1(model.conv1(x)) + model.downsample(x))
        torch.testing.assert_close(model(x), expected)
    report = archspec.analyze(spec_with([residual, "relu"]))
    assert [row.path for row in report.layers] == ["conv1", "relu1", "downsample", "3"]
    assert all(model.get_submodule(row.path) is not None for row in report.layers)


def test_inline_block_call_registers_the_blocks_items_on_the_caller():
    blocks = {"pair": {"layers": [conv(name="a"), {"relu": {}, "name": "b"}]}}
    model = archspec.compile(spec_with([{"pair": {}, "inline": True}, conv(8, name="head")], blocks))
    assert [name for name, _ in model.named_children()] == ["a", "b", "head"]
    assert type(model).__name__ == "CompiledNetwork"  # the block's class is gone with its level


def test_inline_repeat_and_inline_group():
    flat = archspec.compile(spec_with([{"sequential": [conv(), "relu"], "repeat": 2, "inline": True}]))
    assert [name for name, _ in flat.named_children()] == ["0", "1", "2", "3"]
    blocks = {"unit": {"layers": [conv(name="conv")]}}
    grouped = archspec.compile(
        spec_with([{"unit": {}, "repeat": 3, "inline": "group", "name": "unit${copy + 1}"}], blocks)
    )
    assert [name for name, _ in grouped.named_children()] == ["unit1", "unit2", "unit3"]
    assert type(grouped.unit2).__name__ == "Unit" and isinstance(grouped.unit2.conv, torch.nn.Conv2d)


def test_inline_concat_with_an_identity_branch():
    dense = {"concat": {"branches": {"input": [], "new": [conv(2, name="conv")]}}, "inline": True}
    model = archspec.compile(spec_with([dense]))
    x = torch.randn(1, 4, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(model(x), torch.cat([x, model.conv(x)], 1))
    assert archspec.analyze(spec_with([dense])).output_shape == [1, 6, 8, 8]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"relu": {}, "inline": True}, "'relu' is an op: it holds no modules to inline"),
        ({"head": {"layers": ["relu"]}, "inline": True}, "a 'head' cannot be inlined"),
        ({"sequential": ["relu"], "inline": True, "name": "x"}, "an inlined item adds no module"),
        ({"sequential": ["relu"], "inline": "group"}, "'inline: group' only makes sense with 'repeat'"),
        ({"sequential": ["relu"], "inline": "yes"}, "inline must be true, false or 'group'"),
    ],
)
def test_bad_inline_is_a_located_error(item, message):
    with pytest.raises(archspec.SpecError) as error:
        archspec.analyze(spec_with([item]))
    assert message in str(error.value)
    assert error.value.diagnostics[0].path[:2] == ("layers", 0)


def test_inlined_names_clash_like_any_others():
    clash = spec_with([conv(name="a"), {"sequential": [conv(name="a")], "inline": True}])
    with pytest.raises(archspec.SpecError, match="name 'a' is already used by layers\\[0\\]"):
        archspec.analyze(clash)


def test_a_block_names_its_children_by_position_as_a_torchvision_sequential_does():
    """torchvision's Conv2dNormActivation is an nn.Sequential: its children are 0, 1, 2. Digits alone are a valid
    ``name`` (a position); one taken twice is a located clash."""
    block = {"params": {}, "layers": [conv(name="0"), {"batchnorm": {}, "name": "1"}, {"relu": {}, "name": "2"}]}
    model = archspec.compile(spec_with([{"cna": {}}], {"cna": block}))
    assert [name for name, _ in model.get_submodule("0").named_children()] == ["0", "1", "2"]
    with pytest.raises(archspec.SpecError, match="name '1' is already used by layers\\[1\\]"):
        archspec.analyze(spec_with([conv(), conv(name="1"), conv(name="1")]))
