#!/usr/bin/env python
"""archspec next to its peers, side by side: analysis time, agreement of the counts, whole-process cost and
compiled-module forward speed (DESIGN.md §6).

    python benchmarks/compare.py                      # full run (a few minutes on 2 cores)
    python benchmarks/compare.py --quick --networks alexnet
    python benchmarks/compare.py --json results.json

Peers: torchinfo.summary, fvcore's FlopCountAnalysis (when installed) and torch's FlopCounterMode, all on
the torchvision model of the same network, plus the torchvision model itself for forward speed. Times are
medians of several runs after a warm-up, measured with time.perf_counter. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import archspec

# Bundled spec name -> (torchvision.models builder, its keyword arguments). Entries whose spec is not bundled
# are skipped, so a network joins the comparison as soon as its spec ships. Keyword arguments pick the
# torchvision variant the spec describes: the googlenet spec carries the auxiliary heads (training-only, so
# their parameters count and their MACs do not in eval); init_weights=True is torchvision's default, spelled
# out to silence its FutureWarning.
PEERS: dict[str, tuple[str, dict[str, Any]]] = {
    "alexnet": ("alexnet", {}),
    "vgg11": ("vgg11", {}),
    "vgg13": ("vgg13", {}),
    "vgg16": ("vgg16", {}),
    "vgg19": ("vgg19", {}),
    "vgg11_bn": ("vgg11_bn", {}),
    "vgg13_bn": ("vgg13_bn", {}),
    "vgg16_bn": ("vgg16_bn", {}),
    "vgg19_bn": ("vgg19_bn", {}),
    "resnet18": ("resnet18", {}),
    "resnet34": ("resnet34", {}),
    "resnet50": ("resnet50", {}),
    "resnet101": ("resnet101", {}),
    "resnet152": ("resnet152", {}),
    "resnext50_32x4d": ("resnext50_32x4d", {}),
    "wide_resnet50_2": ("wide_resnet50_2", {}),
    "googlenet": ("googlenet", {"aux_logits": True, "init_weights": True}),
    "inception_v3": ("inception_v3", {"aux_logits": True, "init_weights": True}),
    "densenet121": ("densenet121", {}),
    "squeezenet1_0": ("squeezenet1_0", {}),
    "squeezenet1_1": ("squeezenet1_1", {}),
    "mobilenet_v2": ("mobilenet_v2", {}),
    "mobilenet_v3_small": ("mobilenet_v3_small", {}),
    "mobilenet_v3_large": ("mobilenet_v3_large", {}),
    "shufflenet_v2_x1_0": ("shufflenet_v2_x1_0", {}),
    "efficientnet_b0": ("efficientnet_b0", {}),
    "regnet_y_400mf": ("regnet_y_400mf", {}),
    "convnext_tiny": ("convnext_tiny", {}),
    "vit_b_16": ("vit_b_16", {}),
    "swin_t": ("swin_t", {}),
}

PROCESS_SPEC = "vgg16"  # `archspec check PROCESS_SPEC` as a whole process (falls back to the first network)
LARGE_SPATIAL, LARGE_BATCH = 1024, 64  # the "large input" analysis: 3x1024x1024 at batch 64
FORWARD_TOLERANCE = 0.03  # DESIGN.md §6: compiled forward within 3% of torchvision


@dataclass
class Settings:
    # Timed runs of each measurement: at most `*_repeats`, fewer once `budget_s` seconds are spent (never
    # fewer than one), so cheap measurements get many samples and a VGG build does not eat the run.
    analyze_repeats: int  # archspec.analyze calls timed (after one warm-up)
    peer_repeats: int  # torchinfo / fvcore / FlopCounterMode runs timed (after one warm-up)
    build_repeats: int  # torchvision model constructions timed
    budget_s: float
    forward_rounds: int  # rounds of (torchvision, archspec, archspec, torchvision) forwards, at least 2 ...
    forward_budget_s: float  # ... more while under this many seconds
    forward_batch: int
    forward_size: int
    process_repeats: int  # whole-process runs of `archspec check`
    torch_import_repeats: int  # whole-process runs of `python -c "import torch"`


FULL = Settings(
    analyze_repeats=30,
    peer_repeats=5,
    build_repeats=3,
    budget_s=1.0,
    forward_rounds=8,
    forward_budget_s=4.0,
    forward_batch=2,
    forward_size=128,
    process_repeats=5,
    torch_import_repeats=3,
)
QUICK = Settings(
    analyze_repeats=3,
    peer_repeats=1,
    build_repeats=1,
    budget_s=0.0,
    forward_rounds=1,
    forward_budget_s=0.0,
    forward_batch=2,
    forward_size=64,
    process_repeats=1,
    torch_import_repeats=1,
)


@dataclass
class NetworkResult:
    network: str
    torchvision_builder: str
    input_shape: list[int]
    # seconds
    archspec_analyze_s: float
    archspec_analyze_large_s: float
    archspec_compile_s: float
    torchvision_build_s: float
    torchinfo_s: float
    fvcore_s: float | None
    flopcounter_s: float
    forward_torchvision_s: float
    forward_archspec_s: float
    forward_torchvision_best_s: float
    forward_archspec_best_s: float
    # counts
    archspec_params: int
    torchvision_params: int
    archspec_macs: int
    flopcounter_macs: int
    archspec_macs_large: int
    torchinfo_mult_adds: int
    torchinfo_params: int
    fvcore_total: int | None
    forward_input: list[int] = field(default_factory=list)
    forward_runs: int = 0  # timed forwards of each module

    def ratios(self) -> dict[str, float | None]:
        a = self.archspec_analyze_s
        return {
            "large_over_small": self.archspec_analyze_large_s / a,
            "torchinfo_over_archspec": self.torchinfo_s / a,
            "build_plus_torchinfo_over_archspec": (self.torchvision_build_s + self.torchinfo_s) / a,
            "fvcore_over_archspec": self.fvcore_s / a if self.fvcore_s is not None else None,
            "flopcounter_over_archspec": self.flopcounter_s / a,
            "torchinfo_mult_adds_over_macs": self.torchinfo_mult_adds / self.archspec_macs,
            "fvcore_total_over_macs": (
                self.fvcore_total / self.archspec_macs if self.fvcore_total is not None else None
            ),
            "forward_archspec_over_torchvision": self.forward_archspec_s / self.forward_torchvision_s,
            "forward_best_archspec_over_torchvision": self.forward_archspec_best_s / self.forward_torchvision_best_s,
        }


@dataclass
class ProcessResult:
    label: str
    command: list[str]
    wall_s: float
    cpu_s: float  # user + system CPU time: less sensitive than wall time to other load on the machine
    peak_rss_mb: float
    runs: int


# ---------------------------------------------------------------------------------------------- helpers


def bundled_specs() -> set[str]:
    folder = resources.files("archspec.specs")
    return {Path(entry.name).stem for entry in folder.iterdir() if entry.name.endswith((".yaml", ".yml", ".json"))}


def timed(fn: Callable[[], Any], repeats: int, budget_s: float, warmup: int = 1) -> tuple[float, Any]:
    """Median wall time of ``fn`` after ``warmup`` untimed runs, over at most ``repeats`` runs (stopping once
    ``budget_s`` seconds are spent, after one at least), and its last result."""
    result = None
    for _ in range(warmup):
        result = fn()
    times: list[float] = []
    while len(times) < repeats and (not times or sum(times) < budget_s):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def fvcore_available() -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit deprecation warnings at import
            import fvcore.nn  # noqa: F401
    except Exception:  # ImportError, or a broken install failing at import
        return False
    return True


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------- per network


def measure_network(name: str, settings: Settings, use_fvcore: bool) -> NetworkResult:
    import torch
    import torchinfo
    import torchvision

    from archspec.backend.verify import flop_counter

    builder_name, kwargs = PEERS[name]
    builder = getattr(torchvision.models, builder_name)

    # archspec: static analysis, no torch involved.
    analyze_s, report = timed(lambda: archspec.analyze(name), settings.analyze_repeats, settings.budget_s)
    channels, *spatial = report.input_shape[1:]
    large = [channels, *[LARGE_SPATIAL] * len(spatial)]
    analyze_large_s, report_large = timed(
        lambda: archspec.analyze(name, large, batch=LARGE_BATCH), settings.analyze_repeats, settings.budget_s
    )
    input_shape = list(report.input_shape)  # batch 1, the spec's own input
    log(f"  archspec.analyze {analyze_s * 1e3:.2f} ms (large {analyze_large_s * 1e3:.2f} ms)")

    # torchvision: build the model (weight initialisation included: that is what a user pays).
    torch.manual_seed(0)
    build_s, model = timed(lambda: builder(weights=None, **kwargs), settings.build_repeats, settings.budget_s, warmup=0)
    model.eval()
    tv_params = sum(p.numel() for p in model.parameters())
    x = torch.randn(*input_shape)
    log(f"  torchvision build {build_s:.2f} s")

    def count_flops() -> int:
        # Autograd on, and the fused CPU attention kernel counted (archspec's MACs convention, README
        # Conventions): under no_grad torchvision's attention takes torch's fused inference path, whose
        # products FlopCounterMode does not see (vit_b_16 would read 11.27 G instead of 17.56 G).
        counter = flop_counter()
        with torch.enable_grad(), counter:
            model(x)
        return counter.get_total_flops() // 2

    flopcounter_s, flopcounter_macs = timed(count_flops, settings.peer_repeats, settings.budget_s)
    log(f"  FlopCounterMode {flopcounter_s * 1e3:.1f} ms")

    torchinfo_s, stats = timed(
        lambda: torchinfo.summary(model, input_size=tuple(input_shape), verbose=0, device="cpu"),
        settings.peer_repeats,
        settings.budget_s,
    )
    log(f"  torchinfo.summary {torchinfo_s * 1e3:.1f} ms")

    fvcore_s = fvcore_total = None
    if use_fvcore:
        from fvcore.nn import FlopCountAnalysis

        def fvcore_count() -> int:
            analysis = FlopCountAnalysis(model, x)
            analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            return int(analysis.total())

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit deprecation warnings from fvcore's tracer
            fvcore_s, fvcore_total = timed(fvcore_count, settings.peer_repeats, settings.budget_s)
        log(f"  fvcore {fvcore_s * 1e3:.1f} ms")

    # Forward speed: archspec's compiled module against torchvision's, same input, eval mode, no_grad.
    forward_input = [settings.forward_batch, channels, *[settings.forward_size] * len(spatial)]
    start = time.perf_counter()
    torch.manual_seed(0)
    compiled = archspec.compile(name, forward_input[1:])
    compile_s = time.perf_counter() - start
    compiled.eval()
    tv_fwd, as_fwd = forward_times(
        model, compiled, torch.randn(*forward_input), settings.forward_rounds, settings.forward_budget_s
    )
    log(
        f"  forward torchvision {statistics.median(tv_fwd) * 1e3:.1f} ms, "
        f"archspec {statistics.median(as_fwd) * 1e3:.1f} ms"
    )

    result = NetworkResult(
        network=name,
        torchvision_builder=builder_name,
        input_shape=input_shape,
        archspec_analyze_s=analyze_s,
        archspec_analyze_large_s=analyze_large_s,
        archspec_compile_s=compile_s,
        torchvision_build_s=build_s,
        torchinfo_s=torchinfo_s,
        fvcore_s=fvcore_s,
        flopcounter_s=flopcounter_s,
        forward_torchvision_s=statistics.median(tv_fwd),
        forward_archspec_s=statistics.median(as_fwd),
        forward_torchvision_best_s=min(tv_fwd),
        forward_archspec_best_s=min(as_fwd),
        archspec_params=report.totals.params,
        torchvision_params=tv_params,
        archspec_macs=report.totals.macs,
        flopcounter_macs=flopcounter_macs,
        archspec_macs_large=report_large.totals.macs,
        torchinfo_mult_adds=int(stats.total_mult_adds),
        torchinfo_params=int(stats.total_params),
        fvcore_total=fvcore_total,
        forward_input=forward_input,
        forward_runs=len(as_fwd),
    )
    return result


def forward_times(
    reference: Any, candidate: Any, x: Any, rounds: int, budget_s: float
) -> tuple[list[float], list[float]]:
    """Interleaved forward timings (reference, candidate, candidate, reference per round) so drift cancels:
    at most ``rounds`` rounds, at least ``min(rounds, 2)``, and no new round once ``budget_s`` is spent."""
    import torch

    def run(module: Any) -> float:
        start = time.perf_counter()
        module(x)
        return time.perf_counter() - start

    ref, cand = [], []
    with torch.no_grad():
        run(reference), run(candidate)  # warm-up: allocator, oneDNN primitive caches
        start = time.perf_counter()
        for done in range(rounds):
            if done >= 2 and time.perf_counter() - start > budget_s:
                break
            ref.append(run(reference))
            cand.append(run(candidate))
            cand.append(run(candidate))
            ref.append(run(reference))
    return ref, cand


# ------------------------------------------------------------------------------------------- processes

# Runs the command as its only child, so RUSAGE_CHILDREN's ru_maxrss is that command's peak RSS. Measuring
# from this (torch-loaded) process directly would not do: ru_maxrss of RUSAGE_CHILDREN is the maximum over
# every child waited for, and on Linux a child spawned with vfork inherits its parent's high-water mark at
# exec — this process's gigabytes. The wrapper itself is ~10 MB, below anything it measures.
_RUNNER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": code, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss}))
"""


