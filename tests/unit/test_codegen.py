"""Generated standalone source builds a module equal to archspec.compile's: same state-dict keys and shapes,
same outputs with the same weights — and it imports nothing but torch."""

from __future__ import annotations

import ast

import pytest
import torch

import archspec
from archspec.render.codegen import generate_source

UNET = {
    "archspec": 1, "name": "tiny_unet", "input": [2, 16, 16],
    "layers": [
        {"conv": {"out": 4, "kernel": 3, "padding": 1}, "id": "enc1"},
        {"maxpool": {"kernel": 2}},
        {"conv": {"out": 8, "kernel": 3, "padding": 1}},
        {"conv_transpose": {"out": 4, "kernel": 2, "stride": 2}},
        {"concat": {}, "from": ["prev", "enc1"]},
        {"add": {"branches": [[{"conv": {"out": 8, "kernel": 1}}], []]}},
        {"head": {"layers": [{"global_avgpool": None}, "flatten", {"linear": {"out": 3}}]}, "name": "aux"},
        {"conv": {"out": 1, "kernel": 1}},
    ],
}


def build_generated(source: str) -> torch.nn.Module:
    namespace: dict = {"__name__": "generated"}
    exec(compile(source, "<generated>", "exec"), namespace)  # the test executes its own generated code
    return namespace["build_model"]()


@pytest.mark.parametrize("spec", ["lenet5", "resnet18", "googlenet", "densenet121", UNET],
                         ids=["lenet5", "resnet18", "googlenet", "densenet121", "unet"])
def test_generated_module_equals_compiled(spec):
    network = archspec.expand(spec)
    compiled = archspec.compile(network)
    generated = build_generated(generate_source(network))
    expected_shapes = {k: v.shape for k, v in compiled.state_dict().items()}
    assert {k: v.shape for k, v in generated.state_dict().items()} == expected_shapes
    assert [p for p, _ in generated.named_modules()] == [p for p, _ in compiled.named_modules()]
    generated.load_state_dict(compiled.state_dict())
    x = torch.randn(2, *network.input[:1], *[max(s // 4, 32) if s > 32 else s for s in network.input[1:]])
    for mode in (False, True):
        torch.manual_seed(0)
        compiled.train(mode)
        generated.train(mode)
        if mode:  # dropout draws random numbers: compare with it disabled
            for module in [*compiled.modules(), *generated.modules()]:
                if isinstance(module, torch.nn.modules.dropout._DropoutNd):
                    module.p = 0.0
        out_compiled, out_generated = compiled(x), generated(x)
        if isinstance(out_compiled, dict):
            assert out_compiled.keys() == out_generated.keys()
            for key in out_compiled:
                torch.testing.assert_close(out_generated[key], out_compiled[key])
        else:
            torch.testing.assert_close(out_generated, out_compiled)


def test_generated_source_imports_only_torch_and_stdlib():
    tree = ast.parse(generate_source(archspec.expand(UNET)))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"torch", "collections", "typing", "__future__"}
