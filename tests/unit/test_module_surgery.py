"""Compiled modules are ordinary PyTorch: what people do to a model after building it changes what runs.

Fine-tuning (``model.fc = nn.Linear(...)``), fusion, LoRA injection and ``SyncBatchNorm.convert_sync_batchnorm``
all replace submodules by assignment (``setattr`` / ``add_module``); a container that kept its own list of
children would register the new module (it shows in ``state_dict()``) but keep running the old one. Each test
checks the replacement is *called* (forward hooks, call counters) and that the output changes as it must.
"""

from __future__ import annotations

import copy
import io
import pickle
import random
from pathlib import Path

import pytest
import torch
from torch import nn

import archspec
import archspec.specs
from archspec.backend import modules as archspec_modules
from archspec.backend.verify import example_input

BUNDLED = sorted(path.stem for path in Path(archspec.specs.__file__).parent.glob("*.yaml"))
SMALL = {"lenet5", "nin", "alexnet_original", "mobilenet_v1", "resnet18", "googlenet", "vgg11_bn", "densenet121"}


def _params(names):
    return [name if name in SMALL else pytest.param(name, marks=pytest.mark.slow) for name in names]


def _shape(name: str) -> list[int]:
    """64 per spatial dim where the network accepts it (cheap), else its own input (a token input: its length)."""
    report = archspec.analyze(name)
    given = report.input_shape[1:]
    if report.input_vocab is None and all(size <= 64 for size in report.min_input[1:]):
        return [given[0]] + [64] * (len(given) - 1)
    return given


def _build(name: str) -> nn.Module:
    return archspec.compile(name, input_shape=_shape(name))


def _input(name: str, batch: int = 1) -> torch.Tensor:
    """Random values, or for a token input (gpt_tiny) random indices below its vocabulary."""
    vocab = archspec.analyze(name).input_vocab
    return example_input([batch, *_shape(name)], vocab, generator=torch.Generator().manual_seed(1))


def _replace(model: nn.Module, path: str, new: nn.Module) -> None:
    parent, _, name = path.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, name, new)


def _leaves(model: nn.Module) -> list[str]:
    return [
        path
        for path, module in model.named_modules()
        if path
        and not any(True for _ in module.children())
        and not isinstance(module, nn.Sequential | archspec_modules.RoutedSequential | archspec_modules._Branches)
    ]


def _calibrated(model: nn.Module, x: torch.Tensor) -> nn.Module:
    """Batch norms with running statistics of ``x`` (as after training): freshly initialised statistics
    let activations of deep nets in eval mode decay to ~1e-10, which would hide any change upstream."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # a cumulative average over the calibration passes
    model.train()
    with torch.no_grad():
        model(x)
    return model.eval()


def _main(output):
    return output["output"] if isinstance(output, dict) else output


class Shifted(nn.Module):
    """Wraps a module, counts its calls and shifts its output by 1 (so everything downstream changes)."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.inner(x) + 1.0


@pytest.mark.parametrize("name", _params(BUNDLED))
def test_replacing_the_last_linear_changes_the_output_size(name):
    model = _build(name).eval()
    last = [
        p
        for p, m in model.named_modules()
        if isinstance(m, nn.Linear | nn.Conv1d | nn.Conv2d | nn.Conv3d) and not p.startswith("aux")
    ][-1]
    old = model.get_submodule(last)
    x = _input(name)
    with torch.no_grad():
        before = _main(model(x))
        if isinstance(old, nn.Linear):
            _replace(model, last, nn.Linear(old.in_features, 7))
        else:
            _replace(model, last, type(old)(old.in_channels, 7, old.kernel_size, old.stride, old.padding))
        after = _main(model(x))
    dim = -1 if isinstance(old, nn.Linear) else 1  # a linear sets the last dim (gpt_tiny's [N, L, vocab] too)
    assert before.shape[dim] != 7 and after.shape[dim] == 7, (before.shape, after.shape)
    assert f"{last}.weight" in model.state_dict() and model.state_dict()[f"{last}.weight"].shape[0] == 7