def run_process(command: list[str]) -> tuple[float, float, float]:
    out = subprocess.run([sys.executable, "-c", _RUNNER, *command], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    if data["rc"] != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {data['rc']}")
    return data["wall_s"], data["cpu_s"], data["maxrss_kb"] / 1024


def measure_process(label: str, command: list[str], repeats: int) -> ProcessResult:
    run_process(command)  # warm-up: page cache, .pyc files
    walls, cpus, rss = zip(*(run_process(command) for _ in range(repeats)), strict=True)
    return ProcessResult(
        label=label,
        command=command,
        wall_s=statistics.median(walls),
        cpu_s=statistics.median(cpus),
        peak_rss_mb=max(rss),
        runs=repeats,
    )


def archspec_command() -> list[str]:
    """The ``archspec`` console script of this interpreter's environment (not a pyenv shim), else ``-m``."""
    script = Path(sys.executable).parent / "archspec"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "archspec.cli"]


def measure_processes(spec: str, settings: Settings) -> list[ProcessResult]:
    results = [
        measure_process(f"archspec check {spec}", [*archspec_command(), "check", spec], settings.process_repeats)
    ]
    log(f"  archspec check {spec}: {results[-1].wall_s:.3f} s, {results[-1].peak_rss_mb:.0f} MB")
    results.append(
        measure_process(
            'python -c "import torch"', [sys.executable, "-c", "import torch"], settings.torch_import_repeats
        )
    )
    log(f"  import torch: {results[-1].wall_s:.3f} s, {results[-1].peak_rss_mb:.0f} MB")
    results.append(
        measure_process(
            'python -c "import archspec"', [sys.executable, "-c", "import archspec"], settings.process_repeats
        )
    )
    results.append(measure_process('python -c "pass"', [sys.executable, "-c", "pass"], settings.process_repeats))
    return results


