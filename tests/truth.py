"""Ground truth: what the compiled torch module really does, measured — never computed by archspec.

Per module path (every submodule of the compiled network):

- shapes: forward hooks on every submodule;
- params / trainable params / buffers: ``numel()`` of that submodule's own (recursive) parameters and buffers;
- MACs: ``FlopCounterMode`` / 2, measured with autograd on (under ``no_grad`` torch's fused attention hides
  its matrix products) and with the fused CPU attention kernel counted by torch's sdpa formula
  (``archspec.backend.verify.flop_counter``: torch's counter has no formula for it). Its per-module counts
  (``get_flop_counts()``) come from torch's ``ModuleTracker``: the root is keyed by its class name
  (``"CompiledNetwork"``) and every submodule by that name plus its registered dotted path
  (``"CompiledNetwork.features.0"``); every op is counted for *every* module active when it runs (all
  ancestors), so a container's count is the sum over what ran inside it, and ``"Global"`` is the total. A
  module with no counted op has no key (0). A module called twice would be counted twice: archspec never
  shares a module, and :func:`measure` asserts each ran at most once;
- activation bytes: per leaf module, its output's ``numel() * element_size()`` from the forward hook; per
  container, the sum over the leaves under it that ran (REFERENCE.md §4: activations are Σ over leaf ops).

Leaves are the modules of a compiled network that are not archspec containers (an empty branch compiles to an empty
``nn.Sequential``: a container, the identity), and the submodules of a leaf are part of its op, not modules
of their own: ``nn.MultiheadAttention`` holds ``out_proj`` but uses its weight itself, so no hook or counter
ever sees it run, and the report has no row for it. Train-only heads do not run in eval mode: the head
module itself runs (and passes its input on), its children do not — their MACs and activations are
measured only in training mode, where :func:`assert_layers_equal_measured` compares them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

import archspec
from archspec.analysis.report import Report, build_report
from archspec.backend import modules as archspec_modules
from archspec.backend.verify import example_input, flop_counter
from archspec.ops.base import Context

CONTAINER_TYPES = (nn.Sequential, archspec_modules.RoutedSequential, archspec_modules._Branches)


@dataclass
class Measurement:
    shapes: dict[str, list[int]]
    params: int
    buffers: int
    macs: int
    output: Any
    # per module path ('' is the root); the counts cover every submodule, MACs and calls those that ran
    module_params: dict[str, int] = field(default_factory=dict)
    module_trainable: dict[str, int] = field(default_factory=dict)
    module_buffers: dict[str, int] = field(default_factory=dict)
    module_macs: dict[str, int] = field(default_factory=dict)
    leaf_activation_bytes: dict[str, int] = field(default_factory=dict)  # leaves that ran
    leaves: set[str] = field(default_factory=set)
    calls: dict[str, int] = field(default_factory=dict)
    # every parameter by its dotted name (parameter items' rows name one): (numel, requires_grad)
    parameters: dict[str, tuple[int, bool]] = field(default_factory=dict)

    def activation_bytes(self, path: str) -> int:
        """A leaf's output bytes; a container's, the sum over the leaves under it that ran."""
        if path in self.leaves:
            return self.leaf_activation_bytes.get(path, 0)
        prefix = path + "." if path else ""
        return sum(v for leaf, v in self.leaf_activation_bytes.items() if leaf.startswith(prefix))


def is_leaf(module: nn.Module, parts_known: bool = False) -> bool:
    """A module with no children that is not an archspec container. ``parts_known``: the caller has already
    left out the parts of op modules (:func:`op_level_modules`), so children do not matter."""
    if not parts_known and any(True for _ in module.children()):
        return False
    return not isinstance(module, CONTAINER_TYPES)


def op_level_modules(model: nn.Module) -> dict[str, nn.Module]:
    """Every submodule by path ('' is the root); in a network archspec compiled, leaving out what lies inside a
    module that is not a container (an op's own parts). A hand-written module keeps all of its submodules."""
    if not isinstance(model, archspec_modules.CompiledNetwork):
        return dict(model.named_modules())
    found: dict[str, nn.Module] = {}
    for path, module in model.named_modules():  # parents come before their children
        parent = path.rpartition(".")[0]
        if not path or (parent in found and isinstance(found[parent], CONTAINER_TYPES)):
            found[path] = module
    return found


def measure(
    model: torch.nn.Module, input_shape: list[int], train: bool = False, seed: int = 0, vocab: int | None = None
) -> Measurement:
    """``vocab``: the input is integer tokens, drawn by ``torch.randint(0, vocab, ...)``; else ``torch.randn``."""
    shapes: dict[str, list[int]] = {}
    calls: dict[str, int] = {}
    leaf_bytes: dict[str, int] = {}
    named = op_level_modules(model)
    parents = {path.rpartition(".")[0] for path in named if path}
    leaves = {path for path, module in named.items() if path and path not in parents and is_leaf(module, True)}

    def hook(_module, _inputs, out, path):
        shapes[path] = list(out.shape)
        calls[path] = calls.get(path, 0) + 1
        if path in leaves:
            leaf_bytes[path] = leaf_bytes.get(path, 0) + out.numel() * out.element_size()

    handles = [
        module.register_forward_hook(lambda m, i, o, path=path: hook(m, i, o, path))
        for path, module in named.items()
        if path
    ]
    model.train(train)
    counter = flop_counter()
    generator = torch.Generator().manual_seed(seed)
    try:
        with torch.enable_grad(), counter:
            output = model(example_input(input_shape, vocab, generator))
    finally:
        for handle in handles:
            handle.remove()
    assert all(n == 1 for n in calls.values()), {p: n for p, n in calls.items() if n != 1}
    counts = counter.get_flop_counts()
    root = type(model).__name__
    assert root != "Global"
    module_macs = {}
    for path in named:
        key = f"{root}.{path}" if path else root
        flops = sum(counts.get(key, {}).values())
        assert flops % 2 == 0, (path, flops)
        module_macs[path] = flops // 2
    total = counter.get_total_flops() // 2
    assert module_macs[""] == total, "the root's count is the Global count"
    return Measurement(
        shapes=shapes,
        params=sum(p.numel() for p in model.parameters()),
        buffers=sum(b.numel() for b in model.buffers()),
        macs=total,
        output=output,
        module_params={path: sum(p.numel() for p in m.parameters()) for path, m in named.items()},
        module_trainable={path: sum(p.numel() for p in m.parameters() if p.requires_grad) for path, m in named.items()},
        module_buffers={path: sum(b.numel() for b in m.buffers()) for path, m in named.items()},
        module_macs=module_macs,
        leaf_activation_bytes=leaf_bytes,
        leaves=leaves,
        calls=calls,
        parameters={path: (p.numel(), p.requires_grad) for path, p in model.named_parameters()},
    )


def static_and_measured(
    spec: Any, input_shape: list[int] | None = None, batch: int = 1, train: bool = False
) -> tuple[Report, Measurement]:
    network = archspec.expand(spec, input_shape, batch=batch, train=train)
    report = build_report(network, batch, Context(batch=batch, train=train))
    model = archspec.compile(network)
    return report, measure(model, report.input_shape, train=train, vocab=report.input_vocab)


def assert_layers_equal_measured(report: Report, truth: Measurement) -> None:
    """Every report row against its module: params, trainable params and buffers always (a train-only head
    holds its parameters in eval mode too); MACs and activation bytes for every row that ran — in eval mode
    the rows of train-only heads report what the head costs when it runs, which is measured in training
    mode. Totals: params, buffers, MACs and activation bytes of the whole network."""
    rows = {row.path: row for row in report.layers}
    # Parameter items' rows name parameters (model.get_parameter(path)); every other row names a submodule.
    tensors = {path for path, row in rows.items() if row.parameter}
    assert set(rows) - tensors == set(truth.module_params) - {""}, "report rows == compiled submodules"
    assert {path for path, row in rows.items() if row.leaf} - tensors == truth.leaves
    mismatches = []
    for path in tensors:
        row, (numel, trainable) = rows[path], truth.parameters[path]
        if (row.params, row.trainable_params, row.buffers) != (numel, numel if trainable else 0, 0):
            mismatches.append((path, row.op, (row.params, row.trainable_params, row.buffers), (numel, trainable)))
    for path, row in ((path, row) for path, row in rows.items() if path not in tensors):
        static = {"params": row.params, "trainable_params": row.trainable_params, "buffers": row.buffers}
        measured = {
            "params": truth.module_params[path],
            "trainable_params": truth.module_trainable[path],
            "buffers": truth.module_buffers[path],
        }
        if report.train or not row.train_only:
            assert path in truth.calls, f"{path} did not run"
            static.update(macs=row.macs, activation_bytes=row.activation_bytes)
            measured.update(macs=truth.module_macs[path], activation_bytes=truth.activation_bytes(path))
        if static != measured:
            mismatches.append((path, row.op, static, measured))
    assert not mismatches, "static != measured (path, op, static, measured):\n" + "\n".join(map(str, mismatches[:20]))
    assert report.totals.params == truth.params == truth.module_params[""]
    assert report.totals.trainable_params == truth.module_trainable[""]
    assert report.totals.buffers == truth.buffers == truth.module_buffers[""]
    assert report.totals.macs == truth.macs
    assert report.totals.activation_bytes == truth.activation_bytes("")


def assert_static_equals_measured(
    spec: Any, input_shape: list[int] | None = None, batch: int = 1, train: bool = False
) -> Report:
    """Every layer's shape, params, buffers, MACs and activation bytes, the totals and the outputs equal
    measurement.

    Heads: in eval mode the layers inside a train-only head do not run (no hook fires; the head itself runs
    and passes its input on), and the network returns ``{"output": main, "<head path>": side, ...}`` whenever
    some head produced an output."""
    report, truth = static_and_measured(spec, input_shape, batch, train)
    train_only = {row.path for row in report.layers if row.train_only}
    not_run = set() if train else {path for path in train_only if path.rpartition(".")[0] in train_only}
    static_shapes = {
        row.path: row.output_shape for row in report.layers if row.path not in not_run and not row.parameter
    }
    assert static_shapes == truth.shapes
    assert_layers_equal_measured(report, truth)
    outputs = truth.output if isinstance(truth.output, dict) else {"output": truth.output}
    assert report.outputs == [{"name": name, "shape": list(value.shape)} for name, value in outputs.items()]
    assert report.output_shape == list(outputs["output"].shape)
    return report
