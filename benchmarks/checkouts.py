"""Analysis time of two or more checkouts of archspec, side by side: ``archspec.analyze(name)`` in-process, the
median of many runs after a warm-up, each checkout in its own process and the processes interleaved round by
round, so that load from other work on the machine falls on every checkout alike.

    python benchmarks/checkouts.py --checkout before=/tmp/old-clone --checkout after=. [--networks a,b] [--rounds 5]

Prints a Markdown table: per network, each checkout's median (ms) and its ratio to the first checkout's.
"""

from __future__ import annotations

import argparse
import json
import os
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", action="append", required=True, metavar="NAME=PATH")
    parser.add_argument("--networks", default=NETWORKS)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    checkouts = dict(entry.split("=", 1) for entry in args.checkout)
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
