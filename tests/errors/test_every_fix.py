"""Every diagnostic carries a concrete fix, whatever wrong value a key holds: each argument of every op and
container, each top-level and block key and each item modifier is given a range of wrong values (wrong types,
null, booleans, lists, words, numeric strings, out-of-range numbers), and every resulting diagnostic must name
the key it is about, say what is wrong and give a fix of its own. This goes through every kind of pydantic
error the argument models produce, so a new kind without its own fix (one that reaches the generic fallback)
fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
from errortools import assert_located_error

import archspec
from archspec.ops.registry import all_ops
from archspec.spec import error_wording

WRONG_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    3.5,
    -2.5,
    1e-5,
    2**31,
    10**30,
    "",
    "x",
    "same",
    "yes",
    "16",
    "1e-5",
    [],
    [0],
    [1, 2],
    [1, 2, 3],
    [3.5],
    ["x"],
    [None],
    {},
    {"x": 1},
    [[1]],
]


@pytest.fixture(autouse=True)
def no_generic_fix(monkeypatch):
    """The generic fallback fix must never be needed."""

    def unhandled(written: str | None) -> str:
        raise AssertionError("a pydantic error kind without its own fix in archspec/spec/error_wording.py")

    monkeypatch.setattr(error_wording, "_unhandled_fix", unhandled)


def spec(layers: list, input: list[int] | None = None, **extra: Any) -> dict:
    return {"archspec": 1, "name": "fixes", "input": input or [3, 8, 8], "layers": layers, **extra}


def diagnostics(data: dict) -> list:
    try:
        archspec.analyze(data)
    except archspec.SpecError as error:
        assert_located_error(error, "<dict>")
        return error.diagnostics
    return []


def assert_concrete(found: list, key: str | None = None, whole: tuple = ()) -> None:
    """Located with a fix (``diagnostics`` checks), naming ``key`` in the spec path — unless it is about the whole
    item at ``whole`` (a combination of arguments: upsample without scale or size)."""
    for diagnostic in found:
        if key is not None and diagnostic.path != whole:
            assert key in diagnostic.path, f"the path does not name '{key}': {diagnostic}"


@pytest.mark.parametrize("op", sorted(all_ops()))
def test_every_argument_of_every_op(op):
    definition = all_ops()[op]
    example = definition.examples[0] if definition.examples else None
    args, shape = (dict(example.args), list(example.input)) if example else ({}, [3, 8, 8])
    for field in definition.Args.model_fields:
        for wrong in WRONG_VALUES:
            assert_concrete(diagnostics(spec([{op: {**args, field: wrong}}], shape)), field, ("layers", 0, op))


@pytest.mark.parametrize("key", ["archspec", "name", "doc", "input", "params", "blocks", "layers"])
def test_every_top_level_key(key):
    for wrong in WRONG_VALUES:
        assert_concrete(diagnostics({**spec(["relu"]), key: wrong}), key if key != "archspec" else None)


@pytest.mark.parametrize("key", ["", "layers", "params", "doc"])
def test_every_key_of_a_block_definition(key):
    for wrong in WRONG_VALUES:
        block = wrong if not key else {"layers": ["relu"], key: wrong}
        assert_concrete(diagnostics(spec(["relu"], blocks={"b": block})))


@pytest.mark.parametrize("modifier", ["name", "repeat", "first", "id", "from", "if"])
def test_every_modifier(modifier):
    for wrong in WRONG_VALUES:
        item = {"relu": {}, modifier: wrong, **({"repeat": 2} if modifier == "first" else {})}
        assert_concrete(diagnostics(spec([item])))


@pytest.mark.parametrize(
    ("container", "key"),
    [
        ("concat", "dim"),
        ("head", "train_only"),
        ("add", "branches"),
        ("concat", None),
        ("head", None),
        ("sequential", None),
    ],
)
def test_every_container_argument(container, key):
    for wrong in WRONG_VALUES:
        if key is None:
            item = {container: wrong}
        else:
            body = {"layers": ["relu"]} if container == "head" else {"branches": [["relu"], []]}
            item = {container: {**body, key: wrong}}
        assert_concrete(diagnostics(spec([item])))
