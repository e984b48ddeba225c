"""Property-style tests of the Python API's argument checking (issue 9).

For every argument of every public function, hypothesis generates values of the wrong type or out of range
and asserts an :class:`archspec.ArgumentError` (a SpecError) that names the function and the argument —
never another exception type, never a silent acceptance. Mixed draws of valid and invalid values are held
to an oracle written here from the README's rules, so valid values are shown to keep working too.
"""

from __future__ import annotations

import inspect
import types
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import archspec
from archspec import LoadLimits

MAX_SIZE = 2**31 - 1  # README, Limits: every size (a batch too) is at most 2**31 - 1
LENET = "lenet5"  # input [1, 32, 32], one param: num_classes

# Values that are no bool: numbers (0 and 1 too), strings that read like booleans, containers, None.
not_bool = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=True),
    st.sampled_from(["yes", "no", "False", "", "true", b"\x00", [], [True], {}, (False,)]),
    st.text(max_size=4),
)
# Values that are no int: bools, floats (whole ones too), numeric strings, containers, None, huge-int text.
not_int = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10, 10).map(float),
    st.integers(-(10**6), 10**6).map(str),
    st.lists(st.integers(1, 9), max_size=3),
    st.binary(max_size=3),
    st.just(1j),
    st.just({}),
)
huge = st.integers(0, 6000).map(lambda digits: 10**digits)
bad_batch = st.one_of(
    not_int,
    st.integers(max_value=0),
    st.integers(min_value=MAX_SIZE + 1),
    huge.filter(lambda number: number > MAX_SIZE),
    huge.map(lambda number: -number),
)
bad_count = st.one_of(not_int, st.integers(max_value=0), huge.map(lambda number: -number))
good_size = st.integers(32, 96)
bad_size = st.one_of(
    not_int,
    st.integers(max_value=0),
    st.integers(min_value=MAX_SIZE + 1),
    huge.filter(lambda number: number > MAX_SIZE),
)


@st.composite
def shape_with_one_bad_size(draw: st.DrawFn) -> list[Any]:
    sizes: list[Any] = [1, draw(good_size), draw(good_size)]
    sizes[draw(st.integers(0, 2))] = draw(bad_size)
    return sizes


bad_shape = st.one_of(
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.binary(max_size=4),
    st.just("1,32,32"),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.frozensets(st.integers(1, 9), max_size=3),
    st.just([]),
    st.lists(st.integers(1, 9), min_size=5, max_size=7),  # [C, *spatial] with 0 to 3 spatial dims
    st.just([1, 32]),
    st.just((1, 32, 32, 32)),  # lenet5 is 2-D: the number of dims must agree with the spec
    shape_with_one_bad_size(),
    shape_with_one_bad_size().map(tuple),
)
bad_overrides = st.one_of(
    st.text(max_size=6),
    st.just("num_classes=1"),
    st.just([]),
    st.just(()),
    st.just(False),
    st.integers(),
    st.lists(st.tuples(st.just("num_classes"), st.integers(1, 9)), min_size=1, max_size=2),
    st.dictionaries(
        st.one_of(st.integers(), st.none(), st.tuples(st.text(max_size=2)), st.binary(max_size=2)),
        st.integers(),
        min_size=1,
        max_size=2,
    ),
)
bad_limits = st.one_of(
    st.text(max_size=4),
    st.integers(),
    st.just({}),
    st.just({"max_bytes": 10}),
    st.just(LoadLimits),
    *[
        bad_count.map(lambda value, cap=cap: LoadLimits(**{cap: value}))
        for cap in ("max_bytes", "max_values", "max_depth", "max_digits")
    ],
)
# No path, bundled name, dict or Spec: other types, the empty string, NUL characters, a mapping that is no dict.
bad_path = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.binary(max_size=6),
    st.lists(st.text(max_size=3), max_size=2),
    st.just(""),
    st.text(max_size=5).map(lambda text: f"{text}\0.yaml"),
    st.just(Path("a\0b")),
)
# A scale is named by a string (or None): other types are wrong whatever the spec declares.
bad_scale = st.one_of(st.booleans(), st.integers(), st.floats(), st.binary(max_size=3), st.lists(st.text(max_size=2)))
# Weights are a path or a state dict; None (the default) means none, so it is no wrong value here.
bad_weights = bad_path.filter(lambda value: value is not None)
bad_source = st.one_of(bad_path, st.just(types.MappingProxyType({"archspec": 1})), st.just(("lenet5",)))
not_module = st.one_of(
    st.none(), st.integers(), st.text(max_size=4), st.lists(st.integers(), max_size=2), st.just(LENET)
)
not_module_or_state = st.one_of(st.none(), st.integers(), st.text(max_size=4), st.lists(st.integers(), max_size=2))


