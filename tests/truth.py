"""Ground truth: what the compiled torch module really does, measured — never computed by archspec.

shapes: forward hooks on every submodule; params/buffers: ``numel()``; MACs: ``FlopCounterMode`` / 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

import archspec
from archspec.analysis.report import Report, build_report
from archspec.ops.base import Context


@dataclass
class Measurement:
    shapes: dict[str, list[int]]
    params: int
    buffers: int
    macs: int
    output: torch.Tensor


def measure(model: torch.nn.Module, input_shape: list[int], train: bool = False, seed: int = 0) -> Measurement:
    shapes: dict[str, list[int]] = {}
    handles = [module.register_forward_hook(lambda _m, _i, out, path=path: shapes.__setitem__(path, list(out.shape)))
               for path, module in model.named_modules() if path]
    model.train(train)
    counter = FlopCounterMode(display=False)
    generator = torch.Generator().manual_seed(seed)
    try:
        with torch.no_grad(), counter:
            output = model(torch.randn(*input_shape, generator=generator))
    finally:
        for handle in handles:
            handle.remove()
    return Measurement(shapes=shapes, params=sum(p.numel() for p in model.parameters()),
                       buffers=sum(b.numel() for b in model.buffers()), macs=counter.get_total_flops() // 2,
                       output=output)


def static_and_measured(spec: Any, input_shape: list[int] | None = None, batch: int = 1,
                        train: bool = False) -> tuple[Report, Measurement]:
    network = archspec.expand(spec, input_shape, batch=batch, train=train)
    report = build_report(network, batch, Context(batch=batch, train=train))
    model = archspec.compile(network)
    return report, measure(model, report.input_shape, train=train)


def assert_static_equals_measured(spec: Any, input_shape: list[int] | None = None, batch: int = 1,
                                  train: bool = False) -> Report:
    """Every layer's shape, the params, buffers and MACs of the report equal measurement."""
    report, truth = static_and_measured(spec, input_shape, batch, train)
    static_shapes = {row.path: row.output_shape for row in report.layers}
    assert static_shapes == truth.shapes
    assert report.totals.params == truth.params
    assert report.totals.buffers == truth.buffers
    assert report.totals.macs == truth.macs
    assert report.output_shape == list(truth.output.shape)
    return report
