"""Analysis time of two or more checkouts of archspec, side by side: ``archspec.analyze(name)`` in-process, the
median of many runs after a warm-up, each checkout in its own process and the processes interleaved round by
round, so that load from other work on the machine falls on every checkout alike.

    python benchmarks/checkouts.py --checkout before=/tmp/old-clone --checkout after=. [--networks a,b] [--rounds 5]
    python benchmarks/checkouts.py --instructions --checkout ... # instructions per analysis (valgrind): load-free

Prints a Markdown table: per network, each checkout's median (ms) — or, with ``--instructions``, the user-space
instructions of one analysis (a process running it 1 + N times, less one running it once, over N) — and its
ratio to the first checkout's. On a shared machine, timings swing with the load; instruction counts do not.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys

NETWORKS = "lenet5,alexnet,vgg16,resnet50,resnet152,googlenet,densenet121,unet"
MEASURE = """
import json, sys, time, archspec
names = sys.argv[1].split(",")
for name in names:
    archspec.analyze(name)  # warm-up: imports, bytecode, caches
times = {}
for name in names:
    runs = []
    while len(runs) < 30 and sum(runs) < 1.0:
        start = time.perf_counter()
        archspec.analyze(name)
        runs.append(time.perf_counter() - start)
    times[name] = runs
print(json.dumps(times))
"""

REPEAT = """
import sys, archspec
for _ in range(1 + int(sys.argv[2])):
    archspec.analyze(sys.argv[1])
"""
REPEATS = 4


def instructions(path: str, network: str, repeats: int) -> int:
    """User-space instructions of a process analysing ``network`` 1 + ``repeats`` times (cachegrind, no cache
    simulation)."""
    env = {**os.environ, "PYTHONPATH": os.path.abspath(path)}
    command = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        "-c",
        REPEAT,
        network,
        str(repeats),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return int(re.search(r"I\s+refs:\s+([\d,]+)", result.stderr).group(1).replace(",", ""))


def count_instructions(checkouts: dict[str, str], networks: list[str]) -> None:
    first = next(iter(checkouts))
    print("# instructions per analysis by checkout (millions; valgrind, load-free)\n")
    print(
        "| network | "
        + " | ".join(f"{name} (M)" for name in checkouts)
        + " | "
        + " | ".join(f"{name} / {first}" for name in list(checkouts)[1:])
        + " |"
    )
    print("|---|" + "---:|" * (2 * len(checkouts) - 1))
    for network in networks:
        counts = {
            name: (instructions(path, network, REPEATS) - instructions(path, network, 0)) / REPEATS / 1e6
            for name, path in checkouts.items()
        }
        ratios = [f"{counts[name] / counts[first]:.2f}×" for name in list(checkouts)[1:]]
        print(
            f"| {network} | "
            + " | ".join(f"{counts[name]:.1f}" for name in checkouts)
            + " | "
            + " | ".join(ratios)
            + " |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", action="append", required=True, metavar="NAME=PATH")
    parser.add_argument("--networks", default=NETWORKS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--instructions", action="store_true", help="count instructions instead of timing")
    args = parser.parse_args()
    checkouts = dict(entry.split("=", 1) for entry in args.checkout)
    if args.instructions:
        count_instructions(checkouts, args.networks.split(","))
        return
    runs: dict[str, dict[str, list[float]]] = {name: {} for name in checkouts}
    for round_ in range(args.rounds):
        for name, path in checkouts.items():
            env = {**os.environ, "PYTHONPATH": os.path.abspath(path)}
            result = subprocess.run(
                [sys.executable, "-c", MEASURE, args.networks], env=env, capture_output=True, text=True, check=True
            )
            for network, times in json.loads(result.stdout).items():
                runs[name].setdefault(network, []).extend(times)
        print(f"  round {round_ + 1}/{args.rounds}", file=sys.stderr)
    first = next(iter(checkouts))
    load = os.getloadavg()[0]
    print(f"# analysis time by checkout — {args.rounds} rounds, load average {load:.2f}\n")
    print(
        "| network | "
        + " | ".join(f"{name} (ms)" for name in checkouts)
        + " | "
        + " | ".join(f"{name} / {first}" for name in list(checkouts)[1:])
        + " |"
    )
    print("|---|" + "---:|" * (2 * len(checkouts) - 1))
    for network in args.networks.split(","):
        medians = {name: statistics.median(runs[name][network]) * 1000 for name in checkouts}
        ratios = [f"{medians[name] / medians[first]:.2f}×" for name in list(checkouts)[1:]]
        print(
            f"| {network} | "
            + " | ".join(f"{medians[name]:.2f}" for name in checkouts)
            + " | "
            + " | ".join(ratios)
            + " |"
        )


if __name__ == "__main__":
    main()