@st.composite
def batched_shape_with_one_bad_size(draw: st.DrawFn) -> list[Any]:
    sizes: list[Any] = [draw(st.integers(1, 4)), 1, draw(good_size), draw(good_size)]
    sizes[draw(st.integers(0, 3))] = draw(bad_size)
    return sizes


# summary's input_size is torchinfo's: (N, C, *spatial), batch first, or a list holding one such.
bad_input_size = st.one_of(
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.just("1,1,32,32"),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.just([]),
    st.just([1]),  # a batch size alone
    st.lists(st.integers(1, 9), min_size=6, max_size=8),
    st.just([1, 1, 32]),  # lenet5 is 2-D, and the first size is the batch
    st.just((1, 1, 32, 32, 32)),
    st.just([(1, 1, 32, 32), (1, 1, 32, 32)]),  # two inputs
    batched_shape_with_one_bad_size(),
    batched_shape_with_one_bad_size().map(lambda sizes: [tuple(sizes)]),
)
# torchinfo's arguments that a static report has no use for: any value but None (their default) is refused.
torchinfo_only = st.one_of(
    st.integers(),
    st.booleans(),
    st.text(max_size=4),
    st.just("cpu"),
    st.just(("output_size", "num_params", "mult_adds")),
    st.lists(st.text(max_size=3), max_size=2),
)
given_not_int = not_int.filter(lambda value: value is not None)  # None is these arguments' default
bad_batch_dim = st.one_of(given_not_int, st.integers().filter(lambda number: number != 0))
bad_depth = st.one_of(given_not_int, st.integers(max_value=-1), huge.map(lambda number: -number))
bad_mode = st.one_of(
    st.text(max_size=6).filter(lambda text: text not in ("eval", "train")),
    st.sampled_from(["same", "TRAIN", "Eval", "train ", b"train"]),
    st.integers(),
    st.booleans(),
)
bad_verbose = st.one_of(given_not_int, st.integers().filter(lambda number: not 0 <= number <= 2))


@cache
def lenet_module() -> Any:
    return archspec.compile(LENET)


def valid_arguments(function: str) -> dict[str, Any]:
    """A call of ``function`` that works: each test replaces one argument by a wrong value."""
    if function == "load_weights_in_order":
        return {"target": lenet_module(), "source": lenet_module().state_dict()}
    if function == "load_checkpoint":
        return {}
    return {"source" if function == "load" else "spec": LENET}


# (function, argument, wrong values): every argument of every public function (test_table_is_complete).
CASES = [
    ("load", "source", bad_source),
    ("load", "overrides", bad_overrides),
    ("load", "limits", bad_limits),
    ("load", "scale", bad_scale),
    *[
        (function, argument, wrong)
        for function in ("expand", "analyze")
        for argument, wrong in [
            ("spec", bad_source),
            ("input_shape", bad_shape),
            ("batch", bad_batch),
            ("train", not_bool),
            ("max_nodes", bad_count),
        ]
    ],
    ("compile", "spec", bad_source),
    ("compile", "input_shape", bad_shape),
    ("compile", "in_place", not_bool),
    ("compile", "max_nodes", bad_count),
    ("compile", "weights", bad_weights),
    ("compile", "strict", not_bool),
    ("load_checkpoint", "path", bad_path),
    ("load_weights_in_order", "target", not_module),
    ("load_weights_in_order", "source", not_module_or_state),
    ("load_weights_in_order", "strict_dtype", not_bool),
    ("summary", "spec", bad_source),
    ("summary", "input_size", bad_input_size),
    ("summary", "batch_dim", bad_batch_dim),
    ("summary", "depth", bad_depth),
    ("summary", "mode", bad_mode),
    ("summary", "verbose", bad_verbose),
    *[
        ("summary", argument, torchinfo_only)
        for argument in ("input_data", "cache_forward_pass", "col_names", "col_width", "device", "dtypes")
    ],
    ("summary", "row_settings", torchinfo_only),
    # Any other keyword (torchinfo passes it to forward) is refused by its name: here, a keyword named kwargs.
    ("summary", "kwargs", st.one_of(st.none(), st.integers(), st.text(max_size=3))),
]