# ---------------------------------------------------------------------------------------------- output


def ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1e3:,.2f}" if seconds < 0.1 else f"{seconds * 1e3:,.0f}"


def ratio(value: float | None, digits: int | None = None) -> str:
    if value is None:
        return "n/a"
    if digits is None:
        digits = 0 if value >= 100 else 1
    return f"{value:,.{digits}f}×"


def tick(same: bool) -> str:
    return "yes" if same else "**NO**"


def markdown(results: list[NetworkResult], processes: list[ProcessResult], settings: Settings, fvcore_note: str) -> str:
    lines: list[str] = []
    add = lines.append
    add("## Analysis time and ratios (peer time / archspec time)\n")
    add(
        "Times in ms, median after a warm-up. archspec: `archspec.analyze(name)` at the spec's input, batch 1; "
        f"large: input {LARGE_SPATIAL}² at batch {LARGE_BATCH}. Peers run on the torchvision model at batch 1.\n"
    )
    add(
        "| network | archspec | archspec large | large / small | torchvision build | torchinfo.summary "
        "| fvcore | FlopCounterMode | torchinfo / archspec | (build + torchinfo) / archspec | fvcore / archspec "
        "| FlopCounterMode / archspec |"
    )
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        q = r.ratios()
        add(
            f"| {r.network} | {ms(r.archspec_analyze_s)} | {ms(r.archspec_analyze_large_s)} "
            f"| {ratio(q['large_over_small'], 2)} | {ms(r.torchvision_build_s)} | {ms(r.torchinfo_s)} "
            f"| {ms(r.fvcore_s)} | {ms(r.flopcounter_s)} | {ratio(q['torchinfo_over_archspec'])} "
            f"| {ratio(q['build_plus_torchinfo_over_archspec'])} | {ratio(q['fvcore_over_archspec'])} "
            f"| {ratio(q['flopcounter_over_archspec'])} |"
        )

    add("\n## Agreement of the counts (batch 1, the spec's input)\n")
    add(
        "archspec MACs follow FlopCounterMode / 2. torchinfo's mult-adds add bias terms (and BN/other parameters "
        "x output size); fvcore counts one flop per multiply-add, plus the ops it has handles for (adaptive "
        f"pooling, BN, upsampling). Their columns show their own convention, next to their ratio to archspec's "
        f"MACs. {fvcore_note}\n"
    )
    add(
        "| network | archspec params | torchvision params | equal | archspec MACs | FlopCounterMode / 2 | equal "
        "| torchinfo mult-adds (bias incl.) | torchinfo / archspec | fvcore total (1 per MAC + pool/BN) "
        "| fvcore / archspec |"
    )
    add("|---|---:|---:|:-:|---:|---:|:-:|---:|---:|---:|---:|")
    for r in results:
        q = r.ratios()
        add(
            f"| {r.network} | {r.archspec_params:,} | {r.torchvision_params:,} "
            f"| {tick(r.archspec_params == r.torchvision_params)} | {r.archspec_macs:,} | {r.flopcounter_macs:,} "
            f"| {tick(r.archspec_macs == r.flopcounter_macs)} | {r.torchinfo_mult_adds:,} "
            f"| {ratio(q['torchinfo_mult_adds_over_macs'], 6)} "
            f"| {'n/a' if r.fvcore_total is None else f'{r.fvcore_total:,}'} "
            f"| {ratio(q['fvcore_total_over_macs'], 6)} |"
        )

    add("\n## Compiled module forward speed (eval, no_grad)\n")
    add(
        f"Interleaved runs (torchvision, archspec, archspec, torchvision) x up to {settings.forward_rounds} rounds "
        f"(at least 2; no new round after {settings.forward_budget_s:g} s) after a warm-up; ms; runs = timed "
        "forwards of each. Goal: archspec within 3% of torchvision.\n"
    )
    add(
        "| network | input | torchvision median | archspec median | archspec / torchvision | torchvision best "
        "| archspec best | best / best | runs | archspec.compile (s) |"
    )
    add("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        q = r.ratios()
        add(
            f"| {r.network} | {'x'.join(map(str, r.forward_input))} | {ms(r.forward_torchvision_s)} "
            f"| {ms(r.forward_archspec_s)} | {ratio(q['forward_archspec_over_torchvision'], 3)} "
            f"| {ms(r.forward_torchvision_best_s)} | {ms(r.forward_archspec_best_s)} "
            f"| {ratio(q['forward_best_archspec_over_torchvision'], 3)} | {r.forward_runs} "
            f"| {r.archspec_compile_s:.2f} |"
        )

    if processes:
        add("\n## Whole process (medians of wall and CPU time, peak RSS max over runs)\n")
        add(
            "| command | wall (s) | CPU user+sys (s) | peak RSS (MB) | wall / import torch | RSS / import torch "
            "| runs |"
        )
        add("|---|---:|---:|---:|---:|---:|---:|")
        torch_row = next((p for p in processes if "import torch" in p.label), None)
        for p in processes:
            rel_wall = ratio(p.wall_s / torch_row.wall_s, 3) if torch_row else "n/a"
            rel_rss = ratio(p.peak_rss_mb / torch_row.peak_rss_mb, 3) if torch_row else "n/a"
            add(
                f"| `{p.label}` | {p.wall_s:.3f} | {p.cpu_s:.3f} | {p.peak_rss_mb:.0f} | {rel_wall} | {rel_rss} "
                f"| {p.runs} |"
            )
    return "\n".join(lines) + "\n"


def machine() -> dict[str, Any]:
    import torch
    import torchvision

    info: dict[str, Any] = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "load_average_1m": os.getloadavg()[0],  # other work on the machine skews every number here
        # Without cached bytecode every `archspec check` process compiles archspec's sources first.
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE"),
        "archspec_bytecode_cached": any(Path(archspec.__file__).parent.glob("__pycache__/*.pyc")),
    }
    for package in ("torchinfo", "fvcore", "archspec"):
        try:
            from importlib.metadata import version

            info[package] = version(package)
        except Exception:
            info[package] = None
    return info


