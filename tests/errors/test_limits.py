"""Oversized and runaway input is rejected quickly, in bounded memory, with a clear located error: alias/anchor
bombs, deep nesting, huge files, absurd numbers, repeat counts and block recursion past the node cap (default
100,000, configurable with ``max_nodes=`` / ``--max-nodes``; see also ``test_module_budget``).

The issue's bound — rejected at once — is asserted as work counted, never as time (``tests/work.py``; the timings
are in ``benchmarks/hostile_inputs.py``): every runaway and hostile case is rejected within a budget of function
calls that building a few hundred modules would exceed, although each asks for millions or billions; the few cases
that must build or count part of a large network before refusing it get a larger budget, still a hundredth of what
the network they ask for would cost. Memory bounds are as measured, in a fresh process for the process's peak; the
real numbers are printed (``pytest -s``) so they can be reported.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from errortools import CORPUS, assert_located_error, assert_located_report, subprocess_env
from work import counted_calls

import archspec
from archspec.cli import main
from archspec.loading.yaml_loader import LoadLimits

# Function calls (Python functions and the C functions they call) to reject hostile input: building one convolution
# costs about 280, so 100,000 is less than a network of 400 modules; measured: 171 to 15,000 (nested-repeats).
REJECT_CALLS = 100_000
# For the cases that build or count part of a network before refusing it (measured: up to 600,000, fan-out block
# recursion): less than building 10,000 modules, a tenth of the default cap and a hundredth of what they ask for.
SLOW_REJECT_CALLS = 2_000_000
MEMORY_LIMIT_MB = 200

# Runs ``archspec check FILE`` in a fresh process and reports the exit code and the process's peak resident memory
# (interpreter and imports included).
_MEASURE = """
import contextlib, io, json, os, resource, sys, tracemalloc
def peak_rss_mb():
    # VmHWM is this process's own peak; ru_maxrss would include the forking parent's (pytest with torch loaded)
    try:
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) for l in status if l.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
from archspec.cli import main
import archspec.api
before = peak_rss_mb()
err = io.StringIO()
trace = os.environ.get("MEASURE_ALLOCATIONS", "1") == "1"  # tracing costs time and memory of its own
if trace:
    tracemalloc.start()
with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
    code = main(["check", *sys.argv[1:]])
allocated = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
print(json.dumps({"code": code, "peak_mb": peak_rss_mb(), "imports_mb": before,
                  "allocated_mb": allocated, "stderr": err.getvalue()}))
