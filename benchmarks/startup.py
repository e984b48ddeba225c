#!/usr/bin/env python
"""Start-up cost of archspec as a whole process, against the floor of importing its two dependencies.

    python benchmarks/startup.py                          # 40 rounds, this checkout
    python benchmarks/startup.py --runs 100 --json startup.json
    python benchmarks/startup.py --checkout /tmp/main     # also measure another checkout, interleaved
    python benchmarks/startup.py --importtime             # also list the slowest imports of `check lenet5`
    python benchmarks/startup.py --instructions           # also count instructions (valgrind): load-free

Every round runs each command once as a fresh process, in the same order, so that drift from other load on
the machine touches all of them alike; the minimum over rounds is the cost without interference, the median
what a busy machine gives. The goal (issue 10 §5): ``archspec check lenet5`` at most 2x
``python -c "import pydantic, yaml"``. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BASELINE = "import pydantic, yaml"
# The least that any process validating with pydantic pays: one model class, validated once. Defining it
# imports pydantic's schema machinery (pydantic.fields, annotated_types, ...); its first validator makes pydantic
# look for plugins (importing importlib.metadata and scanning every installed distribution's entry points).
PYDANTIC_FLOOR = (
    "import pydantic, yaml\nclass Model(pydantic.BaseModel):\n    size: int = pydantic.Field(ge=1)\n"
    "Model.model_validate({'size': 1})"
)
GOAL_RATIO = 2.0  # `archspec check lenet5` / `python -c "import pydantic, yaml"`, both whole processes
CHECK_SPEC = "lenet5"


@dataclass
class Command:
    label: str
    argv: list[str]
    checkout: Path  # put first on PYTHONPATH: the archspec that the command imports
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)  # user + system: much less sensitive than wall to other load
    peak_rss_kb: int = 0
    modules: int = 0  # modules the process imports (-X importtime lines): a count, free of noise
    instructions: int | None = None  # user-space instructions of one run (--instructions): free of noise too

    def summary(self) -> dict[str, float]:
        return {
            "wall_min_s": min(self.walls),
            "wall_median_s": statistics.median(self.walls),
            "cpu_min_s": min(self.cpus),
            "cpu_median_s": statistics.median(self.cpus),
        }


def commands_for(checkouts: list[tuple[str, Path]]) -> list[Command]:
    """The floors once (the interpreter, the baseline, what validating anything with pydantic costs), then
    ``import archspec.cli`` and ``archspec check lenet5`` for every checkout."""
    python = sys.executable
    first = checkouts[0][1]
    commands = [
        Command('python -c "pass"', [python, "-c", "pass"], first),
        Command(f'python -c "{BASELINE}"', [python, "-c", BASELINE], first),
        Command('python -c "<one pydantic model, validated once>"', [python, "-c", PYDANTIC_FLOOR], first),
    ]
    for name, root in checkouts:
        suffix = f" ({name})" if len(checkouts) > 1 else ""
        commands.append(
            Command(f'python -c "import archspec.cli"{suffix}', [python, "-c", "import archspec.cli"], root)
        )
        commands.append(
            Command(f"archspec check {CHECK_SPEC}{suffix}", [python, "-m", "archspec.cli", "check", CHECK_SPEC], root)
        )
    return commands


def child_env(checkout: Path, cache: Path, bytecode: bool) -> dict[str, str]:
    """This environment with ``checkout`` first on PYTHONPATH and bytecode cached in ``cache`` (a fresh folder:
    nothing is written into any source tree, and every command reads the same kind of cache)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(checkout), *filter(None, [os.environ.get("PYTHONPATH")])])
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_once(command: Command, env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    """(wall s, CPU s, peak RSS KB) of one run. ``os.wait4`` gives this child's own resource usage (this process
    imports nothing heavy, so the RSS a forked child inherits before exec stays below what it measures)."""
    start = time.perf_counter()
    process = subprocess.Popen(command.argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read() if process.stderr else b""
    if process.stderr:
        process.stderr.close()
    if process.returncode != 0:
        raise RuntimeError(f"{command.label} exited with {process.returncode}: {stderr.decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def import_times(command: Command, env: dict[str, str], cwd: Path) -> dict[str, int]:
    """Module -> its own import time in µs (``-X importtime``'s "self" column) for one run of ``command``."""
    argv = [command.argv[0], "-X", "importtime", *command.argv[1:]]
    result = subprocess.run(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True
    )
    times: dict[str, int] = {}
    for match in re.finditer(r"^import time:\s+(\d+) \|\s+\d+ \|( *)(\S+)$", result.stderr, re.MULTILINE):
        times[match.group(3)] = int(match.group(1))
    return times


def measure(commands: list[Command], rounds: int, bytecode: bool, cwd: Path, cache: Path) -> None:
    envs = [child_env(command.checkout, cache, bytecode) for command in commands]
    for command, env in zip(commands, envs, strict=True):
        run_once(command, env, cwd)  # warm-up: fills the bytecode cache and the page cache
        command.modules = len(import_times(command, env, cwd))
    for index in range(rounds):
        for command, env in zip(commands, envs, strict=True):
            wall, cpu, rss = run_once(command, env, cwd)
            command.walls.append(wall)
            command.cpus.append(cpu)
            command.peak_rss_kb = max(command.peak_rss_kb, rss)
        if (index + 1) % 10 == 0:
            print(f"  {index + 1}/{rounds} rounds", file=sys.stderr)


def count_instructions(command: Command, env: dict[str, str], cwd: Path) -> int:
    """User-space instructions of one run under valgrind (cachegrind without its cache simulation), with a
    fixed hash seed so that the count repeats to a few parts per million. Other load does not change it, but
    it leaves out what the kernel does (opening and reading ~300 modules' files), so it understates what
    imports cost in time."""
    result = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", *command.argv],
        env={**env, "PYTHONHASHSEED": "0"},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    match = re.search(r"I\s+refs:\s+([\d,]+)", result.stderr)
    if not match:
        raise RuntimeError(f"no instruction count in valgrind's output: {result.stderr[-500:]}")
    return int(match.group(1).replace(",", ""))


def slowest_imports(
    command: Command, bytecode: bool, cwd: Path, cache: Path, floor: Command, runs: int = 7, top: int = 25
) -> str:
    """The modules ``command`` imports beyond ``floor``'s (the pydantic floor: what is left is archspec's
    doing), by their own import time (minimum over runs)."""
    env = child_env(command.checkout, cache, bytecode)
    floor_modules = set(import_times(floor, child_env(floor.checkout, cache, bytecode), cwd))
    best: dict[str, int] = {}
    for _ in range(runs):
        for module, micros in import_times(command, env, cwd).items():
            best[module] = min(micros, best.get(module, micros))
    extra = {module: micros for module, micros in best.items() if module not in floor_modules}
    lines = [
        f"Imports of `{command.label}` beyond `{floor.label}`: {len(extra)} modules, "
        f"{sum(extra.values()) / 1e3:.1f} ms of their own import time in all (min of {runs} runs; "
        f"archspec's own: {sum(v for m, v in extra.items() if m.split('.')[0] == 'archspec') / 1e3:.1f} ms)",
        "",
        "| module | self (ms) |",
        "|---|---:|",
    ]
    for module, micros in sorted(extra.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"| `{module}` | {micros / 1e3:.2f} |")
    return "\n".join(lines) + "\n"


def markdown(commands: list[Command], baseline: Command) -> str:
    base = baseline.summary()
    lines = [
        "| command | wall min (ms) | wall median (ms) | CPU median (ms) | min / baseline min | "
        "median / baseline median | CPU / baseline CPU | peak RSS (MB) | modules imported |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    counted = baseline.instructions is not None
    if counted:
        lines[0] += " instructions (M) | instructions / baseline |"
        lines[1] += "---:|---:|"
    for command in commands:
        own = command.summary()
        lines.append(
            f"| `{command.label}` | {own['wall_min_s'] * 1e3:.1f} | {own['wall_median_s'] * 1e3:.1f} | "
            f"{own['cpu_median_s'] * 1e3:.1f} | {own['wall_min_s'] / base['wall_min_s']:.2f}× | "
            f"{own['wall_median_s'] / base['wall_median_s']:.2f}× | "
            f"{own['cpu_median_s'] / base['cpu_median_s']:.2f}× | {command.peak_rss_kb / 1024:.0f} | "
            f"{command.modules} |"
        )
        if counted and command.instructions is not None:
            lines[-1] += f" {command.instructions / 1e6:,.0f} | {command.instructions / baseline.instructions:.2f}× |"
    return "\n".join(lines) + "\n"


def verdicts(commands: list[Command], baseline: Command) -> str:
    floor = baseline.summary()["wall_min_s"]
    lines = []
    for command in commands:
        if command.label.startswith(("archspec check", 'python -c "<one pydantic')):
            ratio = command.summary()["wall_min_s"] / floor
            counted = (
                f"; {command.instructions / baseline.instructions:.2f}× its instructions"
                if command.instructions and baseline.instructions
                else ""
            )
            lines.append(
                f"- `{command.label}`: {ratio:.2f}× the baseline's minimum wall time{counted} (goal ≤ "
                f"{GOAL_RATIO:.0f}×: {'met' if ratio <= GOAL_RATIO else 'not met'})"
            )
    return "\n".join(lines) + "\n"


def parse_checkout(text: str) -> tuple[str, Path]:
    """``PATH`` or ``NAME=PATH``: another checkout whose archspec is measured beside this one."""
    name, sep, path = text.partition("=")
    root = Path(path if sep else text).resolve()
    if not (root / "archspec" / "cli.py").is_file():
        raise argparse.ArgumentTypeError(f"{root} is not an archspec checkout (no archspec/cli.py)")
    return (name if sep else root.name), root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, metavar="N", help="rounds of every command (default 40)")
    parser.add_argument(
        "--checkout",
        action="append",
        default=[],
        type=parse_checkout,
        metavar="[NAME=]PATH",
        help="also measure the archspec of another checkout (repeatable), interleaved with this one",
    )
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="compile every source on every run "
        "(PYTHONDONTWRITEBYTECODE=1) instead of caching bytecode in a temporary folder",
    )
    parser.add_argument(
        "--importtime",
        action="store_true",
        help="also list the slowest imports of `archspec check` beyond the pydantic floor's",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each command's instructions once under valgrind (slow: ~10 s a command)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write every measurement as JSON")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.instructions and not shutil.which("valgrind"):
        parser.error("--instructions needs valgrind on PATH")

    checkouts = [("this", REPO_ROOT), *args.checkout]
    commands = commands_for(checkouts)
    baseline = commands[1]
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="archspec-startup-") as scratch:
        cwd, cache = Path(scratch) / "cwd", Path(scratch) / "pycache"
        cwd.mkdir()
        measure(commands, args.runs, not args.no_bytecode, cwd, cache)
        if args.instructions:
            for command in commands:
                command.instructions = count_instructions(
                    command, child_env(command.checkout, cache, not args.no_bytecode), cwd
                )
        imports = (
            [
                slowest_imports(command, not args.no_bytecode, cwd, cache, commands[2])
                for command in commands
                if command.label.startswith("archspec check")
            ]
            if args.importtime
            else []
        )
    date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    print(
        f"# archspec start-up — {date}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {args.runs} "
        f"rounds, {time.perf_counter() - started:.0f} s, load average {load_at_start:.2f} → "
        f"{os.getloadavg()[0]:.2f}, bytecode {'not ' if args.no_bytecode else ''}cached\n"
    )
    print(markdown(commands, baseline))
    print(verdicts(commands, baseline))
    for table in imports:
        print(table)
    if args.json:
        payload = {
            "date": date,
            "rounds": args.runs,
            "bytecode_cached": not args.no_bytecode,
            "checkouts": {name: str(root) for name, root in checkouts},
            "commands": [
                {**asdict(command), "checkout": str(command.checkout), **command.summary()} for command in commands
            ],
        }
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
