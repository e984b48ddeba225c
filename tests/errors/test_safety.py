"""Nothing in a spec executes: object-constructing YAML tags are refused, expressions are a small arithmetic
language (no attribute access, other calls, subscripts, lambdas, comprehensions or dunder names), and no spec
value names a Python object that gets imported.

The proof is a sentinel: every hostile payload tries to create a file (directly, or by importing ``evil_mod``, a
module on the path whose import creates it); the file never appears, ``evil_mod`` is never imported, and every
refusal is a located error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from errortools import assert_located_error, assert_located_report, run_cli, subprocess_env

import archspec
from archspec.cli import main

HEADER = "archspec: 1\nname: hostile\ninput: [3, 8, 8]\n"
EVIL_MODULE = "evil_mod"


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A working directory with ``evil_mod`` importable; returns the sentinel path its import would create."""
    sentinel = tmp_path / "PWNED"
    (tmp_path / f"{EVIL_MODULE}.py").write_text(
        f"from pathlib import Path\nPath({str(sentinel)!r}).touch()\n"
        "def run(*args, **kwargs):\n    Path(" + repr(str(sentinel)) + ").touch()\n"
        "class Thing:\n    def __init__(self, *args, **kwargs):\n        run()\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, EVIL_MODULE, raising=False)
    yield sentinel
    assert not sentinel.exists(), "a spec made archspec execute code"
    assert EVIL_MODULE not in sys.modules, "a spec made archspec import a module"


def quoted(text: str) -> str:
    """A YAML single-quoted scalar."""
    return "'" + text.replace("'", "''") + "'"


def check(path: Path, capsys) -> str:
    code = main(["check", str(path)])
    out, err = capsys.readouterr()
    assert code == 1, out
    assert_located_report(err, str(path))
    return err


# -- YAML tags ----------------------------------------------------------------------------------------------

TAGS = [
    '!!python/object/apply:os.system ["touch {sentinel}"]',
    '!!python/object/apply:subprocess.check_call [["touch", "{sentinel}"]]',
    '!!python/object/new:os.system ["touch {sentinel}"]',
    "!!python/object/apply:evil_mod.run []",
    "!!python/object:evil_mod.Thing {{}}",
    "!!python/object/new:evil_mod.Thing {{}}",
    "!!python/name:evil_mod.run",
    "!!python/name:os.system",
    "!!python/module:evil_mod",
    "!!python/module:os",
    '!<tag:yaml.org,2002:python/object/apply:os.system> ["touch {sentinel}"]',
    "!evil {{x: 1}}",
    "!!binary aGVsbG8=",
    "!!set {{a, b}}",
    "!!timestamp 2001-12-14",
    "!!omap [a: 1]",
]
PLACES = {
    "op-arguments": "layers:\n  - conv: {tag}\n",
    "argument-value": "layers:\n  - conv: {{out: {tag}, kernel: 3}}\n",
    "layer-item": "layers:\n  - {tag}\n",
    "param": "params:\n  width: {tag}\nlayers:\n  - relu\n",
    "mapping-key": "layers:\n  - conv:\n      ? {tag}\n      : 3\n",
}


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("tag", TAGS, ids=[t.split()[0][:40] for t in TAGS])
def test_object_constructing_tags_are_refused(tag, place, sandbox, capsys):
    spec = sandbox.parent / "spec.yaml"
    spec.write_text(HEADER + PLACES[place].format(tag=tag.format(sentinel=sandbox)), encoding="utf-8")
    err = check(spec, capsys)
    assert "YAML tag" in err
    with pytest.raises(archspec.SpecError) as info:
        archspec.load(str(spec))
    assert_located_error(info.value, str(spec))
    line = info.value.diagnostics[0].location.line
    assert "!" in spec.read_text(encoding="utf-8").splitlines()[line - 1], "the error points at the tag's line"


# -- expressions --------------------------------------------------------------------------------------------

HOSTILE_EXPRESSIONS = [
    "${__import__('os').system('touch {sentinel}')}",
    "${__import__('evil_mod')}",
    "${().__class__}",
    "${().__class__.__base__.__subclasses__()}",
    "${[c for c in ().__class__.__base__.__subclasses__()]}",
    "${open('{sentinel}', 'w')}",
    "${eval(\"__import__('evil_mod')\")}",
    "${exec('import evil_mod')}",
    "${compile('1', 'x', 'eval')}",
    "${globals()}",
    "${vars()}",
    "${getattr(1, 'real')}",
    "${type(1)}",
    "${input()}",
    "${breakpoint()}",
    "${print(1)}",
    "${(lambda: __import__('evil_mod'))()}",
    "${lambda: 1}",
    "${{x: 1 for x in [1]}}",
    "${{1, 2}}",
    "${(x := 1)}",
    "${f'{1}'}",
    "${'a' + 'b'}",
    "${b'x'}",
    "${width.__class__}",
    "${width[0]}",
    "${max(*[1, 2])}",
    "${min([1, 2], key=abs)}",
    "${evil_mod}",
    "${__builtins__}",
    "$__import__",
    "$__class__",
    "${__name__}",
    "${1 if __debug__ else 2}",
    "${[0] * 10 ** 9}",
    "${9 ** 9 ** 9}",
    "${round(width, -10 ** 18)}",  # hung: Python's int round computes 10 ** -ndigits
    "${round(width, -4000000000)}",
    "${round(2.5, 10 ** 18)}",
    "${round(width, 0.5)}",
    "${round(10 ** 10 ** 10)}",
    "${ceil(0.5 ** -10 ** 18)}",
]
# Where an expression may stand, and the spec path its error must name.
SLOTS = {
    "op-argument": ("layers:\n  - conv: {{out: {expr}, kernel: 3}}\n", ("layers", 0)),
    "per-dim-list": ("layers:\n  - conv: {{out: 4, kernel: [3, {expr}]}}\n", ("layers", 0)),
    "name": ("layers:\n  - relu:\n    name: {expr}\n", ("layers", 0)),
    "repeat": ("layers:\n  - relu:\n    repeat: {expr}\n", ("layers", 0)),
    "if": ("layers:\n  - relu:\n    if: {expr}\n", ("layers", 0)),
    "first": ("layers:\n  - conv: {{out: 4, kernel: 1}}\n    repeat: 2\n    first: {{out: {expr}}}\n", ("layers", 0)),
    "param": ("params:\n  k: {expr}\nlayers:\n  - relu\n", ("params", "k")),
    "block-default": (
        "blocks:\n  b:\n    params: {{k: {expr}}}\n    layers:\n      - conv: {{out: $k, kernel: 1}}\nlayers:\n  - b\n",
        ("blocks", "b", "params", "k"),
    ),
    "block-argument": (
        "blocks:\n  b:\n    params: {{k: 1}}\n    layers:\n      - conv: {{out: $k, kernel: 1}}\n"
        "layers:\n  - b: {{k: {expr}}}\n",
        ("layers", 0),
    ),
}


@pytest.mark.parametrize("slot", sorted(SLOTS))
@pytest.mark.parametrize("expression", HOSTILE_EXPRESSIONS, ids=[e[:40] for e in HOSTILE_EXPRESSIONS])
def test_hostile_expressions_are_refused_and_located(expression, slot, sandbox):
    template, item_path = SLOTS[slot]
    expr = quoted(expression.replace("{sentinel}", str(sandbox)))
    spec = sandbox.parent / "spec.yaml"
    body = template.format(expr=expr)
    params = "params:\n  width: 8\n"  # a param for the expressions that use one
    body = body.replace("params:\n", params, 1) if body.startswith("params:") else params + body
    spec.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(str(spec))
    assert_located_error(info.value, str(spec))
    assert any(d.path[: len(item_path)] == item_path for d in info.value.diagnostics), str(info.value)


def test_refused_expression_points_at_its_value(sandbox):
    text = HEADER + "layers:\n  - conv: {out: 4, kernel: 3}\n  - conv: {out: '${().__class__}', kernel: 3}\n"
    spec = sandbox.parent / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(str(spec))
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.path == ("layers", 1, "conv", "out")
    assert (diagnostic.location.line, diagnostic.location.column) == (6, 17)
    assert "attribute access is not allowed" in diagnostic.message


# -- names never import anything ----------------------------------------------------------------------------

NAMES = {
    "dotted-op": "layers:\n  - evil_mod.run\n",
    "dotted-op-with-args": "layers:\n  - evil_mod.Thing: {x: 1}\n",
    "torch-path": "layers:\n  - torch.nn.ReLU\n",
    "module-as-op": "layers:\n  - evil_mod\n",
    "module-as-block": "layers:\n  - evil_mod: {x: 1}\n",
    "padding-mode": "layers:\n  - conv: {out: 4, kernel: 3, padding_mode: evil_mod.run}\n",
    "upsample-mode": "layers:\n  - upsample: {scale: 2, mode: evil_mod}\n",
    "item-name": "layers:\n  - relu:\n    name: evil_mod.run\n",
    "from-id": "layers:\n  - relu:\n    from: evil_mod\n",
    "top-level-key": "evil_mod: run\nlayers:\n  - relu\n",
}


@pytest.mark.parametrize("case", sorted(NAMES))
def test_names_in_a_spec_never_import(case, sandbox, capsys):
    spec = sandbox.parent / "spec.yaml"
    spec.write_text(HEADER + NAMES[case], encoding="utf-8")
    check(spec, capsys)


def test_nothing_executes_in_a_real_process(tmp_path):
    """The same payloads through ``python -m archspec.cli check`` with ``evil_mod`` on PYTHONPATH."""
    sentinel = tmp_path / "PWNED"
    (tmp_path / f"{EVIL_MODULE}.py").write_text(f"open({str(sentinel)!r}, 'w').close()\n", encoding="utf-8")
    specs = []
    for index, text in enumerate(
        [
            f'layers:\n  - conv: !!python/object/apply:os.system ["touch {sentinel}"]\n',
            "name2: !!python/module:evil_mod\nlayers:\n  - relu\n",
            "layers:\n  - conv: {out: "
            + quoted(f"${{__import__('os').system('touch {sentinel}')}}")
            + ", kernel: 3}\n",
            "layers:\n  - conv: {out: '${().__class__}', kernel: 3}\n",
            "layers:\n  - conv: {out: " + quoted(f"${{open('{sentinel}', 'w')}}") + ", kernel: 3}\n",
            "layers:\n  - evil_mod.run\n",
        ]
    ):
        path = tmp_path / f"hostile{index}.yaml"
        path.write_text(HEADER + text, encoding="utf-8")
        specs.append(str(path))
    result = run_cli("check", *specs, cwd=tmp_path, env=subprocess_env(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    files = {line.split(":", 1)[0] for line in result.stderr.splitlines()}
    assert files == set(specs)
    assert not sentinel.exists()


def test_override_values_are_plain_data_too(sandbox, capsys):
    """``--set`` values are read with the same safe loader: a tag there is refused (a usage error), not run."""
    spec = sandbox.parent / "spec.yaml"
    spec.write_text(HEADER + "params: {n: 4}\nlayers:\n  - flatten\n  - linear: {out: $n}\n", encoding="utf-8")
    code = main(["check", str(spec), "--set", f'n=!!python/object/apply:os.system ["touch {sandbox}"]'])
    assert code in (1, 2)
    assert "tag" in capsys.readouterr().err
    code = main(["check", str(spec), "--set", "n=${__import__('evil_mod')}"])
    assert code == 1
    assert_located_report(capsys.readouterr().err, str(spec))