def test_every_argument_of_every_public_function_is_checked():
    """CASES covers every parameter of every public function of ``archspec``, and each of them refuses a plain
    ``object()`` — a wrong value for every argument there is — by name."""
    public = {name: getattr(archspec, name) for name in archspec.__all__ if inspect.isfunction(getattr(archspec, name))}
    parameters = [
        (name, parameter) for name, function in public.items() for parameter in inspect.signature(function).parameters
    ]
    assert {(function, argument) for function, argument, _ in CASES} == set(parameters)
    for function, argument in parameters:
        with pytest.raises(archspec.ArgumentError) as caught:
            public[function](**{**valid_arguments(function), argument: object()})
        assert (caught.value.function, caught.value.argument) == (function, argument)
        assert "got an object" in str(caught.value)


@pytest.mark.parametrize(("function", "argument", "wrong"), CASES, ids=[f"{f}-{a}" for f, a, _ in CASES])
def test_a_wrong_argument_raises_argument_error_naming_it(function: str, argument: str, wrong: Any):
    @given(wrong)
    def check(value: Any) -> None:
        with pytest.raises(archspec.ArgumentError) as caught:
            getattr(archspec, function)(**{**valid_arguments(function), argument: value})
        error = caught.value
        assert isinstance(error, archspec.SpecError) and isinstance(error, ValueError)
        assert (error.function, error.argument) == (function, argument)
        message = str(error)
        assert argument in message and "error:" in message
        assert "\n" not in message  # one problem, one line

    check()


def test_compile_refuses_an_input_shape_for_a_network_it_would_ignore():
    network = archspec.expand(LENET)

    @given(st.one_of(st.just([1, 64, 64]), st.just([1, 32, 32]), bad_shape))
    def check(value: Any) -> None:
        with pytest.raises(archspec.ArgumentError) as caught:
            archspec.compile(network, input_shape=value)
        assert caught.value.argument == "input_shape"

    check()


def _is_size(value: Any, maximum: int = MAX_SIZE) -> bool:
    """The README's rule for sizes and counts: an int (not a bool), from 1 to ``maximum``."""
    return type(value) is int and 1 <= value <= maximum


@given(
    batch=st.one_of(st.integers(1, MAX_SIZE), bad_batch),
    train=st.one_of(st.booleans(), not_bool),
    max_nodes=st.one_of(st.integers(100, 10**40), bad_count),
    height=st.one_of(good_size, bad_size),
    as_tuple=st.booleans(),
)
def test_analyze_accepts_exactly_the_documented_values(
    batch: Any, train: Any, max_nodes: Any, height: Any, as_tuple: bool
):
    shape = (1, height, 48) if as_tuple else [1, height, 48]
    valid = {
        "batch": _is_size(batch),
        "train": isinstance(train, bool),
        "max_nodes": _is_size(max_nodes, 10**40),
        "input_shape": _is_size(height),
    }
    call = {"spec": LENET, "input_shape": shape, "batch": batch, "train": train, "max_nodes": max_nodes}
    if all(valid.values()):
        report = archspec.analyze(**call)
        assert report.input_shape == [batch, 1, height, 48]
        assert report.train is train
    else:
        with pytest.raises(archspec.ArgumentError) as caught:
            archspec.analyze(**call)
        assert not valid[caught.value.argument]