def profile_analyze(name: str, top: int) -> str:
    archspec.analyze(name)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(20):
        archspec.analyze(name)
    profiler.disable()
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(top)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repeats and a small forward input (smoke test)")
    parser.add_argument(
        "--networks",
        metavar="A,B",
        help="comma-separated bundled specs (default: every one with a torchvision counterpart)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--no-process", action="store_true", help="skip the whole-process measurements")
    parser.add_argument("--forward-batch", type=int, metavar="N")
    parser.add_argument("--forward-size", type=int, metavar="PIXELS", help="square input side for forward timing")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        metavar="N",
        help="torch intra-op threads for every torch measurement (default 1; 0: torch's own choice). "
        "With 2 threads on a 2-core machine shared with other work, each parallel region waits for a "
        "descheduled thread and torch timings swing by 10x or more; archspec's analysis is "
        "single-threaded Python either way",
    )
    parser.add_argument("--profile", metavar="NAME", help="print cProfile's top functions of archspec.analyze(NAME)")
    args = parser.parse_args(argv)

    settings = QUICK if args.quick else FULL
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)  # before any torch work: intra-op pool size is fixed at first use
    if args.forward_batch:
        settings = replace(settings, forward_batch=args.forward_batch)
    if args.forward_size:
        settings = replace(settings, forward_size=args.forward_size)
    if args.profile:
        print(profile_analyze(args.profile, 30))

    bundled = bundled_specs()
    if args.networks:
        names = [n.strip() for n in args.networks.split(",") if n.strip()]
        unknown = [n for n in names if n not in PEERS or n not in bundled]
        if unknown:
            parser.error(
                f"not both bundled and in PEERS: {', '.join(unknown)} "
                f"(available: {', '.join(n for n in PEERS if n in bundled)})"
            )
    else:
        names = [n for n in PEERS if n in bundled]
    if not names:
        parser.error("no bundled spec has a torchvision counterpart in PEERS")

    use_fvcore = fvcore_available()
    fvcore_note = "" if use_fvcore else "fvcore is not installed (pip install fvcore): its columns read n/a."
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    results = []
    for name in names:
        log(f"{name}:")
        results.append(measure_network(name, settings, use_fvcore))
        gc.collect()  # the models (hundreds of MB each) die with measure_network's frame
    processes: list[ProcessResult] = []
    if not args.no_process:
        log("whole process:")
        processes = measure_processes(PROCESS_SPEC if PROCESS_SPEC in bundled else names[0], settings)

    info = machine()
    info["load_average_1m_at_start"] = load_at_start
    print(
        f"# archspec vs peers — {info['date']}, {info['cpus']} CPUs, torch {info['torch']} "
        f"(torch threads: {info['torch_threads']}), {'quick' if args.quick else 'full'} run, "
        f"{time.perf_counter() - started:.0f} s, load average {load_at_start:.2f} → "
        f"{info['load_average_1m']:.2f}, archspec bytecode cached: {info['archspec_bytecode_cached']}\n"
    )
    print(markdown(results, processes, settings, fvcore_note))
    if args.json:
        payload = {
            "machine": info,
            "settings": asdict(settings),
            "quick": args.quick,
            "networks": [{**asdict(r), "ratios": r.ratios()} for r in results],
            "processes": [asdict(p) for p in processes],
        }
        from archspec.outputs import atomic_write  # as every file archspec writes: whole or not at all

        text = json.dumps(payload, indent=2) + "\n"
        atomic_write(args.json, lambda handle: handle.write(text.encode("utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