"""


def measure_check(*args: str, timeout: float = 60, trace_allocations: bool = True) -> dict:
    env = {**subprocess_env(), "MEASURE_ALLOCATIONS": "1" if trace_allocations else "0"}
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def corpus(prefix: str) -> Path:
    return next(CORPUS.glob(f"{prefix}_*.yaml"))


@pytest.fixture(scope="module")
def warm() -> None:
    """archspec imports the parts of itself it needs on first use: import them before work is counted (importing
    is work done once per process, not once per spec)."""
    archspec.analyze(
        {
            "archspec": 1,
            "name": "warm",
            "input": [3, 8, 8],
            "params": {"w": 4},
            "blocks": {"b": {"params": {"k": 1}, "layers": [{"conv": {"out": "${w * k}", "kernel": 1}}]}},
            "layers": ["b", {"concat": {"branches": [["relu"], []]}, "repeat": 2}],
        }
    )


def rejected_with_work(path: str, limit: int) -> tuple[archspec.SpecError, int]:
    """The error ``archspec.analyze(path)`` raises and the function calls it took: past ``limit`` calls the test
    fails at once (instead of waiting for a billion modules)."""
    with counted_calls(limit) as work, pytest.raises(archspec.SpecError) as info:
        archspec.analyze(path)
    return info.value, work.calls


@pytest.mark.parametrize("prefix", ["25", "27"], ids=["yaml-bomb", "repeat-1e9"])
def test_bomb_and_billion_repeat_rejected_fast_in_little_memory(prefix, warm):
    path = str(corpus(prefix))
    error, calls = rejected_with_work(path, REJECT_CALLS)
    figures = measure_check(path)
    print(
        f"\n{Path(path).name}: check {calls:,} calls, {figures['allocated_mb']:.2f} MB allocated at peak; process "
        f"peak RSS {figures['peak_mb']:.1f} MB (after imports {figures['imports_mb']:.1f} MB)"
    )
    assert figures["code"] == 1
    assert_located_report(figures["stderr"], path)
    assert_located_error(error, path)
    assert calls < REJECT_CALLS
    assert figures["peak_mb"] < MEMORY_LIMIT_MB


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _spec(layers: str, extra: str = "") -> str:
    return f"archspec: 1\nname: limits\ninput: [3, 8, 8]\n{extra}layers:\n{layers}"


RUNAWAY = {
    "recursive-alias": ("a: &a [1, *a]\n", r"alias refers to the anchor that contains it"),
    "alias-chain": (
        "".join(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" if i else "a0: &a0 [1, 2]\n" for i in range(40)),
        r"expands to [\d,]+ values through aliases",
    ),
    "merge-key-bomb": (
        "b0: &b0 {x: 1, y: 2}\n"
        + "".join(f"b{i}: &b{i} {{<<: *b{i - 1}, k{i}: [*b{i - 1}, *b{i - 1}]}}\n" for i in range(1, 40)),
        r"expands to [\d,]+ values through aliases",
    ),
    "deep-flow-nesting": ("a: " + "[" * 200_000 + "]" * 200_000 + "\n", r"nesting deeper than 100 levels"),
    "deep-mapping-nesting": ("a: " + "{a: " * 50_000 + "1" + "}" * 50_000 + "\n", r"nesting deeper than 100"),
    "deep-block-nesting": ("- " * 100_000 + "x\n", r"nesting deeper than 100 levels"),
    "huge-integer-literal": (_spec("  - linear: {out: " + "9" * 5000 + "}\n"), r"absurdly large \(5000 digits\)"),
    "huge-hex-literal": (_spec("  - linear: {out: 0x" + "f" * 4000 + "}\n"), r"absurdly large"),
    "huge-float-literal": (_spec("  - dropout: {p: 1e999999}\n"), r"not finite"),
    "nan-literal": (_spec("  - batchnorm: {eps: .nan}\n"), r"not finite"),
    "huge-power": (_spec("  - linear: {out: '${10 ** 10 ** 10}'}\n"), r"too large"),
    "huge-product": (_spec("  - linear: {out: '${4611686018427387904 * 4611686018427387904}'}\n"), r"out of range"),
    "list-repetition": (_spec("  - conv: {out: 4, kernel: '${[3] * 10 ** 9}'}\n"), r"cannot apply '\*' to a list"),
    "string-repetition": (
        _spec("  - conv: {out: 4, kernel: 3, padding: '${p * 10 ** 9}'}\n", "params: {p: same}\n"),
        r"cannot apply '\*' to a string",
    ),
    "long-expression": (_spec("  - linear: {out: '${" + "1 + " * 300 + "1}'}\n"), r"longer than 500"),
    "nested-parentheses": (
        _spec("  - linear: {out: '${" + "(" * 240 + "1" + ")" * 240 + "}'}\n"),
        r"cannot parse|nested",
    ),
    "nested-repeats": (
        _spec("  - sequential:\n      - sequential: [relu]\n        repeat: 1000\n    repeat: 1000000000\n"),
        r"more than 100,000 modules",
    ),
    "wide-repeat": (
        _spec("  - concat:\n      branches: [[relu], [relu], [relu]]\n    repeat: 400000\n"),
        r"more than 100,000 modules",
    ),
    "repeat-from-param": (
        _spec("  - relu:\n    repeat: $n\n", "params: {n: 999999999999}\n"),
        r"more than 100,000 modules",
    ),
    "self-recursive-block": (
        _spec("  - loop\n", "blocks:\n  loop:\n    layers: [relu, loop]\n"),
        r"block 'loop' calls itself more than 32 levels deep",
    ),
    "mutually-recursive-blocks": (
        _spec("  - ping\n", "blocks:\n  ping:\n    layers: [pong]\n  pong:\n    layers: [relu, ping]\n"),
        r"block 'ping' calls itself",
    ),
    # Functions handed arguments that make Python itself do unbounded work: int round computes 10 ** -ndigits.
    "round-huge-negative-digits": (
        _spec("  - conv: {out: '${round(w, -10**18)}', kernel: 1}\n", "params: {w: 12345}\n"),
        r"number of digits .* is out of range",
    ),
    "round-digits-from-param": (
        _spec("  - linear: {out: '${round(w, d)}'}\n", "params: {w: 7, d: -4000000000}\n"),
        r"number of digits .* is out of range",
    ),
    "round-in-repeat": (
        _spec("  - relu:\n    repeat: '${round(123456789, -99999999)}'\n"),
        r"number of digits .* is out of range",
    ),
    "round-in-condition": (_spec("  - relu:\n    if: '${round(5, -10**18) == 0}'\n"), r"number of digits"),
    "round-in-block-default": (
        _spec("  - b\n", "blocks:\n  b:\n    params: {k: '${round(3, -10**17)}'}\n    layers: [relu]\n"),
        r"number of digits",
    ),
    "power-in-round": (_spec("  - linear: {out: '${round(10 ** 10 ** 10)}'}\n"), r"too large"),
    "power-of-a-fraction": (_spec("  - linear: {out: '${ceil(0.5 ** -10**18)}'}\n"), r"too large"),
    "floor-of-a-huge-float": (_spec("  - linear: {out: '${floor(1e300)}'}\n"), r"out of range"),
    "min-of-huge-products": (
        _spec("  - linear: {out: '${min(2**62 * 2**62, 4611686018427387904 ** 2)}'}\n"),
        r"out of range|too large",
    ),
}


@pytest.mark.parametrize("name", sorted(RUNAWAY))
def test_runaway_input_is_rejected_fast_in_bounded_memory(name, tmp_path, warm):
    text, pattern = RUNAWAY[name]
    path = _write(tmp_path, f"{name}.yaml", text)
    tracemalloc.start()
    try:
        error, calls = rejected_with_work(path, REJECT_CALLS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\n{name}: {calls:,} calls, {peak / 2**20:.1f} MB allocated at peak")
    assert_located_error(error, path)
    assert any(re.search(pattern, d.message) for d in error.diagnostics), str(error)
    assert calls < REJECT_CALLS
    assert peak < MEMORY_LIMIT_MB * 2**20 / 2


def test_deep_nesting_does_not_crash_the_process(tmp_path):
    """PyYAML's C composer recurses without a limit: 100,000 nested '[' used to kill the process (SIGSEGV)."""
    path = _write(tmp_path, "deep.yaml", "a: " + "[" * 100_000 + "]" * 100_000 + "\n")
    figures = measure_check(path)
    assert figures["code"] == 1
    assert "nesting deeper than 100 levels" in figures["stderr"]


def test_oversized_file_is_rejected_without_reading_it(tmp_path, capsys, monkeypatch):
    """The size cap is checked on at most cap + 1 bytes: a 10 GB sparse file costs nothing; a device such as
    /dev/zero is not opened at all (a device or a pipe may block or never end)."""
    from archspec.loading import resolve

    read: list[int] = []
    opened: list[str] = []
    real_load_stream, real_open = resolve.load_stream, os.open

    class CountedStream:
        def __init__(self, stream):
            self.stream = stream

        def read(self, size=-1):
            data = self.stream.read(size)
            read.append(len(data))
            return data

    monkeypatch.setattr(resolve, "load_stream", lambda stream, *args: real_load_stream(CountedStream(stream), *args))
    monkeypatch.setattr(
        os, "open", lambda path, *args, **kwargs: opened.append(os.fspath(path)) or real_open(path, *args, **kwargs)
    )
    sparse = tmp_path / "huge.yaml"
    with sparse.open("wb") as handle:
        handle.truncate(10 * 2**30)
    opened.clear()
    assert main(["check", str(sparse)]) == 1
    err = capsys.readouterr().err
    assert_located_report(err, str(sparse))
    assert "larger than the 1,048,576-byte cap" in err
    assert opened == [str(sparse)] and read == [1_048_577]  # one read of the cap and one byte more
    assert main(["check", "/dev/zero"]) == 1
    assert capsys.readouterr().err == (
        "/dev/zero: error: is not a regular file (a pipe or a device) — save the "
        "spec to a file, or pass '-' to read it from standard input\n"
    )
    assert opened == [str(sparse)]  # /dev/zero was never opened


def test_size_cap_is_configurable(tmp_path):
    path = _write(tmp_path, "spec.yaml", _spec("  - relu\n"))
    archspec.load(path)
    with pytest.raises(archspec.SpecError, match="larger than the 20-byte cap") as info:
        archspec.load(path, limits=LoadLimits(max_bytes=20))
    assert_located_error(info.value, path)
    with pytest.raises(archspec.SpecError, match="holds 9 values, more than the 3 allowed"):
        archspec.load(path, limits=LoadLimits(max_values=3))
    with pytest.raises(archspec.SpecError, match="nesting deeper than 1 levels"):
        archspec.load(path, limits=LoadLimits(max_depth=1))


REPEATED = _spec("  - relu:\n    repeat: 10\n")  # 10 relus + their group = 11 modules


def test_node_cap_is_configurable_in_the_api(tmp_path):
    path = _write(tmp_path, "spec.yaml", REPEATED)
    assert len(archspec.analyze(path, max_nodes=11).layers) == 11
    with pytest.raises(archspec.SpecError, match="more than 10 modules") as info:
        archspec.analyze(path, max_nodes=10)
    assert_located_error(info.value, path)
    assert info.value.diagnostics[0].path == ("layers", 0, "repeat")


def test_node_cap_is_configurable_on_the_command_line(tmp_path, capsys):
    path = _write(tmp_path, "spec.yaml", REPEATED)
    assert main(["check", "--quiet", "--max-nodes", "11", path]) == 0
    assert main(["check", "--max-nodes", "10", path]) == 1
    err = capsys.readouterr().err
    assert_located_report(err, path)
    assert "more than 10 modules" in err


def test_default_node_cap_is_a_hundred_thousand(tmp_path):
    """100,000 copies and their group are 100,001 modules: refused after building the first copy."""
    path = _write(tmp_path, "spec.yaml", _spec("  - relu:\n    repeat: 100000\n"))
    with pytest.raises(archspec.SpecError, match="more than 100,000 modules"):
        archspec.analyze(path)
    assert len(archspec.analyze(path, max_nodes=100_001).layers) == 100_001


# Past a few thousand modules, expansion first counts the network with a memoised estimate (repeats
# extrapolated at their fixed point, blocks counted once per arguments and input), so these are rejected
# before a million nodes are built: within SLOW_REJECT_CALLS, and in bounded memory in a fresh process.
SLOW_TO_REJECT = {
    "sibling-repeats": _spec("  - relu:\n    repeat: 600000\n  - relu:\n    repeat: 600000\n"),
    "repeat-at-the-cap": _spec("  - relu:\n    repeat: 1000000\n"),
    "fan-out-block-recursion": _spec(
        "  - tree: {depth: 30}\n",
        "blocks:\n  tree:\n    params: {depth: required}\n    layers:\n      - relu\n"
        "      - tree: {depth: '${depth - 1}'}\n        if: ${depth > 0}\n"
        "      - tree: {depth: '${depth - 1}'}\n        if: ${depth > 0}\n",
    ),
}


@pytest.mark.parametrize("name", sorted(SLOW_TO_REJECT))
def test_node_cap_trips_before_building_a_million_nodes(name, tmp_path, warm):
    path = _write(tmp_path, f"{name}.yaml", SLOW_TO_REJECT[name])
    error, calls = rejected_with_work(path, SLOW_REJECT_CALLS)
    figures = measure_check(path)
    print(f"\n{name}: check {calls:,} calls")
    assert figures["code"] == 1
    assert_located_error(error, path)
    assert calls < SLOW_REJECT_CALLS
    assert figures["peak_mb"] < MEMORY_LIMIT_MB


# --- cost of large inputs just under the caps (issue 4) ----------------------------------------------------


@pytest.fixture
def close_match_searches(monkeypatch):
    """Counts difflib searches behind did-you-mean (its memo cleared first)."""
    import difflib

    from archspec import errors

    errors._closest.cache_clear()
    calls = []
    search = difflib.get_close_matches

    def counted(*args, **kwargs):
        calls.append(args[0])
        return search(*args, **kwargs)

    monkeypatch.setattr(difflib, "get_close_matches", counted)
    return calls


def test_a_hundred_thousand_misspellings_cost_one_search(tmp_path, close_match_searches):
    path = _write(tmp_path, "reul.yaml", _spec("  - reul\n" * 100_000))
    with pytest.raises(archspec.SpecError) as info:
        archspec.load(path)
    lines = str(info.value).splitlines()
    assert len(lines) == 51  # the first 50, then one line counting the rest
    assert lines[-1].endswith(
        "error: <spec>: ... and 99,950 more errors — fix the ones above and check the spec again to see the rest"
    )
    assert_located_report("\n".join(lines), path)
    assert len(info.value.diagnostics) == 100_000  # the API still gets every one
    assert close_match_searches == ["reul"]


def test_distinct_misspellings_are_searched_only_for_the_errors_shown(tmp_path, close_match_searches):
    path = _write(tmp_path, "many.yaml", _spec("".join(f"  - reul{i}\n" for i in range(20_000))))
    with pytest.raises(archspec.SpecError) as info:
        archspec.load(path)
    assert len(close_match_searches) <= 60
    assert str(info.value).splitlines()[0].endswith("unknown op 'reul0' — did you mean 'relu'?")


def test_a_hundred_thousand_unknown_keys_are_described_only_in_part(tmp_path, close_match_searches):
    path = _write(tmp_path, "keys.yaml", _spec("  - relu\n") + "".join(f"k{i}: 0\n" for i in range(100_000)))
    with pytest.raises(archspec.SpecError) as info:
        archspec.load(path)
    assert len(close_match_searches) <= 2 * 200
    assert str(info.value).splitlines()[-1].split(": ", 2)[2].startswith("<spec>: ... and 99,950 more errors")


def _invalid_param_names(tmp_path: Path, count: int, limit: int | None = None) -> int:
    """The function calls that loading a spec with ``count`` invalid param names takes."""
    path = _write(
        tmp_path,
        f"params{count}.yaml",
        _spec("  - relu\n", "params:\n" + "".join(f"  {i}x: 0\n" for i in range(count))),
    )
    with counted_calls(limit) as work, pytest.raises(archspec.SpecError, match=f"and {count - 50:,} more errors"):
        archspec.load(path)
    return work.calls


def test_many_invalid_param_names_are_not_quadratic(tmp_path, warm):
    """20,000 invalid names under params took minutes (every pydantic error compared with every other): ten times
    the names must cost at most about ten times the calls (quadratic work would be a hundred times)."""
    small = _invalid_param_names(tmp_path, 1_000)
    large = _invalid_param_names(tmp_path, 10_000, limit=12 * small)
    assert large < 12 * small


def test_smallest_input_takes_few_passes(monkeypatch):
    """A chain of 2,000 3-wide convolutions needs 4,001 positions: found from the receptive field in a couple
    of passes over the network, not the ~2·log2(size) of a search from 1 (35 passes for 300,000 positions)."""
    from archspec.analysis import min_input

    passes = []
    real = min_input.output_for
    monkeypatch.setattr(min_input, "output_for", lambda *args: passes.append(args[1]) or real(*args))
    spec = {
        "archspec": 1,
        "name": "chain",
        "input": [1, 30_000],
        "layers": [{"conv": {"out": 1, "kernel": 3}, "repeat": 2000}],
    }
    assert archspec.analyze(spec).min_input == [1, 4001]
    assert len(passes) <= 3, passes


def test_smallest_input_without_a_field_still_found():
    """Upsampling first makes the field position-dependent: no guess, the search starts from 1."""
    spec = {
        "archspec": 1,
        "name": "up",
        "input": [1, 64],
        "layers": [{"upsample": {"scale": 0.5}}, {"conv": {"out": 1, "kernel": 5}}],
    }
    assert archspec.analyze(spec).min_input == [1, 10]


def test_copies_of_a_repeat_at_a_fixed_point_are_expanded_once():
    """Copies that see the same input are the same modules under other paths: they share validated args."""
    network = archspec.expand(_spec_dict([{"sequential": ["relu", {"conv": {"out": 3, "kernel": 1}}], "repeat": 1000}]))
    group = network.root.children[0]
    assert [child.path for child in group.children[998].children] == ["0.998.0", "0.998.1"]
    assert group.children[1].children[1].args is group.children[998].children[1].args
    assert group.children[1].children[1] is not group.children[998].children[1]


def test_expansion_pauses_the_garbage_collector(monkeypatch):
    import gc

    from archspec.ops.library.activations import ReLU

    seen = []
    real = ReLU.output_shape
    monkeypatch.setattr(ReLU, "output_shape", lambda self, *args: seen.append(gc.isenabled()) or real(self, *args))
    was_enabled = gc.isenabled()
    archspec.analyze(_spec_dict(["relu"]))
    assert seen and not any(seen)
    assert gc.isenabled() == was_enabled


def _spec_dict(layers: list) -> dict:
    return {"archspec": 1, "name": "limits", "input": [3, 8, 8], "layers": layers}


@pytest.mark.slow
def test_a_million_modules_are_analysed_in_bounded_memory(tmp_path):
    """199,999 copies of a 5-module group: 999,996 modules, past the default budget, just under the cap asked
    for (was 51 s and 1.45 GB here)."""
    path = _write(tmp_path, "million.yaml", _spec("  - sequential: [relu, relu, relu, relu]\n    repeat: 199999\n"))
    figures = measure_check("--quiet", "--max-nodes", "1000000", path, timeout=120, trace_allocations=False)
    print(f"\n1,000,000 modules: peak RSS {figures['peak_mb']:.0f} MB")
    assert figures["code"] == 0
    assert figures["peak_mb"] < 1000


def _analysis_calls(copies: int) -> tuple[int, int]:
    """The modules of ``copies`` copies of a 5-module group, and the function calls analysing them takes."""
    spec = _spec_dict([{"sequential": ["relu"] * 4, "repeat": copies}])
    with counted_calls() as work:
        modules = len(archspec.analyze(spec, max_nodes=1_000_000).layers)
    return modules, work.calls


@pytest.mark.slow
def test_analysis_work_is_linear_in_the_modules(warm):
    """What bounds the million-module analysis: ten times the modules cost at most ten times the calls (and 10%)."""
    small_modules, small = _analysis_calls(2_000)
    large_modules, large = _analysis_calls(20_000)
    assert large_modules > 9.99 * small_modules
    assert large <= 1.1 * small * large_modules / small_modules
