"""In-place activations (``archspec.compile(..., in_place=True)``, the default) change nothing but memory.

The backend gives ReLU / ReLU6 / LeakyReLU their in-place form only where the input is the fresh output of
the previous item that nothing else reads. If that rule were wrong, an in-place op would overwrite a tensor
that a branch, a skip, a head or autograd still needs: the outputs or the gradients would change, or the
backward pass would raise. So random chains and random branching specs are compiled both ways with the same
weights and must agree exactly — outputs in eval and train mode, gradients of the input and of every
parameter in train mode. Where the in-place form is used is checked against torchvision's own modules.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import given, note, settings
from test_random_graphs import graphs
from test_random_specs import valid_specs

import archspec

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def in_place_paths(model: torch.nn.Module) -> list[str]:
    return [path for path, module in model.named_modules() if getattr(module, "inplace", False)]


def flat(output: Any) -> list[torch.Tensor]:
    return list(output.values()) if isinstance(output, dict) else [output]


def run(model: torch.nn.Module, x: torch.Tensor, train: bool) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Outputs, and (in train mode) the gradients of the input and of every parameter."""
    model.train(train)
    torch.manual_seed(1)  # the same dropout masks for both modules
    x = x.clone().requires_grad_(train)
    outputs = flat(model(x))
    if not train:
        return [o.detach() for o in outputs], []
    weights = [torch.linspace(0.5, 1.5, o.numel(), dtype=o.dtype).reshape(o.shape) for o in outputs]
    loss = sum((o * w).sum() for o, w in zip(outputs, weights, strict=True))
    parameters = [p for p in model.parameters()]
    grads = torch.autograd.grad(loss, [x, *parameters], allow_unused=True)
    return [o.detach() for o in outputs], [torch.zeros(()) if g is None else g for g in grads]


def assert_in_place_changes_nothing(spec: dict, batch: int) -> int:
    network = archspec.expand(spec)
    torch.manual_seed(0)
    reference = archspec.compile(network, in_place=False)
    candidate = archspec.compile(network, in_place=True)
    candidate.load_state_dict(reference.state_dict())
    assert not in_place_paths(reference)
    x = torch.randn(batch, *network.input, generator=torch.Generator().manual_seed(2), dtype=torch.float32)
    for train in (False, True):
        expected, expected_grads = run(reference, x, train)
        actual, actual_grads = run(candidate, x, train)
        for e, a in zip(expected + expected_grads, actual + actual_grads, strict=True):
            assert torch.equal(e, a)
    return len(in_place_paths(candidate))


@settings(max_examples=settings.default.max_examples // 2)
@given(valid_specs())
def test_random_chains_agree_with_and_without_in_place(case):
    spec, _ = case
    note(f"spec: {spec}")
    assert_in_place_changes_nothing(spec, batch=2)


@settings(max_examples=settings.default.max_examples // 2)
@given(graphs())
def test_random_graphs_agree_with_and_without_in_place(case):
    """Branches sharing an input, identity branches, long skips (id/from), heads and repeats."""
    spec, _ = case
    note(f"spec: {spec}")
    assert_in_place_changes_nothing(spec, batch=2)


def chain(*layers: Any, input: list[int] | None = None) -> dict:
    return {"archspec": 1, "name": "chain", "input": input or [3, 8, 8], "layers": list(layers)}


CONV = {"conv": {"out": 4, "kernel": 3, "padding": 1}}
CONV3 = {"conv": {"out": 3, "kernel": 3, "padding": 1}}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(chain(CONV, "relu"), ["1"], id="after-conv"),
        pytest.param(chain(CONV, "batchnorm", "relu6"), ["2"], id="after-batchnorm"),
        pytest.param(chain(CONV, {"maxpool": {"kernel": 2}}, {"leaky_relu": {"slope": 0.1}}), ["2"], id="after-pool"),
        pytest.param(chain("relu", CONV), [], id="first-item-reads-the-network-input"),
        pytest.param(chain(CONV, "relu", "relu"), ["1"], id="relu-after-in-place-relu"),
        pytest.param(chain(CONV, "sigmoid", "relu"), [], id="sigmoid-backward-reads-its-output"),
        pytest.param(chain(CONV, "flatten", "relu"), [], id="flatten-is-a-view"),
        pytest.param(chain(CONV, {"dropout": {"p": 0.5}}, "relu"), [], id="dropout-returns-its-input-in-eval"),
        pytest.param(chain(CONV, "identity", "relu"), [], id="identity-passes-its-input"),
        pytest.param(chain(CONV, "gelu", "silu"), [], id="no-in-place-form"),
        pytest.param(
            chain({**CONV, "id": "saved"}, "relu", {"add": {}, "from": ["prev", "saved"]}),
            [],
            id="output-read-again-by-from",
        ),
        pytest.param(chain(CONV, {"relu": {}, "from": "input"}), [], id="reads-through-from"),
        pytest.param(
            chain(CONV, {"head": {"layers": ["global_avgpool"]}}, "relu"), [], id="after-a-head-passes-its-input"
        ),
        pytest.param(chain({"add": {"branches": [["relu"], [CONV3]]}}), [], id="first-in-a-branch-shares-the-input"),
        pytest.param(chain({"add": {"branches": [[CONV], [CONV]]}}, "relu"), ["1"], id="after-add"),
        pytest.param(chain({"concat": {"branches": [[], []]}}, "relu"), ["1"], id="concat-allocates"),
        pytest.param(chain({"sequential": [CONV, "batchnorm"]}, "relu"), ["1"], id="after-a-group-ending-fresh"),
        pytest.param(chain({"sequential": [CONV, "tanh"]}, "relu"), [], id="after-a-group-ending-in-tanh"),
    ],
)
def test_where_the_in_place_form_is_used(spec, expected):
    assert in_place_paths(archspec.compile(spec)) == expected
    assert assert_in_place_changes_nothing(spec, batch=2) == len(expected)


@pytest.mark.parametrize("name", ["vgg16", "vgg11_bn", "alexnet", "resnet18", "resnet50", "densenet121"])
def test_every_relu_is_in_place_as_in_torchvision(name):
    """torchvision builds every ReLU of these networks with ``inplace=True``; so does archspec."""
    import torchvision

    reference = getattr(torchvision.models, name)(weights=None)
    relus = [m for m in reference.modules() if isinstance(m, torch.nn.ReLU)]
    assert relus and all(m.inplace for m in relus)
    compiled = [m for m in archspec.compile(name).modules() if isinstance(m, torch.nn.ReLU)]
    assert compiled and all(m.inplace for m in compiled)


def test_googlenet_relus_are_in_place():
    """torchvision's BasicConv2d calls ``F.relu(x, inplace=True)`` after every batchnorm."""
    compiled = archspec.compile("googlenet")
    relus = [m for m in compiled.modules() if isinstance(m, torch.nn.ReLU)]
    assert relus and all(m.inplace for m in relus)
