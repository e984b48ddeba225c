"""Oversized and runaway input is rejected quickly, in bounded memory, with a clear located error: alias/anchor
bombs, deep nesting, huge files, absurd numbers, repeat counts and block recursion past the node cap (default
1,000,000, configurable with ``max_nodes=`` / ``--max-nodes``).

The issue's bound — rejected in under a second — is asserted for the YAML bomb and the billion-copy repeat, timing
the check itself inside a fresh process (interpreter start-up and imports excluded), and for every runaway and
hostile case in-process; the few cases that must build or count a large network before refusing it keep a looser
bound. Memory bounds are as measured; the real numbers are printed (``pytest -s``) so they can be reported.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from errortools import CORPUS, assert_located_error, assert_located_report, subprocess_env

import archspec
from archspec.cli import main
from archspec.loading.yaml_loader import LoadLimits

REJECT_LIMIT_S = 1.0  # the issue: hostile input is rejected in under a second (measured: a few ms to ~0.35 s)
TIME_LIMIT_S = 5.0  # for checks that must build or count most of a million-module network before refusing it
MEMORY_LIMIT_MB = 200

# Runs ``archspec check FILE`` in a fresh process and reports the exit code, the time of the check itself and
# the process's peak resident memory (interpreter and imports included).
_MEASURE = """
import contextlib, io, json, resource, sys, time, tracemalloc
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
tracemalloc.start()
start = time.perf_counter()
with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
    code = main(["check", *sys.argv[1:]])
seconds = time.perf_counter() - start
allocated = tracemalloc.get_traced_memory()[1] / 2**20
print(json.dumps({"code": code, "seconds": seconds, "peak_mb": peak_rss_mb(), "imports_mb": before,
                  "allocated_mb": allocated, "stderr": err.getvalue()}))
