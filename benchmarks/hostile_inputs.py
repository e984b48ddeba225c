#!/usr/bin/env python
"""How long archspec takes to refuse hostile and runaway input, and what the refusal costs in function calls.

    python benchmarks/hostile_inputs.py            # every case of tests/errors/test_limits.py, in-process
    python benchmarks/hostile_inputs.py --repeat 1 --cases nested-repeats,wide-repeat

The tests assert these bounds as work counted (function calls, lines executed, ratios of counts at two sizes: see
tests/work.py), never as time, so that a loaded machine cannot fail them; this script keeps the timings. Each time
is the median of ``--repeat`` runs after one untimed warm-up, with time.perf_counter; calls are counted in a run of
their own (counting slows the code down). The cases come from tests/errors/test_limits.py, so the two never drift.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "errors")]

import test_limits  # noqa: E402
from work import counted_calls  # noqa: E402

import archspec  # noqa: E402


def _cases(folder: Path) -> dict[str, Callable[[], object]]:
    """Name -> a call that refuses (or, for the last rows, analyses) the input."""
    cases: dict[str, Callable[[], object]] = {}
    texts = {**test_limits.RUNAWAY, **{name: (text, "") for name, text in test_limits.SLOW_TO_REJECT.items()}}
    for name, (text, _) in sorted(texts.items()):
        path = folder / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        cases[name] = lambda path=path: _refused(str(path))
    for prefix in ("25", "27"):
        path = test_limits.corpus(prefix)
        cases[path.stem] = lambda path=path: _refused(str(path))
    for count in (1_000, 10_000):
        path = folder / f"params{count}.yaml"
        path.write_text(test_limits._spec("  - relu\n", "params:\n" + "".join(f"  {i}x: 0\n" for i in range(count))))
        cases[f"invalid-param-names-{count}"] = lambda path=path: _refused(str(path), load_only=True)
    for copies in (2_000, 20_000):
        spec = test_limits._spec_dict([{"sequential": ["relu"] * 4, "repeat": copies}])
        cases[f"analysis-{copies * 5 + 1}-modules"] = lambda spec=spec: archspec.analyze(spec, max_nodes=1_000_000)
    return cases


def _refused(path: str, load_only: bool = False) -> None:
    try:
        archspec.load(path) if load_only else archspec.analyze(path)
    except archspec.SpecError:
        return
    raise SystemExit(f"{path}: expected a SpecError")


def _median_seconds(call: Callable[[], object], repeat: int) -> float:
    call()  # warm-up: lazy imports, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per case (default 5)")
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        cases = _cases(Path(folder))
        chosen = args.cases.split(",") if args.cases else list(cases)
        unknown = [name for name in chosen if name not in cases]
        if unknown:
            parser.error(f"unknown cases {', '.join(unknown)}; known: {', '.join(cases)}")
        print("| case | time (ms) | calls |\n|---|---:|---:|")
        for name in chosen:
            seconds = _median_seconds(cases[name], args.repeat)
            with counted_calls() as work:
                cases[name]()
            print(f"| {name} | {seconds * 1000:.1f} | {work.calls:,} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