def test_lenet5_replacing_c1_is_what_runs():
    model = _build("lenet5").eval()
    model.c1 = Shifted(model.c1)
    x = _input("lenet5")
    with torch.no_grad():
        shifted = model(x)
        model.c1 = model.c1.inner
        plain = model(x)
    assert not torch.allclose(shifted, plain)


# Every kind of place a leaf can sit: the top-level list, a routed list (id/from), the branches of concat /
# add / multiply, a merge without branches, a named sequential and a head (which runs in eval mode).
EVERY_DEPTH = {
    "archspec": 1,
    "name": "every_depth",
    "input": [3, 12, 12],
    "layers": [
        {"conv": {"out": 8, "kernel": 3, "padding": 1}, "id": "stem"},
        "relu",
        {"head": {"layers": ["global_avgpool", "flatten", {"linear": {"out": 5}}]}, "name": "side"},
        {
            "concat": {
                "branches": {
                    "a": [{"conv": {"out": 4, "kernel": 1}}],
                    "b": [{"conv": {"out": 4, "kernel": 3, "padding": 1}}, "tanh"],
                }
            }
        },
        {"add": {"branches": {"body": [{"conv": {"out": 8, "kernel": 1}}, "batchnorm"], "shortcut": []}}},
        {"multiply": {"branches": [["sigmoid"], [{"conv": {"out": 8, "kernel": 1}}]]}, "id": "gated"},
        {
            "sequential": [
                {"conv": {"out": 8, "kernel": 1}, "id": "inner"},
                "relu",
                {"add": {}, "from": ["inner", "prev"]},
                {"conv": {"out": 8, "kernel": 1}},
            ],
            "name": "deep",
        },
        {"sequential": [{"conv": {"out": 8, "kernel": 1}}, "relu"], "name": "plain"},
        {"add": {}, "from": ["stem", "prev"], "id": "joined"},
        {"conv": {"out": 8, "kernel": 1}, "from": "gated", "id": "late"},
        {"concat": {}, "from": ["prev", "joined"]},
        "global_avgpool",
        "flatten",
        {"linear": {"out": 3}, "name": "fc"},
    ],
}