"""


def measure_check(*args: str, timeout: float = 60) -> dict:
    result = subprocess.run([sys.executable, "-c", _MEASURE, *args], capture_output=True, text=True,
                            env=subprocess_env(), timeout=timeout, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def corpus(prefix: str) -> Path:
    return next(CORPUS.glob(f"{prefix}_*.yaml"))


@pytest.mark.parametrize("prefix", ["25", "27"], ids=["yaml-bomb", "repeat-1e9"])
def test_bomb_and_billion_repeat_rejected_fast_in_little_memory(prefix):
    path = str(corpus(prefix))
    figures = measure_check(path)
    print(f"\n{Path(path).name}: check {figures['seconds'] * 1000:.1f} ms, {figures['allocated_mb']:.2f} MB "
          f"allocated at peak; process peak RSS {figures['peak_mb']:.1f} MB (after imports "
          f"{figures['imports_mb']:.1f} MB)")
    assert figures["code"] == 1
    assert_located_report(figures["stderr"], path)
    assert figures["seconds"] < REJECT_LIMIT_S
    assert figures["peak_mb"] < MEMORY_LIMIT_MB


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _spec(layers: str, extra: str = "") -> str:
    return f"archspec: 1\nname: limits\ninput: [3, 8, 8]\n{extra}layers:\n{layers}"


RUNAWAY = {
    "recursive-alias": ("a: &a [1, *a]\n", r"alias refers to the anchor that contains it"),
    "alias-chain": ("".join(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" if i else "a0: &a0 [1, 2]\n"
                            for i in range(40)), r"expands to [\d,]+ values through aliases"),
    "merge-key-bomb": ("b0: &b0 {x: 1, y: 2}\n" + "".join(
        f"b{i}: &b{i} {{<<: *b{i - 1}, k{i}: [*b{i - 1}, *b{i - 1}]}}\n" for i in range(1, 40)),
        r"expands to [\d,]+ values through aliases"),
    "deep-flow-nesting": ("a: " + "[" * 200_000 + "]" * 200_000 + "\n", r"nesting deeper than 100 levels"),
    "deep-mapping-nesting": ("a: " + "{a: " * 50_000 + "1" + "}" * 50_000 + "\n", r"nesting deeper than 100"),
    "deep-block-nesting": ("- " * 100_000 + "x\n", r"nesting deeper than 100 levels"),
    "huge-integer-literal": (_spec("  - linear: {out: " + "9" * 5000 + "}\n"), r"absurdly large \(5000 digits\)"),
    "huge-hex-literal": (_spec("  - linear: {out: 0x" + "f" * 4000 + "}\n"), r"absurdly large"),
    "huge-float-literal": (_spec("  - dropout: {p: 1e999999}\n"), r"not finite"),
    "nan-literal": (_spec("  - batchnorm: {eps: .nan}\n"), r"not finite"),
    "huge-power": (_spec("  - linear: {out: '${10 ** 10 ** 10}'}\n"), r"too large"),
    "huge-product": (_spec("  - linear: {out: '${4611686018427387904 * 4611686018427387904}'}\n"),
                     r"out of range"),
    "list-repetition": (_spec("  - conv: {out: 4, kernel: '${[3] * 10 ** 9}'}\n"), r"cannot apply '\*' to a list"),
    "string-repetition": (_spec("  - conv: {out: 4, kernel: 3, padding: '${p * 10 ** 9}'}\n", "params: {p: same}\n"),
                          r"cannot apply '\*' to a string"),
    "long-expression": (_spec("  - linear: {out: '${" + "1 + " * 300 + "1}'}\n"), r"longer than 500"),
    "nested-parentheses": (_spec("  - linear: {out: '${" + "(" * 240 + "1" + ")" * 240 + "}'}\n"),
                           r"cannot parse|nested"),
    "nested-repeats": (_spec("  - sequential:\n      - sequential: [relu]\n        repeat: 1000\n"
                             "    repeat: 1000000000\n"), r"more than 1,000,000 modules"),
    "wide-repeat": (_spec("  - concat:\n      branches: [[relu], [relu], [relu]]\n    repeat: 400000\n"),
                    r"more than 1,000,000 modules"),
    "repeat-from-param": (_spec("  - relu:\n    repeat: $n\n", "params: {n: 999999999999}\n"),
                          r"more than 1,000,000 modules"),
    "self-recursive-block": (_spec("  - loop\n", "blocks:\n  loop:\n    layers: [relu, loop]\n"),
                             r"block 'loop' calls itself more than 32 levels deep"),
    "mutually-recursive-blocks": (_spec("  - ping\n", "blocks:\n  ping:\n    layers: [pong]\n"
                                        "  pong:\n    layers: [relu, ping]\n"), r"block 'ping' calls itself"),
    # Functions handed arguments that make Python itself do unbounded work: int round computes 10 ** -ndigits.
    "round-huge-negative-digits": (_spec("  - conv: {out: '${round(w, -10**18)}', kernel: 1}\n",
                                         "params: {w: 12345}\n"), r"number of digits .* is out of range"),
    "round-digits-from-param": (_spec("  - linear: {out: '${round(w, d)}'}\n", "params: {w: 7, d: -4000000000}\n"),
                                r"number of digits .* is out of range"),
    "round-in-repeat": (_spec("  - relu:\n    repeat: '${round(123456789, -99999999)}'\n"),
                        r"number of digits .* is out of range"),
    "round-in-condition": (_spec("  - relu:\n    if: '${round(5, -10**18) == 0}'\n"), r"number of digits"),
    "round-in-block-default": (_spec("  - b\n", "blocks:\n  b:\n    params: {k: '${round(3, -10**17)}'}\n"
                                     "    layers: [relu]\n"), r"number of digits"),
    "power-in-round": (_spec("  - linear: {out: '${round(10 ** 10 ** 10)}'}\n"), r"too large"),
    "power-of-a-fraction": (_spec("  - linear: {out: '${ceil(0.5 ** -10**18)}'}\n"), r"too large"),
    "floor-of-a-huge-float": (_spec("  - linear: {out: '${floor(1e300)}'}\n"), r"out of range"),
    "min-of-huge-products": (_spec("  - linear: {out: '${min(2**62 * 2**62, 4611686018427387904 ** 2)}'}\n"),
                             r"out of range|too large"),
}


@pytest.mark.parametrize("name", sorted(RUNAWAY))
def test_runaway_input_is_rejected_fast_in_bounded_memory(name, tmp_path):
    text, pattern = RUNAWAY[name]
    path = _write(tmp_path, f"{name}.yaml", text)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(archspec.SpecError) as info:
            archspec.analyze(path)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\n{name}: {seconds * 1000:.1f} ms, {peak / 2**20:.1f} MB allocated at peak")
    assert_located_error(info.value, path)
    assert any(re.search(pattern, d.message) for d in info.value.diagnostics), str(info.value)
    assert seconds < REJECT_LIMIT_S
    assert peak < MEMORY_LIMIT_MB * 2**20 / 2


def test_deep_nesting_does_not_crash_the_process(tmp_path):
    """PyYAML's C composer recurses without a limit: 100,000 nested '[' used to kill the process (SIGSEGV)."""
    path = _write(tmp_path, "deep.yaml", "a: " + "[" * 100_000 + "]" * 100_000 + "\n")
    figures = measure_check(path)
    assert figures["code"] == 1
    assert "nesting deeper than 100 levels" in figures["stderr"]


def test_oversized_file_is_rejected_without_reading_it(tmp_path, capsys):
    """The size cap is checked on at most cap + 1 bytes: a 10 GB sparse file costs nothing; a device such as
    /dev/zero is not opened at all (a device or a pipe may block or never end)."""
    sparse = tmp_path / "huge.yaml"
    with sparse.open("wb") as handle:
        handle.truncate(10 * 2**30)
    start = time.perf_counter()
    assert main(["check", str(sparse)]) == 1
    err = capsys.readouterr().err
    assert_located_report(err, str(sparse))
    assert "larger than the 1,048,576-byte cap" in err
    assert time.perf_counter() - start < REJECT_LIMIT_S
    start = time.perf_counter()
    assert main(["check", "/dev/zero"]) == 1
    assert capsys.readouterr().err == ("/dev/zero: error: is not a regular file (a pipe or a device) — save the "
                                       "spec to a file, or pass '-' to read it from standard input\n")
    assert time.perf_counter() - start < REJECT_LIMIT_S


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


def test_default_node_cap_is_one_million(tmp_path):
    """1,000,001 copies are refused after building the first (1,000,000 would be built, then refused: see
    ``test_node_cap_trips_before_building_a_million_nodes``)."""
    path = _write(tmp_path, "spec.yaml", _spec("  - relu:\n    repeat: 1000001\n"))
    with pytest.raises(archspec.SpecError, match="more than 1,000,000 modules"):
        archspec.analyze(path)


# Past a few thousand modules, expansion first counts the network with a memoised estimate (repeats
# extrapolated at their fixed point, blocks counted once per arguments and input), so these are rejected
# before a million nodes are built. Each case runs in a subprocess that must finish within the time limit.
SLOW_TO_REJECT = {
    "sibling-repeats": _spec("  - relu:\n    repeat: 600000\n  - relu:\n    repeat: 600000\n"),
    "repeat-at-the-cap": _spec("  - relu:\n    repeat: 1000000\n"),
    "fan-out-block-recursion": _spec(
        "  - tree: {depth: 30}\n",
        "blocks:\n  tree:\n    params: {depth: required}\n    layers:\n      - relu\n"
        "      - tree: {depth: '${depth - 1}'}\n        if: ${depth > 0}\n"
        "      - tree: {depth: '${depth - 1}'}\n        if: ${depth > 0}\n"),
}


@pytest.mark.parametrize("name", sorted(SLOW_TO_REJECT))
def test_node_cap_trips_before_building_a_million_nodes(name, tmp_path):
    path = _write(tmp_path, f"{name}.yaml", SLOW_TO_REJECT[name])
    figures = measure_check(path, timeout=TIME_LIMIT_S + 2)
    print(f"\n{name}: check {figures['seconds'] * 1000:.1f} ms")
    assert figures["code"] == 1
    assert figures["seconds"] < TIME_LIMIT_S
    assert figures["peak_mb"] < MEMORY_LIMIT_MB
