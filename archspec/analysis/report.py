"""The static report: per-module shapes, counts, MACs, memory and receptive fields (DESIGN.md §4).

Conventions (REFERENCE.md §3-4): ``macs`` is FlopCounterMode's total / 2 for the same input and batch;
``activation_bytes`` is Σ over leaf ops of their output elements × 4 bytes (float32), batch included;
``param_bytes`` is Σ parameter elements × 4. Containers carry the totals of what they contain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from typing import Any

from archspec.analysis.min_input import least_input, min_input
from archspec.analysis.receptive_field import Field, network_field, placement, receptive_fields
from archspec.analysis.tiling import Tiling
from archspec.analysis.warnings import ReportWarning, anchors, warning_at
from archspec.errors import Location, SpecPath
from archspec.gc_pause import paused_gc
from archspec.ir.graph import MAIN_OUTPUT, Network, Node
from archspec.ops.base import DTYPE_BYTES, Context, Tokens, format_shape

# The version of the JSON report's format (``format_version``, the first key of ``to_dict``): MAJOR.MINOR.PATCH.
# MAJOR when a key is removed or renamed or a value changes type or meaning (a reader of the old format may
# misread the new one), MINOR when a key is added (old readers keep working), PATCH when only the schema's
# descriptions change. archspec/analysis/report_schema.py describes it; tests/unit/test_report_schema.py holds
# every report to the shipped schema, so a changed to_dict fails there until both are updated.
FORMAT_VERSION = "1.2.0"

CONVENTIONS = {
    "macs": "torch.utils.flop_counter.FlopCounterMode total / 2 (conv, conv_transpose, linear; bias, "
    "normalisation, activations and pooling count 0)",
    "activation_bytes": "sum over leaf ops of output elements x 4 bytes (float32), batch included",
    "param_bytes": "parameter elements x 4 bytes (float32); buffers not included",
    "parameter": "a row with parameter true is a parameter item (class_token, pos_embedding, layer_scale): its "
    "path names a parameter of the compiled module (get_parameter), not a submodule",
    "receptive_field": "size, jump (effective stride; 'stride' in the network's field), start (0.5-based "
    "centre of output index 0) and effective left padding per spatial dim, relative to "
    "the network input; output i sees inputs [i*jump - padding, i*jump - padding + size - 1]",
}


@dataclass(slots=True)  # one per module: a million for the biggest networks
class LayerReport:
    """One module of the report: its shapes, counts and receptive field (a row of the table, a JSON layer)."""

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
    spec_path: SpecPath = ()  # of the item it comes from (where errors about the layer point)
    # A parameter item (class_token, pos_embedding, layer_scale): its path names a parameter of the compiled
    # module (``model.get_parameter(path)``), not a submodule; it is a leaf with no MACs and, like an inlined
    # merge, a step of the enclosing module, so no activation bytes of its own.
    parameter: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "op": self.op,
            "leaf": self.leaf,
            "depth": self.depth,
            "input_shape": self.input_shape,
            "output_shape": self.output_shape,
            "params": self.params,
            "trainable_params": self.trainable_params,
            "buffers": self.buffers,
            "macs": self.macs,
            "activation_bytes": self.activation_bytes,
            "rf": self.rf.to_dict() if self.rf else None,
            "train_only": self.train_only,
            "parameter": self.parameter,
            "source": str(self.location) if self.location else None,
        }


@dataclass(slots=True)
class Totals:
    """The network's sums over its leaves (train-only heads' MACs and activations left out in eval)."""

    params: int = 0
    trainable_params: int = 0
    buffers: int = 0
    macs: int = 0
    activation_bytes: int = 0

    @property
    def param_bytes(self) -> int:
        return self.params * DTYPE_BYTES

    def to_dict(self) -> dict[str, int]:
        return {
            "params": self.params,
            "trainable_params": self.trainable_params,
            "buffers": self.buffers,
            "macs": self.macs,
            "activation_bytes": self.activation_bytes,
            "param_bytes": self.param_bytes,
        }


@dataclass
class Report:
    """The static analysis of one network: what ``archspec check`` prints and ``report.to_dict()`` returns."""

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
    warnings: list[ReportWarning] = field(default_factory=list)
    # The smallest input in each mode (``min_input`` is the report's own); training may need a larger one
    # (a train-only head that needs more, batchnorm's batch statistics) — None where no input trains.
    min_input_eval: list[int] | None = None
    min_input_train: list[int] | None = None
    # A token input's vocabulary (its int64 indices lie in [0, input_vocab)); None for a float input.
    input_vocab: int | None = None
    scale: str | None = None  # the spec's named scale in effect (--scale), None without one
    # How deep a notebook shows the layer table (``_repr_html_``, ``_repr_markdown_``): None every module, 0 the
    # totals only; archspec.summary sets its ``depth``. Not part of the report (to_dict, equality).
    display_depth: int | None = field(default=None, compare=False, repr=False)
    # ``archspec check --tile N``: the tiled inference of this input (archspec.analysis.tiling); None otherwise.
    tiling: Tiling | None = None

    def _repr_markdown_(self) -> str:
        """The report in Markdown (``--format markdown``), as Jupyter shows it; user text cannot inject HTML."""
        # Here, not at the top: the renderers sit above the analysis (pyproject's import contract allows this).
        from archspec.render.markdown import render_markdown

        return render_markdown(self, self.display_depth)

    def _repr_html_(self) -> str:
        """The report as an HTML fragment (summary, warnings, layer table), every text escaped."""
        from archspec.render.html import render_html

        return render_html(self, self.display_depth)

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
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "scale": self.scale,
            "input_shape": self.input_shape,
            "input_vocab": self.input_vocab,
            "outputs": self.outputs,
            "totals": self.totals.to_dict(),
            "receptive_field": _network_field(self.receptive_field),
            "min_input": self.min_input,
            "min_input_by_mode": {"eval": self.min_input_eval, "train": self.min_input_train},
            "batch": self.batch,
            "train": self.train,
            "conventions": CONVENTIONS,
            "warnings": [warning.to_dict() for warning in self.warnings],
            "layers": [row.to_dict() for row in self.layers],
            "tiling": self.tiling.to_dict() if self.tiling is not None else None,
        }


def build_report(network: Network, batch: int = 1, ctx: Context | None = None) -> Report:
    """Analyse an expanded network. Cost is linear in the number of modules and independent of input size."""
    with paused_gc():  # a report of a big network is millions of live objects (see archspec.gc_pause)
        return _build_report(network, batch, ctx)


def _build_report(network: Network, batch: int, ctx: Context | None) -> Report:
    ctx = ctx or Context(batch=batch)
    warnings: list[ReportWarning] = []
    leaf_inputs: dict[int, Field] = {}
    fields = receptive_fields(network, warnings, leaf_inputs)
    totals, rows, notes = _layer_rows(network.root, batch, fields, leaf_inputs, ctx.train)
    # Both modes' smallest inputs: training only adds conditions, so the eval answer starts its search.
    smallest_eval = min_input(network, Context(batch=batch, train=False), fields)
    smallest_train = least_input(network, Context(batch=batch, train=True), smallest_eval)
    outputs = [{"name": MAIN_OUTPUT, "shape": [batch, *network.output]}]
    for node in network.modules():
        if node.side_output is not None and (ctx.train or not node.train_only):
            outputs.append({"name": node.path, "shape": [batch, *node.side_output]})
        if node.built_for is not None:
            notes.append((node, _idle_head_note(node, smallest_train)))
    return Report(
        name=network.name,
        batch=batch,
        input_shape=[batch, *network.input],
        output_shape=[batch, *network.output],
        outputs=outputs,
        totals=totals,
        layers=rows,
        receptive_field=network_field(network, fields),
        min_input=(smallest_train or list(network.input)) if ctx.train else smallest_eval,
        doc=network.doc,
        file=network.file,
        train=ctx.train,
        warnings=_collated(network, rows, warnings, notes),
        min_input_eval=smallest_eval,
        min_input_train=smallest_train,
        input_vocab=network.input.vocab if isinstance(network.input, Tokens) else None,
        scale=network.scale,
    )


def _idle_head_note(head: Node, smallest_train: list[int] | None) -> tuple[str, str]:
    """What to say of a train-only head that cannot run at this input (see archspec.ir.head_inputs)."""
    assert head.built_for is not None
    what = (
        f"head '{head.path}' runs only in training, and could not run at this input: it takes at least "
        f"{format_shape(head.built_for)}, here it gets {format_shape(head.input)}; its layers are built "
        f"(and listed) for {format_shape(head.built_for)}, and eval mode, which never runs it, is unaffected"
    )
    fix = (
        f"train at inputs of at least {format_shape(tuple(smallest_train))}"
        if smallest_train
        else "no input runs this network in training; change the head"
    ) + ", or let the head take smaller inputs (e.g. adaptive pooling before its convolutions)"
    return what, fix


def _collated(
    network: Network, rows: list[LayerReport], warnings: list[ReportWarning], notes: Warned
) -> list[ReportWarning]:
    """Every warning, located, in the order of the modules they are about; one per item and message (the
    copies of a repeat say the same thing at the same place, and the first takes 'first', so its arguments
    are another object and it is warned about apart)."""
    if notes:
        anchor_of = anchors(network, [node for node, _ in notes])
        warnings = warnings + [warning_at(node, anchor_of[id(node)], what, fix) for node, (what, fix) in notes]
    if not warnings:
        return warnings
    order = {row.path: index for index, row in enumerate(rows)}
    distinct: dict[tuple[Any, ...], ReportWarning] = {}
    for warning in sorted(warnings, key=lambda warning: order[warning.module]):
        distinct.setdefault((warning.location, warning.spec_path, warning.message, warning.fix), warning)
    return list(distinct.values())


def _network_field(field: Field | None) -> dict[str, Any] | None:
    """DESIGN §4 names the network's jump ``stride``; ``jump`` is kept too, as in the per-layer fields."""
    if field is None:
        return None
    result = field.to_dict()
    result["stride"] = result["jump"]
    return result


