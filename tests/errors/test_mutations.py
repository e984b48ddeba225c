"""Hypothesis breaks valid specs — deletes keys and items, swaps types, inserts junk, renames keys, perturbs
numbers, plants hostile expressions, edits the raw text — and archspec must either accept the result, and then
its static report equals what the compiled module measurably does, or reject it with a SpecError whose every
diagnostic is located (CLI: exit status 1 and ``FILE:LINE:COL: error: ...`` lines). Never another exception.

Deterministic: derandomized, no example database, so every run checks the same examples.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from errortools import assert_located_error, assert_located_report
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from truth import assert_static_equals_measured

import archspec
from archspec.cli import main
from archspec.loading.resolve import bundled_specs
from archspec.loading.yaml_loader import load_text

SEEDS = Path(__file__).resolve().parent / "seeds"
DETERMINISTIC = settings(
    derandomize=True,
    max_examples=100,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Only accepted specs this small are compiled and measured (the rest is still analysed: analysis cost does not
# depend on sizes, but a forward pass does).
MEASURE_LIMITS = {"params": 2_000_000, "macs": 50_000_000, "activation_bytes": 64 * 2**20}


def _seed_texts() -> dict[str, str]:
    from importlib import resources

    texts = {path.stem: path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.yaml"))}
    texts["lenet5"] = resources.files("archspec.specs").joinpath(bundled_specs()["lenet5"]).read_text("utf-8")
    return texts


SEED_TEXTS = _seed_texts()
SEED_DATA = {name: load_text(text, f"{name}.yaml").data for name, text in SEED_TEXTS.items()}

JUNK_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    3.5,
    1e-5,
    2**31,
    10**30,
    "",
    "text",
    "same",
    "yes",
    "relu",
    [],
    [0],
    [1, 2],
    [3, 3, 3],
    {},
    {"x": 1},
    {"out": 4},
    [[1]],
    "1e-5",
    "16",
]
EXPRESSIONS = [
    "$width",
    "$widht",
    "${width * 2}",
    "${width / 3}",
    "${width // 0}",
    "${in.channels}",
    "${in.spatial}",
    "${in.dims + 1}",
    "${10 ** 40}",
    "${2 ** 0.5}",
    "${max(1, width)}",
    "${[0] * 9}",
    "${__import__('os').system('touch pwned')}",
    "${().__class__}",
    "${open('pwned')}",
    "${width if in.channels > 1 else 0}",
    "${floor(1e308 * 10)}",
    "$in.channels",
    "${-width}",
    "${[k for k in x]}",
    "${width.bit_length()}",
    "${ width ",
    "x${width}",
]
JUNK_KEYS = [
    "repeat",
    "first",
    "id",
    "from",
    "if",
    "name",
    "relu",
    "conv",
    "kernel",
    "out",
    "stride",
    "padding",
    "junk",
    "__class__",
    "archspec",
    "layers",
    "branches",
    "params",
]
JUNK_ITEMS: list[Any] = [
    "relu",
    "reul",
    "flatten",
    "global_avgpool",
    {"conv": {"out": 3}},
    {"maxpool": {"kernel": 2}},
    {"linear": {"out": 7}},
    {"relu": None, "repeat": 3},
    5,
    None,
    ["relu"],
    {"batchnorm": {}, "if": "${in.channels > 2}"},
    {"add": {"branches": [[], []]}},
    {"sequential": ["relu", "relu"]},
    {"conv": {"out": 2, "kernel": 1}, "from": "stem"},
    {"avgpool": {"kernel": 3}},
    {"conv_transpose": {"out": 2, "kernel": 3, "stride": 2}},
]
NUMBER_CHANGES = ["+1", "-1", "zero", "neg", "double", "half", "x1000", "+0.5", "2**31", "2**62", "10**30", "tiny"]


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def _number(value: int | float, change: str) -> Any:
    return {
        "+1": value + 1,
        "-1": value - 1,
        "zero": 0,
        "neg": -value,
        "double": value * 2,
        "half": value // 2 if isinstance(value, int) else value / 2,
        "x1000": value * 1000,
        "+0.5": value + 0.5,
        "2**31": 2**31,
        "2**62": 2**62,
        "10**30": 10**30,
        "tiny": 1e-9,
    }[change]


def _typo(key: str, how: int) -> str:
    if len(key) < 2:
        return key + "x"
    index = how % len(key)
    if how % 3 == 0:
        return key[:index] + key[index + 1 :]  # drop a letter
    if how % 3 == 1:
        return key[:index] + key[index] + key[index:]  # double a letter
    index = min(index, len(key) - 2)
    return key[:index] + key[index + 1] + key[index] + key[index + 2 :]  # swap two letters


@st.composite
def mutated_specs(draw: st.DrawFn) -> tuple[str, Any]:
    """(seed name, mutated data): one to three structural mutations of a valid spec."""
    name = draw(st.sampled_from(sorted(SEED_DATA)))
    data = copy.deepcopy(SEED_DATA[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["delete", "swap", "insert", "number", "rename", "expression"]))
        target = _get(data, path)
        parent = _get(data, path[:-1]) if path else None
        if kind == "delete" and path:
            del parent[path[-1]]
        elif kind == "swap" and path:
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(JUNK_VALUES)))
        elif kind == "expression" and path:
            parent[path[-1]] = draw(st.sampled_from(EXPRESSIONS))
        elif kind == "insert" and isinstance(target, dict):
            key = draw(st.sampled_from(JUNK_KEYS + [_typo(k, draw(st.integers(0, 30))) for k in target]))
            target[key] = copy.deepcopy(draw(st.sampled_from(JUNK_VALUES + JUNK_ITEMS[:4])))
        elif kind == "insert" and isinstance(target, list):
            target.insert(draw(st.integers(0, len(target))), copy.deepcopy(draw(st.sampled_from(JUNK_ITEMS))))
        elif kind == "number":
            numbers = [
                p for p in paths if isinstance(_get(data, p), int | float) and not isinstance(_get(data, p), bool)
            ]
            if numbers:
                where = draw(st.sampled_from(numbers))
                holder = _get(data, where[:-1])
                holder[where[-1]] = _number(holder[where[-1]], draw(st.sampled_from(NUMBER_CHANGES)))
        elif kind == "rename" and path and isinstance(parent, dict):
            new = _typo(str(path[-1]), draw(st.integers(0, 30)))
            if new not in parent:
                parent[new] = parent.pop(path[-1])
    return name, data


def _write(directory: str, data: Any, as_json: bool) -> str:
    path = Path(directory) / ("spec.json" if as_json else "spec.yaml")
    text = json.dumps(data, indent=1) if as_json else yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    note(text)
    return str(path)


def _accepted_or_located(path: str) -> None:
    """The property: accepted (then static == measured where small enough) or a located SpecError."""
    try:
        report = archspec.analyze(path)
    except archspec.SpecError as error:
        note(str(error))
        assert_located_error(error, path)
        return
    totals = report.totals
    if (
        totals.params <= MEASURE_LIMITS["params"]
        and totals.macs <= MEASURE_LIMITS["macs"]
        and totals.activation_bytes <= MEASURE_LIMITS["activation_bytes"]
    ):
        assert_static_equals_measured(path)


@DETERMINISTIC
@given(mutated_specs(), st.booleans())
def test_mutated_spec_is_accepted_exactly_or_rejected_with_located_errors(mutation, as_json):
    _, data = mutation
    with tempfile.TemporaryDirectory() as directory:
        _accepted_or_located(_write(directory, data, as_json))


@DETERMINISTIC
@given(
    st.sampled_from(sorted(SEED_TEXTS)),
    st.lists(
        st.tuples(
            st.sampled_from(["delete", "insert", "dup", "swap"]),
            st.integers(0, 10**6),
            st.integers(0, 10**6),
            st.sampled_from(list(" :-[]{},#&*!|>'\"$\t\n%@`?x0")),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_text_edits_are_accepted_exactly_or_rejected_with_located_errors(name, edits):
    """Edits of the raw text: cut characters, insert YAML punctuation, duplicate or swap lines."""
    text = SEED_TEXTS[name]
    for kind, first, second, char in edits:
        at = first % (len(text) + 1)
        lines = text.split("\n")
        if kind == "delete":
            text = text[:at] + text[at + 1 + second % 8 :]
        elif kind == "insert":
            text = text[:at] + char + text[at:]
        elif kind == "dup":
            index = first % len(lines)
            text = "\n".join([*lines[: index + 1], lines[index], *lines[index + 1 :]])
        else:
            a, b = first % len(lines), second % len(lines)
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
    note(text)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "spec.yaml"
        path.write_text(text, encoding="utf-8")
        _accepted_or_located(str(path))


@settings(DETERMINISTIC, max_examples=40)
@given(mutated_specs())
def test_cli_exits_0_or_1_with_located_lines(mutation):
    """The same mutations through ``archspec check``: exit 0, or exit 1 with only located error lines."""
    _, data = mutation
    with tempfile.TemporaryDirectory() as directory:
        path = _write(directory, data, as_json=False)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["check", "--quiet", path])
        note(err.getvalue())
        assert code in (0, 1)
        if code == 1:
            assert_located_report(err.getvalue(), path)
        else:
            assert err.getvalue() == ""


@pytest.mark.parametrize("name", sorted(SEED_TEXTS))
def test_seeds_are_valid_and_exact(name, tmp_path):
    """The unmutated seeds are accepted and exact — so the properties above start from valid specs."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(SEED_TEXTS[name], encoding="utf-8")
    assert_static_equals_measured(str(path))


def test_yaml_floats_in_exponent_form_are_floats():
    """YAML 1.2: ``1e-5`` is a float (PyYAML's YAML 1.1 rules would read it as the string '1e-5')."""
    text = SEED_TEXTS["mixed"]
    assert "eps: 1e-5" in text
    unit = archspec.load(str(SEEDS / "mixed.yaml")).blocks["unit"]
    assert unit.layers[1].args["eps"] == 1e-5
