"""Generated standalone source builds a module equal to archspec.compile's: same state-dict keys and shapes,
same outputs with the same weights — and it imports nothing but torch."""

from __future__ import annotations

import ast

import pytest
import torch

import archspec
from archspec.render.codegen import generate_source

UNET = {
    "archspec": 1,
    "name": "tiny_unet",
    "input": [2, 16, 16],
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


# Every layout and selection op, and an inlined channel split inside a block (issue 11).
LAYOUT = {
    "archspec": 1,
    "name": "layout_ops",
    "input": [8, 8, 12],
    "blocks": {
        "unit": {
            "layers": [
                {
                    "channel_split": {"branches": [[], [{"conv": {"out": 4, "kernel": 3, "padding": 1}}]]},
                    "inline": True,
                },
                {"channel_shuffle": {"groups": 2}},
            ]
        }
    },
    "layers": [
        {"unit": {}},
        {"permute": {"dims": [0, 2, 3, 1]}},
        {"linear": {"out": 8}},
        {"transpose": {"dim0": 1, "dim1": 2}},
        {"slice": {"dim": 1, "start": 1, "step": 2}},
        {"permute": {"dims": [0, 3, 2, 1]}},
        {"unflatten": {"dim": 1, "sizes": [2, -1]}},
        {"reshape": {"shape": [8, -1]}},
        {"select": {"dim": 2, "index": -1}},
    ],
}


def build_generated(source: str) -> torch.nn.Module:
    namespace: dict = {"__name__": "generated"}
    exec(compile(source, "<generated>", "exec"), namespace)  # the test executes its own generated code
    return namespace["build_model"]()


# archspec's own layer classes (archspec/backend/layers), which the generated source copies: issue 11's norms
NORMS = {
    "archspec": 1,
    "name": "norms",
    "input": [4, 12, 12],
    "layers": [
        {"layernorm": {"channels": True}},
        {"groupnorm": {"groups": 2}},
        {"instancenorm": {"affine": True, "track_running_stats": True}},
        {"stochastic_depth": {"p": 0.5}},
        {"layernorm": {"dims": 2}},
    ],
}


@pytest.mark.parametrize(
    "spec",
    [
        *("lenet5", "resnet18", "googlenet", "densenet121", "mobilenet_v3_small", "efficientnet_b0"),
        *("shufflenet_v2_x1_0", UNET, NORMS, LAYOUT),
    ],
    ids=[
        *("lenet5", "resnet18", "googlenet", "densenet121", "mobilenet_v3_small", "efficientnet_b0"),
        *("shufflenet", "unet", "norms", "layout"),
    ],
)
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
        out_compiled = compiled(x)
        torch.manual_seed(0)  # stochastic depth draws too: the same numbers for both
        out_generated = generated(x)
        if isinstance(out_compiled, dict):
            assert out_compiled.keys() == out_generated.keys()
            for key in out_compiled:
                torch.testing.assert_close(out_generated[key], out_compiled[key])
        else:
            torch.testing.assert_close(out_generated, out_compiled)


def test_generated_source_imports_only_torch_and_stdlib():
    tree = ast.parse(generate_source(archspec.expand(UNET)) + generate_source(archspec.expand(NORMS)))
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"torch", "collections", "typing", "__future__"}


# --- spec-derived text in the generated source -----------------------------------------------------------

HOSTILE_FILE_NAMES = [
    "a\\xz.yaml",  # a backslash escape that is not one: made the source uncompilable
    'x""";open("PWNED", "w").write("x");""".yaml',  # closes the docstring and runs code
    "x'''; import os; '''.yaml",
    "new\nline.yaml",
    "tab\tand\rreturn.yaml",
    "bell\x07.yaml",
    "trailing\\",
    'quote".yaml',
    "unicode ünï ☃ \u2028.yaml",
]
SMALL_SPEC = "archspec: 1\nname: hostile\ninput: [1, 8]\nlayers:\n  - conv: {out: 2, kernel: 3}\n  - relu\n"


def _top_level_names(source: str) -> list[str]:
    """What the generated module defines at its top level, in order."""
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [target.id for target in node.targets if isinstance(target, ast.Name)]
    return names


@pytest.mark.parametrize("file_name", HOSTILE_FILE_NAMES, ids=range(len(HOSTILE_FILE_NAMES)))
def test_hostile_file_names_stay_text_in_the_docstring(file_name, tmp_path, monkeypatch):
    path = tmp_path / file_name.replace("/", "_")
    path.write_text(SMALL_SPEC, encoding="utf-8")
    source = generate_source(archspec.expand(str(path)))
    tree = ast.parse(source)  # it compiles
    docstring = ast.get_docstring(tree, clean=False)
    assert docstring.startswith(f"hostile: generated by archspec from {path}. Needs only torch.")
    assert _top_level_names(source) == _top_level_names(generate_source(archspec.expand(SMALL_SPEC_DICT)))
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    model = build_generated(source)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing ran that wrote a file
    assert [p for p, _ in model.named_modules()] == ["", "0", "1"]


SMALL_SPEC_DICT = {
    "archspec": 1,
    "name": "hostile",
    "input": [1, 8],
    "layers": [{"conv": {"out": 2, "kernel": 3}}, "relu"],
}


def test_file_name_that_is_not_utf8_still_writes(tmp_path):
    """A file name with undecodable bytes reaches Python as lone surrogates, which cannot be written as UTF-8
    unless escaped."""
    import os

    raw = os.fsencode(str(tmp_path)) + b"/bad\xff.yaml"
    with open(raw, "wb") as handle:
        handle.write(SMALL_SPEC.encode())
    source = generate_source(archspec.expand(os.fsdecode(raw)))
    source.encode("utf-8")
    compile(source, "<generated>", "exec")


def test_spec_strings_are_literals_in_the_generated_calls():
    """String arguments and names reach the source through repr: a quote in a value cannot end it early."""
    spec = {
        "archspec": 1,
        "name": "quotes",
        "input": [2, 8, 8],
        "layers": [
            {"conv": {"out": 2, "kernel": 3, "padding": 1, "padding_mode": "reflect"}},
            {"upsample": {"scale": 2, "mode": "nearest"}, "name": "up"},
        ],
    }
    source = generate_source(archspec.expand(spec))
    assert "padding_mode='reflect'" in source and "('up', nn.Upsample(" in source
    compile(source, "<generated>", "exec")


def test_non_finite_floats_are_written_as_calls():
    from archspec.render.codegen import _literal, _Where

    assert _literal(float("inf"), 0, _Where()) == "float('inf')"
    assert eval(_literal(float("-inf"), 0, _Where())) == float("-inf")  # the test's own literal
    assert _literal(1e-5, 0, _Where()) == "1e-05"