good_limits = st.builds(
    LoadLimits,
    max_bytes=st.integers(10_000, 10**9),
    max_values=st.integers(1_000, 10**9),
    max_depth=st.integers(10, 200),
    max_digits=st.integers(5, 60),
)


@given(
    classes=st.integers(1, 5000),
    kind=st.sampled_from([dict, types.MappingProxyType, None]),
    wrong_overrides=st.one_of(st.none(), bad_overrides),
    limits=st.one_of(st.none(), good_limits, bad_limits),
)
def test_load_accepts_exactly_the_documented_values(classes: int, kind: Any, wrong_overrides: Any, limits: Any):
    """Overrides: None or any mapping with string keys; limits: None or a LoadLimits of positive ints."""
    overrides = wrong_overrides if kind is None else kind({"num_classes": classes})
    valid = {
        "overrides": kind is not None or wrong_overrides is None,
        "limits": limits is None
        or (
            isinstance(limits, LoadLimits)
            and all(
                _is_size(getattr(limits, cap), 10**9) for cap in ("max_bytes", "max_values", "max_depth", "max_digits")
            )
        ),
    }
    if all(valid.values()):
        spec = archspec.load(LENET, overrides=overrides, limits=limits)
        assert archspec.analyze(spec).output_shape == [1, classes if overrides else 10]
    else:
        with pytest.raises(archspec.ArgumentError) as caught:
            archspec.load(LENET, overrides=overrides, limits=limits)
        assert not valid[caught.value.argument]


@given(st.sampled_from(["numpy", "torch"]), st.integers(32, 80), st.integers(32, 80))
def test_shapes_may_hold_integer_scalars_of_numpy_and_torch(library: str, height: int, width: int):
    """``tensor.shape[1:]`` and numpy integers are shapes too: anything with ``__index__`` that is not a bool."""
    module = pytest.importorskip(library)
    sizes = (
        [module.int64(1), module.int64(height), module.int64(width)]
        if library == "numpy"
        else module.Size([1, height, width])
    )
    assert archspec.analyze(LENET, input_shape=sizes).input_shape == [1, 1, height, width]


@given(
    batch=st.one_of(st.integers(1, 64), bad_batch),
    height=st.one_of(good_size, bad_size),
    batch_dim=st.one_of(st.none(), st.just(0), bad_batch_dim),
    depth=st.one_of(st.none(), st.integers(0, 5), bad_depth),
    mode=st.one_of(st.none(), st.sampled_from(["eval", "train"]), bad_mode),
    wrapped=st.booleans(),
)
def test_summary_accepts_exactly_the_documented_values(
    batch: Any, height: Any, batch_dim: Any, depth: Any, mode: Any, wrapped: bool
):
    """summary(spec, input_size, batch_dim=..., depth=..., mode=...) is analyze(spec, input_size[1:],
    batch=input_size[0], train=mode == 'train') — or, with batch_dim=0, input_size at batch 1 — with the
    report's display depth ``depth``; anything else is an ArgumentError naming the argument."""
    sizes = [batch, 1, height, 40] if batch_dim is None else [1, height, 40]
    valid = {
        "input_size": _is_size(height) and (batch_dim is not None or _is_size(batch)),
        "batch_dim": batch_dim is None or (type(batch_dim) is int and batch_dim == 0),
        "depth": depth is None or (type(depth) is int and depth >= 0),
        "mode": mode is None or (type(mode) is str and mode in ("eval", "train")),
    }
    call = {"input_size": [sizes] if wrapped else sizes, "batch_dim": batch_dim, "depth": depth, "mode": mode}
    if all(valid.values()):
        report = archspec.summary(LENET, **call, verbose=0)
        expected = archspec.analyze(
            LENET, input_shape=sizes[-3:], batch=1 if batch_dim == 0 else batch, train=mode == "train"
        )
        assert report.to_dict() == expected.to_dict()
        assert report.display_depth == depth
    else:
        with pytest.raises(archspec.ArgumentError) as caught:
            archspec.summary(LENET, **call, verbose=0)
        assert not valid[caught.value.argument]