def _outputs(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        output = model(x)
    return output if isinstance(output, dict) else {"output": output}


def test_a_wrapped_leaf_is_called_and_changes_the_output_at_every_depth():
    x = torch.randn(2, 3, 12, 12, generator=torch.Generator().manual_seed(0))
    reference = archspec.compile(EVERY_DEPTH).eval()
    expected = _outputs(reference, x)
    leaves = _leaves(reference)
    parents = {type(reference.get_submodule(p.rpartition(".")[0]) if "." in p else reference).__name__ for p in leaves}
    assert parents >= {"CompiledNetwork", "RoutedSequential", "Sequential", "Head"}, parents
    grandparents = {
        type(reference.get_submodule(".".join(p.split(".")[:-2]))).__name__ for p in leaves if p.count(".") >= 2
    }
    assert grandparents >= {"Concat", "Add", "Multiply"}, grandparents
    for path in leaves:
        model = copy.deepcopy(reference)
        wrapper = Shifted(model.get_submodule(path))
        _replace(model, path, wrapper)
        got = _outputs(model, x)
        assert wrapper.calls == 1, path
        assert got.keys() == expected.keys()
        changed = [key for key in got if not torch.allclose(got[key], expected[key])]
        top = list(reference._modules).index(path.split(".")[0])
        before_head = top < list(reference._modules).index("side")
        expected_changes = ["side"] if path.startswith("side.") else ["output", "side"] if before_head else ["output"]
        assert changed == expected_changes, (path, changed)


@pytest.mark.parametrize("name", ["resnet18", "googlenet", "densenet121", "mobilenet_v1"])
def test_random_leaves_of_bundled_networks_are_called_when_replaced(name):
    x = _input(name, batch=2)
    model = _calibrated(_build(name), x).train(name == "googlenet")  # googlenet's train-only heads run in training
    leaves = _leaves(model)
    chosen = [*random.Random(name).sample(leaves, 6), leaves[0], leaves[-1]]
    by_depth = {path.count(".") for path in chosen}
    assert len(by_depth) >= 2, chosen
    for path in chosen:
        copy_ = copy.deepcopy(model)
        wrapper = Shifted(copy_.get_submodule(path))
        _replace(copy_, path, wrapper)
        with torch.no_grad():
            torch.manual_seed(0)
            before = model(x)
            torch.manual_seed(0)
            after = copy_(x)
        assert wrapper.calls == 1, path
        before = before if isinstance(before, dict) else {"output": before}
        after = after if isinstance(after, dict) else {"output": after}
        assert any(not torch.allclose(before[k], after[k]) for k in before), path


def test_deleting_and_adding_children_changes_what_runs():
    model = _build("lenet5").eval()
    x = _input("lenet5")
    with torch.no_grad():
        full = model(x)
        model.add_module("extra", nn.Linear(full.shape[1], 4))
        assert model(x).shape == (1, 4)
        del model.extra
        assert torch.equal(model(x), full)
    routed = archspec.compile(EVERY_DEPTH).eval()
    y = torch.randn(1, 3, 12, 12)
    with torch.no_grad():
        before = routed(y)["output"]
        routed.add_module("tail", nn.Linear(3, 2))
        assert routed(y)["output"].shape == (1, 2)
        del routed.tail
        assert torch.equal(routed(y)["output"], before)


def test_fuse_modules_on_resnet18_gives_the_same_outputs_and_runs_the_fused_modules():
    from torch.ao.quantization import fuse_modules

    model = _build("resnet18").eval()
    triples = []
    for path, module in model.named_modules():
        names = list(module._modules)
        kinds = [type(child) for child in module.children()]
        for i in range(len(names) - 2):
            if kinds[i : i + 3] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU]:
                triples.append([f"{path}.{n}" if path else n for n in names[i : i + 3]])
    assert len(triples) >= 9, triples  # the stem and the first conv of every basic block
    x = _input("resnet18", batch=2)
    with torch.no_grad():
        expected = model(x)
        fused = fuse_modules(model, triples)
        calls = []
        for path, module in fused.named_modules():
            if type(module).__name__ == "ConvReLU2d":
                module.register_forward_hook(lambda *_, path=path: calls.append(path))
        got = fused(x)
    assert sorted(calls) == sorted(t[0] for t in triples)
    assert not any(isinstance(m, nn.BatchNorm2d) for p, m in fused.named_modules() if p in {t[1] for t in triples})
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["resnet18", "googlenet", "densenet121"])
def test_convert_sync_batchnorm_converts_every_batchnorm_and_they_run(name):
    model = _build(name).eval()
    count = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    x = _input(name)
    ran_before: list[str] = []
    hooks = [
        module.register_forward_hook(lambda *_, path=path: ran_before.append(path))
        for path, module in model.named_modules()
        if isinstance(module, nn.BatchNorm2d)
    ]
    with torch.no_grad():
        expected = model(x)
    for hook in hooks:
        hook.remove()
    with torch.no_grad():
        converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        ran_after: list[str] = []
        for path, module in converted.named_modules():
            if isinstance(module, nn.SyncBatchNorm):
                module.register_forward_hook(lambda *_, path=path: ran_after.append(path))
        got = converted(x)
    assert count > 0 and ran_before
    assert sum(isinstance(m, nn.SyncBatchNorm) for m in converted.modules()) == count
    assert not any(type(m) is nn.BatchNorm2d for m in converted.modules())
    assert ran_after == ran_before  # the converted modules run where the originals ran (eval skips train heads)
    torch.testing.assert_close(got, expected)


