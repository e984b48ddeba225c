"""The static report: per-module shapes, counts, MACs, memory and receptive fields (DESIGN.md §4).

Conventions (REFERENCE.md §3-4): ``macs`` is FlopCounterMode's total / 2 for the same input and batch;
``activation_bytes`` is Σ over leaf ops of their output elements × 4 bytes (float32), batch included;
``param_bytes`` is Σ parameter elements × 4. Containers carry the totals of what they contain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from typing import Any

from archspec.analysis.min_input import min_input
from archspec.analysis.receptive_field import Field, network_field, receptive_fields
from archspec.errors import Location
from archspec.ir.graph import MAIN_OUTPUT, Network, Node
from archspec.ops.base import Context

DTYPE_BYTES = 4
CONVENTIONS = {
    "macs": "torch.utils.flop_counter.FlopCounterMode total / 2 (conv, conv_transpose, linear; bias, "
            "normalisation, activations and pooling count 0)",
    "activation_bytes": "sum over leaf ops of output elements x 4 bytes (float32), batch included",
    "param_bytes": "parameter elements x 4 bytes (float32); buffers not included",
    "receptive_field": "size, jump (effective stride; 'stride' in the network's field), start (0.5-based "
                       "centre of output index 0) and effective left padding per spatial dim, relative to "
                       "the network input; output i sees inputs [i*jump - padding, i*jump - padding + size - 1]",
}


@dataclass
class LayerReport:
    path: str
    op: str
    leaf: bool
    depth: int
    input_shape: list[int]
    output_shape: list[int]
    params: int
    trainable_params: int
    buffers: int
    macs: int
    activation_bytes: int
    rf: Field | None
    location: Location | None
    train_only: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "op": self.op, "leaf": self.leaf, "depth": self.depth,
                "input_shape": self.input_shape, "output_shape": self.output_shape, "params": self.params,
                "trainable_params": self.trainable_params, "buffers": self.buffers, "macs": self.macs,
                "activation_bytes": self.activation_bytes, "rf": self.rf.to_dict() if self.rf else None,
                "train_only": self.train_only, "source": str(self.location) if self.location else None}


@dataclass
class Totals:
    params: int = 0
    trainable_params: int = 0
    buffers: int = 0
    macs: int = 0
    activation_bytes: int = 0

    @property
    def param_bytes(self) -> int:
        return self.params * DTYPE_BYTES

    def to_dict(self) -> dict[str, int]:
        return {"params": self.params, "trainable_params": self.trainable_params, "buffers": self.buffers,
                "macs": self.macs, "activation_bytes": self.activation_bytes, "param_bytes": self.param_bytes}


@dataclass
class Report:
    name: str
    batch: int
    input_shape: list[int]
    output_shape: list[int]
    outputs: list[dict[str, Any]]
    totals: Totals
    layers: list[LayerReport]
    receptive_field: Field | None
    min_input: list[int]
    doc: str | None = None
    file: str = ""
    train: bool = False
    warnings: list[str] = field(default_factory=list)

    def shown_layers(self, max_depth: int | None = None) -> list[LayerReport]:
        """The modules down to ``max_depth`` (1: the top-level ones; None: all), in depth-first order."""
        return [row for row in self.layers if max_depth is None or row.depth <= max_depth]

    def layer(self, path: str) -> LayerReport:
        for row in self.layers:
            if row.path == path:
                return row
        raise KeyError(path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "input_shape": self.input_shape,
            "outputs": self.outputs,
            "totals": self.totals.to_dict(),
            "receptive_field": _network_field(self.receptive_field),
            "min_input": self.min_input,
            "batch": self.batch,
            "train": self.train,
            "conventions": CONVENTIONS,
            "warnings": self.warnings,
            "layers": [row.to_dict() for row in self.layers],
        }


def build_report(network: Network, batch: int = 1, ctx: Context | None = None) -> Report:
    """Analyse an expanded network. Cost is linear in the number of modules and independent of input size."""
    ctx = ctx or Context(batch=batch)
    warnings: list[str] = []
    fields = receptive_fields(network, warnings)
    rows: list[LayerReport] = []
    totals = _visit(network.root, batch, fields, rows, ctx.train)
    outputs = [{"name": MAIN_OUTPUT, "shape": [batch, *network.output]}]
    outputs += [{"name": node.path, "shape": [batch, *node.side_output]} for node in network.modules()
                if node.side_output is not None and (ctx.train or not node.train_only)]
    return Report(name=network.name, batch=batch, input_shape=[batch, *network.input],
                  output_shape=[batch, *network.output], outputs=outputs, totals=totals, layers=rows,
                  receptive_field=network_field(network, fields), min_input=min_input(network, ctx),
                  doc=network.doc, file=network.file, train=ctx.train, warnings=warnings)


def _network_field(field: Field | None) -> dict[str, Any] | None:
    """DESIGN §4 names the network's jump ``stride``; ``jump`` is kept too, as in the per-layer fields."""
    if field is None:
        return None
    result = field.to_dict()
    result["stride"] = result["jump"]
    return result


def _with_batch(shape: Any, batch: int) -> list[Any]:
    """``[N, *shape]``; for several inputs (``from: [a, b]``), one such list per input."""
    if shape and isinstance(shape[0], tuple):
        return [[batch, *part] for part in shape]
    return [batch, *shape]


def _visit(node: Node, batch: int, fields: dict[str, Field | None], rows: list[Any], train: bool) -> Totals:
    """Totals of ``node``; its row goes before its children's (depth-first order) into ``rows``.

    In eval mode, train-only heads keep their parameters in their parent's totals but not their MACs or
    activations (they do not run)."""
    position = len(rows)
    if node.path:
        rows.append(None)  # this node's row, filled in once its children are summed
    if node.is_leaf:
        op, args, x, y = node.op, node.args, node.input, node.output
        params = op.parameters(args, x, y)
        totals = Totals(params=params, trainable_params=params, buffers=op.buffers(args, x, y),
                        macs=batch * op.macs(args, x, y), activation_bytes=batch * prod(y) * DTYPE_BYTES)
    else:
        totals = Totals()
        for child in node.children:
            child_totals = _visit(child, batch, fields, rows, train)
            totals.params += child_totals.params
            totals.trainable_params += child_totals.trainable_params
            totals.buffers += child_totals.buffers
            if train or not child.train_only or node.train_only:
                totals.macs += child_totals.macs
                totals.activation_bytes += child_totals.activation_bytes
    if node.path:
        rows[position] = LayerReport(path=node.path, op=node.kind, leaf=node.is_leaf, depth=node.depth,
                                     input_shape=_with_batch(node.input, batch), output_shape=[batch, *node.output],
                                     params=totals.params, trainable_params=totals.trainable_params,
                                     buffers=totals.buffers, macs=totals.macs,
                                     activation_bytes=totals.activation_bytes, rf=fields.get(node.path),
                                     location=node.location, train_only=node.train_only)
    return totals