Warned = list[tuple[Node, tuple[str, str]]]


def _layer_rows(
    root: Node, batch: int, fields: dict[str, Field | None], leaf_inputs: dict[int, Field], train: bool
) -> tuple[Totals, list[LayerReport], Warned]:
    """The root's totals, every module's row, in depth-first order (without recursion: a network may nest
    as deep as its limit and hold a million modules, so this loop is kept lean), and the ops' warnings, each
    with the first leaf it is about (the copies of a repeat share their arguments, and one warning). Each op is
    told where the network input's spatial dims lie in its input, from the field there (``leaf_inputs``).

    In eval mode, train-only heads keep their parameters in their parent's totals but not their MACs or
    activations (they do not run)."""
    order = list(root.walk())  # depth-first: the rows' order; reversed, every child comes before its parent
    # Per node id: (params, buffers, macs, activation bytes) of everything it holds; every param is trainable.
    sums: dict[int, tuple[int, int, int, int]] = {}
    counted: dict[tuple[int, Any, Any], tuple[int, int, int]] = {}  # the copies of a repeat share their args
    rows: list[LayerReport] = []
    warned: dict[tuple[int, Any, Any], tuple[Node, list[tuple[str, str]]]] = {}
    for node in reversed(order):
        if node.op is not None:
            key = (id(node.args), node.input, node.output)
            counts = counted.get(key)
            if counts is None:
                op, args, x, y = node.op, node.args, node.input, node.output
                counts = counted[key] = (op.parameters(args, x, y), op.buffers(args, x, y), op.macs(args, x, y))
                notes = op.warnings(args, x, y, placement(leaf_inputs.get(id(node))))
                if notes:
                    warned[key] = (node, notes)
            elif warned and key in warned:
                warned[key] = (node, warned[key][1])  # the walk goes backwards: keep the first copy
            params, buffers, macs = counts
            macs *= batch
            activations = 0 if node.op.holds_tensor else batch * prod(node.output) * DTYPE_BYTES
        else:
            params = buffers = macs = activations = 0
            for child in node.children:
                child_params, child_buffers, child_macs, child_activations = sums.pop(id(child))
                params += child_params
                buffers += child_buffers
                if train or not child.train_only or node.train_only:
                    macs += child_macs
                    activations += child_activations
        sums[id(node)] = (params, buffers, macs, activations)
        if node.path and not node.inline:  # an inlined container is no submodule: its children are listed
            shape = node.input
            # list((batch, *shape)) is sized exactly; [batch, *shape] over-allocates (a third more per row)
            input_shape = (
                [list((batch, *part)) for part in shape]
                if shape and isinstance(shape[0], tuple)
                else list((batch, *shape))
            )
            rows.append(
                LayerReport(
                    node.path,
                    node.kind,
                    node.op is not None,
                    node.path.count(".") + 1,
                    input_shape,
                    list((batch, *node.output)),
                    params,
                    params,
                    buffers,
                    macs,
                    activations,
                    fields.get(node.path),
                    node.location,
                    node.train_only,
                    node.spec_path,
                    node.op is not None and node.op.holds_tensor,
                )
            )
    rows.reverse()
    params, buffers, macs, activations = sums[id(root)]
    notes = [(node, note) for node, listed in warned.values() for note in listed]
    return Totals(params, params, buffers, macs, activations), rows, notes