def test_lora_on_the_linear_layers_trains_only_the_adapters():
    peft = pytest.importorskip("peft")
    model = _build("lenet5")
    linears = [path for path, m in model.named_modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 3
    config = peft.LoraConfig(r=4, lora_alpha=8, target_modules=linears, init_lora_weights=False)
    model = peft.inject_adapter_in_model(config, model)
    for parameter_name, parameter in model.named_parameters():
        parameter.requires_grad = "lora_" in parameter_name
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert {n.split(".lora_")[0] for n in trainable} == set(linears)
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    adapters = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    x, target = _input("lenet5", batch=4), torch.tensor([0, 1, 2, 3])
    optimiser = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model.eval()
    with torch.no_grad():
        before = model(x)
    loss = nn.functional.cross_entropy(model(x), target)
    loss.backward()
    optimiser.step()
    with torch.no_grad():
        after = model(x)
    assert all(torch.equal(p, frozen[n]) for n, p in model.named_parameters() if n in frozen)
    assert all(not torch.equal(p, adapters[n]) for n, p in model.named_parameters() if n in adapters)
    assert not torch.allclose(before, after)  # the adapters are in the forward pass


@pytest.mark.parametrize("name", ["lenet5", "googlenet", "resnet18"])
def test_deepcopy_pickle_save_and_float64_give_the_same_outputs(name):
    model = _build(name).eval()
    x = _input(name, batch=2)
    with torch.no_grad():
        expected = model(x)
        buffer = io.BytesIO()
        torch.save(model, buffer)
        buffer.seek(0)
        copies = [copy.deepcopy(model), pickle.loads(pickle.dumps(model)), torch.load(buffer, weights_only=False)]
        for other in copies:
            torch.testing.assert_close(other(x), expected, rtol=0, atol=0)
        wide = copy.deepcopy(model).to(torch.float64)
        output = wide(x.double())
    assert output.dtype == torch.float64
    torch.testing.assert_close(output.float(), expected, rtol=1e-4, atol=1e-5)
    copies[0].get_submodule(_leaves(model)[0]).weight.data.zero_()  # copies share nothing with the original
    with torch.no_grad():
        torch.testing.assert_close(model(x), expected, rtol=0, atol=0)


def _same(a, b) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-5)
    else:
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
@pytest.mark.parametrize("name", _params(BUNDLED))
def test_every_bundled_spec_scripts_and_the_script_computes_the_same(name):
    model = _build(name).eval()
    if any(row.parameter for row in archspec.analyze(name).layers):
        # ConvNeXt's layer_scale and the other parameter items: refused with the reason (README, Parameter items)
        with pytest.raises(RuntimeError, match=r"torch\.jit\.script cannot compile parameter items"):
            torch.jit.script(model)
        return
    scripted = torch.jit.script(model)
    x = _input(name)
    with torch.no_grad():
        _same(scripted(x), model(x))
        if name == "googlenet":  # the train-only heads run in the scripted module too
            model.train()
            scripted.train()
            assert set(scripted(x)) == set(model(x)) == {"output", "aux1", "aux2"}


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
def test_routed_spec_scripts_and_a_nested_head_is_refused_with_a_reason():
    model = archspec.compile(EVERY_DEPTH).eval()
    x = torch.randn(2, 3, 12, 12)
    with torch.no_grad():
        _same(torch.jit.script(model)(x), model(x))
    layers = EVERY_DEPTH["layers"]
    nested = {**EVERY_DEPTH, "layers": [*layers[:2], {"sequential": [layers[2]], "name": "trunk"}, *layers[3:]]}
    with pytest.raises(RuntimeError, match=r"heads nested inside other modules \(trunk\.side\)"):
        torch.jit.script(archspec.compile(nested))
