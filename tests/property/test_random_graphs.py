"""Random valid *branching* specs (DESIGN.md §3-5): every static number equals what the compiled module really
does, in eval and train mode, at batch 1 and 2, heads and long skips included; and exact receptive fields
equal the gradient probe's spans (``tests/probe.py``), through merges too.

The strategy builds spec dicts that are valid by construction, tracking the shape that flows through every
list (``Graphs``). It generates, in 1-D and 2-D (channels <= 8, spatial 4-20):

- ``concat`` / ``add`` / ``multiply`` over 2-4 branches, as a list or a mapping of named branches, with empty
  (identity) branches, nested containers and heads inside branches, all branches stride 1 or all stride 2,
  projections to equal channels for add / multiply, a 1-channel branch broadcast against the others, and
  squeeze-and-excitation gates (a globally pooled branch of ``multiply``);
- ``head`` items (``train_only`` absent, false or true) with small classifiers or spatial side outputs;
- long skips: ``id`` on earlier items (also on heads and repeat groups), then ``concat: {}`` / ``add: {}`` /
  ``multiply: {}`` with ``from: [prev, <id>]`` (either order, sometimes three inputs), a merge with branches
  (branch k takes input k: a 1x1 projection or an ``upsample`` back to the saved size, U-Net style), and
  ``from: <id>`` / ``from: input`` on a single item;
- ``repeat`` of containers: residual ``add`` with an identity shortcut, a DenseNet-like growing ``concat``,
  ``sequential`` groups, heads with ``first: {train_only: ...}``, sometimes reading ``from`` an id;
- a user block ``unit(out, stride, kernel, aux, tap)`` holding an ``add`` residual whose 1x1 projection
  shortcut is kept by ``if: ${stride != 1 or in.channels != out}``, and a head included by ``if: $tap`` with
  ``train_only: $aux``; used plain and repeated with ``first: {stride: 2}``.

Receptive fields, probed at the final feature map (the last top-level main-path item with a spatial size
> 1) and at every merge that runs in eval mode, at the first, middle and last output positions (and a mixed
corner in 2-D): exact fields must equal the probe's span clipped to the input, global ones the whole input.
The R/J/P formula over-approximates at the borders in two documented cases (tests/probe.py,
test_receptive_field_probe.py). (a) A floor-mode layer leaving its last inputs unread: the strategies *avoid*
it — every strided layer's last window reaches the end of its input (k3/s2/p1 and k5/s2/p2 always, k2/s2 only
on even lengths, k1/s2 only on odd ones or as a residual shortcut beside a k>=3 body that covers the tail).
(b) A dilated window straddling the padding: dilation (3-wide, dilation 2, 'same' padding) is kept for
coverage, and in a spec that has it a span reaching past the input's border need only *contain* the probe's
(stacked dilated windows read every other position, so the first real one may lie past the border); spans
inside the input must still be equal. Everywhere else the comparison is equality, borders included.

A second property builds one merge over 2-4 branches with different fields (centred and off-centre 'same'
convolutions, differently aligned stride-2 layers), computes each branch's R/J/P here, and asserts the merged
field is their union, the probe measures that union, and the report warns exactly when the centres differ.
The archspec bugs found on the way are kept as regression tests at the end.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import torch
from hypothesis import given, note, settings
from hypothesis import strategies as st
from probe import clipped, prepare, probe_indices, receptive_spans
from truth import assert_layers_equal_measured, static_and_measured

import archspec

Shape = tuple[int, ...]

MAX_CHANNELS = 8
LENGTHS = {1: (4, 20), 2: (4, 12)}
EXAMPLES = settings.default.max_examples * 2 // 3  # 40 in the dev / ci profiles (conftest.py), more to explore

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These networks are tiny: torch's intra-op threads only cost here (on 2 busy cores, about 5x the CPU
    time of one thread). Restored afterwards for the rest of the session."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# A user block: a basic residual unit whose projection shortcut exists only when the shape changes, and an
# optional auxiliary head (``tap``) that runs only in training when ``aux`` is true.
UNIT_BLOCK = {
    "doc": "residual unit with a conditional projection and an optional head",
    "params": {"out": "required", "stride": 1, "kernel": 3, "aux": False, "tap": False},
    "layers": [
        {
            "add": {
                "branches": {
                    "body": [
                        {
                            "conv": {
                                "out": "$out",
                                "kernel": "$kernel",
                                "stride": "$stride",
                                "padding": "${kernel // 2}",
                                "bias": False,
                            }
                        },
                        "batchnorm",
                        "relu",
                        {"conv": {"out": "$out", "kernel": 3, "padding": 1}},
                    ],
                    "shortcut": [
                        {
                            "conv": {"out": "$out", "kernel": 1, "stride": "$stride"},
                            "if": "${stride != 1 or in.channels != out}",
                        }
                    ],
                }
            }
        },
        "relu",
        {
            "head": {"layers": ["global_avgpool", "flatten", {"linear": {"out": 3}}], "train_only": "$aux"},
            "if": "$tap",
            "name": "tap",
        },
    ],
}


def halved(length: int) -> int:
    """The output length of every strided (s=2) layer the strategies use: ceil(L / 2)."""
    return (length + 1) // 2


def compact(values: list[int], flag: bool) -> int | list[int]:
    return values[0] if flag and len(set(values)) == 1 else list(values)


class Graphs:
    """Draws items for the shape flowing in; every method returns ``(item or items, output shape)``."""

    def __init__(self, draw: Any, dims: int, block: bool):
        self.draw = draw
        self.dims = dims
        self.block = block
        self.counter = itertools.count(1)

    # -- drawing helpers ------------------------------------------------------------------------------------

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, max(lo, hi)))

    def flag(self) -> bool:
        return self.draw(st.booleans())

    def rarely(self, one_in: int = 4) -> bool:
        return self.integer(1, one_in) == 1

    def pick(self, options: list[Any]) -> Any:
        return self.draw(st.sampled_from(options))

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"

    def per_dim(self, value: int) -> int | list[int]:
        return value if self.flag() else [value] * self.dims

    # -- single layers ----------------------------------------------------------------------------------------

    def local(self, x: Shape, out: int | None = None) -> tuple[Any, Shape]:
        """A layer that keeps the spatial size (a conv to ``out`` channels when given)."""
        kinds = ["conv", "conv", "same", "dilated"]
        if out is None:
            kinds += ["pointwise", "pointwise", "pointwise", "maxpool", "avgpool", "depthwise"]
        kind = self.pick(kinds)
        channels = out if out is not None else self.integer(1, MAX_CHANNELS)
        if kind in ("conv", "same", "dilated"):
            args: dict[str, Any]
            if kind == "conv":
                kernel = self.pick([1, 3, 5])
                args = {"out": channels, "kernel": self.per_dim(kernel)}
                if kernel > 1 or self.flag():
                    args["padding"] = self.per_dim(kernel // 2)
            elif kind == "same":
                args = {"out": channels, "kernel": self.pick([1, 2, 3, 4]), "padding": "same"}
            else:  # odd kernel, 'same' padding d(k-1)/2
                args = {"out": channels, "kernel": 3, "dilation": 2, "padding": self.pick(["same", 2])}
            if self.rarely():
                args["bias"] = self.flag()
            return {"conv": args}, (channels, *x[1:])
        if kind == "depthwise":
            return {"conv": {"out": x[0], "kernel": 3, "padding": 1, "groups": x[0]}}, x
        if kind == "maxpool":
            return {"maxpool": {"kernel": 3, "stride": 1, "padding": 1}}, x
        if kind == "avgpool":
            return {"avgpool": {"kernel": 3, "stride": 1, "padding": 1, "count_include_pad": self.flag()}}, x
        return self.pointwise(), x

    def pointwise(self) -> Any:
        # No tanh / sigmoid: sums and products of branches (and the probe's sum-pool stand-in for max pooling)
        # grow the probe's activations past where they saturate in float64 (tanh(19) == 1), hiding
        # dependencies from the gradient. No softmax: over equal channels (concat of x with x) it is constant.
        # test_random_specs.py covers their shapes, and the norms' (a layer norm over one channel is constant,
        # and instance statistics need more than one position).
        return self.pick(
            [
                "relu",
                {"stochastic_depth": {"p": 0.2}},
                {"stochastic_depth": {"p": 0.5, "mode": "batch"}},
                "gelu",
                "silu",
                "elu",
                "batchnorm",
                {"batchnorm": {"affine": False}},
                {"dropout": {"p": 0.2}},
                {"dropout": {"p": 0.5, "channel": True}},
                {"lrn": {"size": 3}},
                {"leaky_relu": {"slope": 0.1}},
            ]
        )

    def down(self, x: Shape, out: int | None = None) -> tuple[Any, Shape]:
        """A stride-2 layer whose last window reaches the end of its input (no floor-mode tail left unread)."""
        lengths = x[1:]
        kinds = ["k3", "k3", "fit", "k5"]
        if all(n % 2 == 0 for n in lengths):
            kinds.append("k2")
        if all(n % 2 == 1 for n in lengths):
            kinds.append("k1")
        kind = self.pick(kinds)
        op = "conv" if out is not None or kind == "k5" else self.pick(["conv", "maxpool", "avgpool"])
        if kind == "fit":  # per dim: k2 on even lengths, k1 on odd ones
            kernel: int | list[int] = [2 if n % 2 == 0 else 1 for n in lengths]
            padding = 0
        else:
            size = int(kind[1])
            kernel, padding = self.per_dim(size), size // 2 if size > 2 else 0
        args: dict[str, Any] = {"kernel": kernel}
        if not (op != "conv" and kind == "k2" and self.flag()):  # pooling stride defaults to the kernel
            args["stride"] = self.per_dim(2)
        if padding or self.rarely():
            args["padding"] = padding
        channels = x[0]
        if op == "conv":
            channels = out if out is not None else self.integer(1, MAX_CHANNELS)
            args = {"out": channels, **args}
        return {op: args}, (channels, *[halved(n) for n in lengths])

    def head(self, x: Shape) -> tuple[dict, Shape]:
        """A side output: a small classifier, or a spatial map; the main path continues with ``x``."""
        if self.pick(["classifier", "classifier", "spatial"]) == "classifier":
            layers: list[Any] = [
                self.pick(["global_avgpool", "global_maxpool", {"adaptive_avgpool": {"output": 1}}]),
                "flatten",
            ]
            if self.rarely():
                layers.append({"dropout": {"p": 0.3}})
            layers.append({"linear": {"out": self.integer(2, 5)}})
            if self.rarely(3):
                layers += ["relu", {"linear": {"out": self.integer(2, 5)}}]
        else:
            layers = [{"conv": {"out": self.integer(1, MAX_CHANNELS), "kernel": 1}}]
            if self.flag():
                layers.append("batchnorm")
            layers.append(self.pick(["relu", "sigmoid"]))
        args: dict[str, Any] = {"layers": layers}
        mode = self.pick(["absent", "false", "true", "true"])
        if mode != "absent":
            args["train_only"] = mode == "true"
        item: dict[str, Any] = {"head": args}
        if self.flag():
            item["name"] = self.fresh("aux")
        return item, x

    # -- parallel containers -------------------------------------------------------------------------------

    def branch(self, x: Shape, stride: int, target: int | None, depth: int) -> tuple[list[Any], Shape]:
        """0-2 size-keeping items (nested containers and heads among them), one stride-2 layer when ``stride``
        is 2, and a projection to ``target`` channels when the branch does not already end with them."""
        items: list[Any] = []
        count = self.integer(0, 2)
        down_at = self.integer(0, count) if stride == 2 else None
        for position in range(count + 1):
            if position == down_at:
                item, x = self.down(x)
                items.append(item)
            if position == count:
                break
            roll = self.integer(0, 5)
            if roll == 0 and depth < 2:  # nested merges keep the size: the branch strides once, above
                item, x = self.parallel(x, depth + 1, can_stride=False)
            elif roll == 1 and depth < 2:
                item, x = self.head(x)
            else:
                item, x = self.local(x)
            items.append(item)
        if target is not None and x[0] != target:
            item, x = self.local(x, out=target)
            items.append(item)
        return items, x

    def excitation(self, x: Shape, target: int) -> tuple[list[Any], Shape]:
        """Squeeze-and-excitation gate: global pool, bottleneck, activation — broadcast over space. (Not a
        sigmoid: it saturates on the probe's large activations, see ``pointwise``.)"""
        hidden = max(1, target // 2)
        return (
            [
                "global_avgpool",
                {"conv": {"out": hidden, "kernel": 1}},
                "relu",
                {"conv": {"out": target, "kernel": 1}},
                self.pick(["silu", "elu"]),
            ],
            (target, *[1] * self.dims),
        )

    def parallel(self, x: Shape, depth: int, can_stride: bool = True) -> tuple[dict, Shape]:
        kind = self.pick(["concat", "add", "multiply"])
        stride = 2 if can_stride and min(x[1:]) >= 4 and self.rarely(3) else 1
        count = self.integer(2, 4)  # a merge of one input is rejected (it would be the identity)
        # the channels every branch of add / multiply ends with (the input's, sometimes: identities allowed)
        target = None if kind == "concat" else x[0] if stride == 1 and self.flag() else self.integer(1, MAX_CHANNELS)
        branches: list[list[Any]] = []
        outputs: list[Shape] = []
        for index in range(count):
            first_of_several = index == 0 and count > 1
            if kind == "multiply" and stride == 1 and first_of_several and self.rarely():
                items, y = self.excitation(x, target)
            elif target is not None and target > 1 and first_of_several and self.rarely(5):
                items, y = self.branch(x, stride, 1, depth)  # one channel, broadcast against the others
            elif stride == 1 and (target is None or target == x[0]) and x[0] <= MAX_CHANNELS and self.rarely(3):
                items, y = [], x  # the identity
            else:
                items, y = self.branch(x, stride, target, depth)
            branches.append(items)
            outputs.append(y)
        spatial = outputs[-1][1:]  # the last branch is never the broadcast gate
        y = ((sum if kind == "concat" else max)(o[0] for o in outputs), *spatial)
        names = self.pick([[f"b{i}" for i in range(count)], ["main", "skip", "side", "extra"][:count]])
        value: Any = branches if self.flag() else dict(zip(names, branches, strict=True))
        args: dict[str, Any] = {"branches": value}
        if kind == "concat" and self.rarely():
            args["dim"] = 1
        return {kind: args}, y

    # -- long skips, repeats and blocks ----------------------------------------------------------------------

    def skip(self, x: Shape, saved: dict[str, Shape]) -> tuple[list[Any], Shape]:
        """Merge the previous output with an earlier one (``from: [prev, <id>]``)."""
        larger = sorted(k for k, v in saved.items() if v[1:] != x[1:])
        source = self.pick(larger if larger and self.flag() else sorted(saved))
        s = saved[source]
        if s[1:] != x[1:]:
            # U-Net: bring prev back to the saved size, then concatenate (branch k takes input k)
            up: dict[str, Any] = {"size": compact(list(s[1:]), self.flag())}
            if self.flag():
                up["mode"] = self.pick(["nearest", "linear"])
            if self.flag():
                return (
                    [{"concat": {"branches": {"up": [{"upsample": up}], "skip": []}}, "from": ["prev", source]}],
                    (x[0] + s[0], *s[1:]),
                )
            return ([{"upsample": up}, {"concat": {}, "from": ["prev", source]}], (x[0] + s[0], *s[1:]))
        order = ["prev", source] if self.flag() else [source, "prev"]
        mode = self.pick(["concat", "merge", "merge", "project", "three"])
        if mode == "three":
            others = [k for k, v in saved.items() if v[1:] == x[1:] and k != source]
            if not others:
                mode = "concat"
            else:
                other = self.pick(sorted(others))
                return ([{"concat": {}, "from": [*order, other]}], (x[0] + s[0] + saved[other][0], *x[1:]))
        if mode == "concat" or (mode == "merge" and x[0] != s[0] and 1 not in (x[0], s[0])):
            return [{"concat": {}, "from": order}], (x[0] + s[0], *x[1:])
        if mode == "merge":  # equal channels, or one of them 1 (broadcast)
            return [{self.pick(["add", "multiply"]): {}, "from": order}], (max(x[0], s[0]), *x[1:])
        # project prev to the saved channels in branch 0, the saved output passes through branch 1
        main = [] if x[0] == s[0] and self.flag() else [self.local(x, out=s[0])[0]]
        return [{"add": {"branches": {"main": main, "skip": []}}, "from": ["prev", source]}], s

    def from_one(self, saved: dict[str, Shape], depth: int) -> tuple[list[Any], Shape]:
        """An item that reads an earlier output (or the list's input) instead of the previous one."""
        source = self.pick(sorted(saved))
        s = saved[source]
        item, y = self.parallel(s, depth + 1) if depth < 2 and self.rarely(3) else self.local(s)
        item = {item: {}} if isinstance(item, str) else dict(item)
        item["from"] = source if self.flag() else [source]
        return [item], y

    def repeat(self, x: Shape, saved: dict[str, Shape], depth: int) -> tuple[list[Any], Shape]:
        copies = self.integer(2, 3)
        source = self.pick(sorted(saved)) if self.rarely() else None
        if source is not None:
            x = saved[source]
        kinds = ["residual", "residual", "sequential", "head"] + (["growth"] if x[0] <= MAX_CHANNELS else [])
        kind = self.pick(kinds)
        item: dict[str, Any]
        if kind == "residual":
            body, _ = self.branch(x, 1, x[0], depth + 1)
            item, y = {"add": {"branches": {"body": body, "shortcut": []}}}, x
        elif kind == "growth":
            growth = self.integer(1, 3)
            conv = {"conv": {"out": growth, "kernel": 3, "padding": 1}}
            item = {"concat": {"branches": [[conv] if self.flag() else [conv, "relu"], []]}}
            y = (x[0] + copies * growth, *x[1:])
        elif kind == "sequential":
            layers = [self.local(x, out=x[0])[0] for _ in range(self.integer(1, 2))]
            item, y = {"sequential": layers}, x
        else:
            item, y = self.head(x)
            item = {key: value for key, value in item.items() if key != "name"}
            if self.flag():
                item["first"] = {"train_only": self.flag()}
        item["repeat"] = copies
        if source is not None:
            item["from"] = source
        return [item], y

    def unit(self, x: Shape) -> tuple[list[Any], Shape]:
        """The user block, plain or repeated with ``first: {stride: 2}``."""
        out = self.integer(1, MAX_CHANNELS)
        args: dict[str, Any] = {"out": out}
        can_stride = min(x[1:]) >= 4
        stride = 2 if can_stride and self.rarely(3) else 1
        if stride != 1 or self.rarely():
            args["stride"] = stride
        if self.flag():
            args["kernel"] = self.pick([3, 5])
        if self.rarely(3):
            args["tap"] = True
            if self.flag():
                args["aux"] = self.flag()
        item: dict[str, Any] = {"unit": args}
        y = (out, *[halved(n) if stride == 2 else n for n in x[1:]])
        if stride == 1 and self.rarely(3):
            item["repeat"] = self.integer(2, 3)
            if can_stride and self.flag():
                item["first"] = {"stride": 2}
                y = (out, *[halved(n) for n in x[1:]])
        return [item], y

    # -- layer lists -----------------------------------------------------------------------------------------

    def sequence(self, x: Shape, count: int, depth: int) -> tuple[list[Any], Shape]:
        """A layer list; items may get ``id``s that later items read with ``from``."""
        items: list[Any] = []
        saved: dict[str, Shape] = {"input": x}
        for _ in range(count):
            kinds = ["local", "local", "parallel", "parallel", "parallel", "head", "repeat", "skip", "skip", "from_one"]
            if min(x[1:]) >= 4:
                kinds += ["down", "down"]
            if self.block:
                kinds += ["unit", "unit"]
            if depth == 0:
                kinds.append("sequential")
            kind = self.pick(kinds)
            new: list[Any]
            if kind == "local":
                item, x = self.local(x)
                new = [item]
            elif kind == "down":
                item, x = self.down(x)
                new = [item]
            elif kind == "parallel":
                item, x = self.parallel(x, depth)
                new = [item]
            elif kind == "head":
                item, x = self.head(x)
                new = [item]
            elif kind == "repeat":
                new, x = self.repeat(x, saved, depth)
            elif kind == "skip":
                new, x = self.skip(x, saved)
            elif kind == "from_one":
                new, x = self.from_one(saved, depth)
            elif kind == "unit":
                new, x = self.unit(x)
            else:
                children, x = self.sequence(x, self.integer(1, 3), depth + 1)
                new = [{"sequential": children}]
            if self.rarely(3):
                last = new[-1]
                last = {last: {}} if isinstance(last, str) else last
                last["id"] = identifier = self.fresh("s")
                new[-1] = last
                saved[identifier] = x
            items += new
        return items, x


@st.composite
def graphs(draw: Any) -> tuple[dict, Shape]:
    """A valid branching spec and its main output shape (without batch) by the strategy's own bookkeeping."""
    dims = draw(st.sampled_from([1, 2]))
    lo, hi = LENGTHS[dims]
    x: Shape = (draw(st.integers(1, 6)), *draw(st.lists(st.integers(lo, hi), min_size=dims, max_size=dims)))
    builder = Graphs(draw, dims, block=draw(st.booleans()))
    layers, y = builder.sequence(x, draw(st.integers(2, 6)), depth=0)
    if draw(st.booleans()):
        out = draw(st.integers(2, 6))
        layers += [draw(st.sampled_from(["global_avgpool", "global_maxpool"])), "flatten", {"linear": {"out": out}}]
        y = (out,)
    spec: dict[str, Any] = {"archspec": 1, "name": "random_graph", "input": list(x), "layers": layers}
    if builder.block:
        spec["blocks"] = {"unit": UNIT_BLOCK}
    return spec, y


# -- static == measured, heads included --------------------------------------------------------------------


def assert_graph_static_equals_measured(spec: dict, batch: int, train: bool) -> archspec.Report:
    """``truth.assert_static_equals_measured`` for networks with heads. In eval mode the layers inside
    train-only heads do not run (no hook fires; the head itself runs and passes its input on), and the network
    returns ``{"output": main, "<head path>": side, ...}`` whenever some head produced an output."""
    report, truth = static_and_measured(spec, batch=batch, train=train)
    train_only = {row.path for row in report.layers if row.train_only}
    not_run = set() if train else {path for path in train_only if path.rpartition(".")[0] in train_only}
    assert {row.path: row.output_shape for row in report.layers if row.path not in not_run} == truth.shapes
    assert report.totals.params == truth.params
    assert report.totals.buffers == truth.buffers
    assert report.totals.macs == truth.macs
    assert_layers_equal_measured(report, truth)
    outputs = truth.output if isinstance(truth.output, dict) else {"output": truth.output}
    assert len(outputs) > 1 or not isinstance(truth.output, dict)  # a dict only when some head ran
    assert report.outputs == [{"name": name, "shape": list(value.shape)} for name, value in outputs.items()]
    assert report.output_shape == list(outputs["output"].shape)
    return report


def head_paths(report: archspec.Report) -> list[str]:
    return [row.path for row in report.layers if row.op == "head"]


def inside(path: str, containers: list[str]) -> bool:
    return any(path == c or path.startswith(c + ".") for c in containers)


MERGES = ("concat", "add", "multiply")


def final_feature_map(report: archspec.Report) -> str | None:
    """The path of the network's final feature map (DESIGN.md §4): the last module on the main path whose
    output still has a spatial size > 1 — heads are off the main path, and the modules inside a merge's
    branches come before the merged output they feed."""
    heads = head_paths(report)
    merges = [row.path for row in report.layers if row.op in MERGES]
    candidates = [
        row.path
        for row in report.layers
        if len(row.output_shape) > 2
        and max(row.output_shape[2:]) > 1
        and not inside(row.path, heads)
        and not any(row.path.startswith(m + ".") for m in merges)
    ]
    return candidates[-1] if candidates else None


def probed_paths(report: archspec.Report, dims: int) -> list[str]:
    """The final feature map and every merge that runs in eval mode, where the output keeps the input's
    spatial dims."""
    train_only = [row.path for row in report.layers if row.train_only]
    final = final_feature_map(report)
    merges = [row.path for row in report.layers if row.op in MERGES and not inside(row.path, train_only)]
    paths = ([final] if final is not None else []) + merges
    return [path for path in dict.fromkeys(paths) if len(report.layer(path).output_shape) == dims + 2]


def uses_dilation(value: Any) -> bool:
    """Whether a spec (blocks included) has a dilated layer anywhere."""
    if isinstance(value, dict):
        return any((key == "dilation" and item != 1) or uses_dilation(item) for key, item in value.items())
    if isinstance(value, list):
        return any(uses_dilation(item) for item in value)
    return False


def assert_span(measured: tuple[int, int], static: tuple[int, int], length: int, dilated: bool) -> None:
    """The probe's span equals the static span clipped to the input — except that with dilation, a window
    that straddles the padding may read its first (last) real position past the clipped border (dilation
    holes: "report the extent"), so there the probe need only lie within it."""
    expected = clipped(static, length)
    if dilated and (static[0] < 0 or static[1] >= length):
        assert expected[0] <= measured[0] <= measured[1] <= expected[1], (measured, static)
    else:
        assert measured == expected, (measured, static)


def assert_fields_equal_probe(spec: dict, report: archspec.Report) -> int:
    """At every probed path with an exact field, the probe's span equals the static span clipped to the
    input (``assert_span``); where the field is global, every output position depends on the whole input.
    Returns how many paths were compared."""
    lengths = spec["input"][1:]
    dims = len(lengths)
    dilated = uses_dilation(spec)
    model = None
    compared = 0
    for path in probed_paths(report, dims):
        row = report.layer(path)
        field = row.rf
        if field is None or field.kind in ("position_dependent", "not_tracked"):
            continue
        if model is None:
            model = prepare(archspec.compile(spec))
        indices = probe_indices(row.output_shape[2:])
        measured = receptive_spans(model, spec["input"], indices, path=path)
        for index, spans in zip(indices, measured, strict=True):
            for d, (i, n) in enumerate(zip(index, lengths, strict=True)):
                if field.kind == "global":
                    assert spans[d] == (0, n - 1), (path, index)
                else:
                    assert_span(spans[d], field.span(i, d), n, dilated)
        compared += 1
    return compared


@settings(max_examples=EXAMPLES)
@given(graphs())
def test_random_graph_static_equals_measured(case):
    """Shapes at every path, params, buffers, MACs and the outputs (main and heads) at batch 1 and 2, in eval
    and train mode; exact receptive fields equal the gradient probe's spans."""
    spec, output = case
    note(f"spec: {spec}")
    for batch, train in ((1, False), (2, False), (1, True), (2, True)):
        report = assert_graph_static_equals_measured(spec, batch, train)
        assert report.output_shape == [batch, *output]  # the strategy's own shape bookkeeping agrees
    paths = {row.path for row in report.layers}
    for warning in report.warnings:  # merges and linear layers on spatial inputs warn, naming their module
        row = report.layer(warning.module)
        assert warning.module in paths and (row.op in MERGES or (row.op == "linear" and len(row.input_shape) > 2)), str(
            warning
        )
    report = archspec.analyze(spec)
    final = final_feature_map(report)
    # the network's field is the final feature map's (not checked where that is a merge: see
    # test_network_field_of_a_network_ending_in_a_merge)
    if final is not None and report.layer(final).op not in MERGES:
        assert report.receptive_field == report.layer(final).rf, final
    assert_fields_equal_probe(spec, report)


# -- merges of branches with different fields: the union -----------------------------------------------------


class Window:
    """One layer's geometry in one dim for the independent R/J/P bookkeeping (REFERENCE.md §5)."""

    def __init__(self, kernel: int, stride: int = 1, left: int = 0, dilation: int = 1):
        self.kernel, self.stride, self.left, self.dilation = kernel, stride, left, dilation


def field_of(windows: list[Window]) -> tuple[int, int, int]:
    """(R, J, P) of a chain of windows, from the input."""
    size, jump, padding = 1, 1, 0
    for w in windows:
        size += w.dilation * (w.kernel - 1) * jump
        padding += w.left * jump
        jump *= w.stride
    return size, jump, padding


@st.composite
def merges(draw: Any) -> tuple[dict, list[list[list[Window]]]]:
    """One ``concat`` / ``add`` / ``multiply`` over 2-4 branches whose fields differ: stride-1 layers of
    different kernels ('same' with even kernels pads more on the right: off-centre), and optionally one
    stride-2 layer per branch of a different kind (k1, k3/p1 and k5/p2 are centred on 2i, k2 on 2i + 0.5).
    Returns the spec and per branch, per dim, the windows it applies."""
    dims = draw(st.sampled_from([1, 2]))
    lengths = draw(st.lists(st.integers(6, 16 if dims == 1 else 12), min_size=dims, max_size=dims))
    channels = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["concat", "add", "multiply"]))
    strided = draw(st.booleans())
    out = channels if kind != "concat" else None
    branches: list[list[Any]] = []
    windows: list[list[list[Window]]] = []
    for _ in range(draw(st.integers(2, 4))):
        items: list[Any] = []
        per_dim: list[list[Window]] = [[] for _ in range(dims)]
        layers = draw(st.integers(0, 3))
        down_at = draw(st.integers(0, layers)) if strided else None
        current = list(lengths)
        for position in range(layers + 1):
            if position == down_at:
                options = (
                    ["k3", "k5"]
                    + (["k2"] if all(n % 2 == 0 for n in current) else [])
                    + (["k1"] if all(n % 2 == 1 for n in current) else [])
                )
                choice = draw(st.sampled_from(options))
                k = int(choice[1])
                p = k // 2 if k > 2 else 0
                op = draw(st.sampled_from(["conv", "maxpool", "avgpool"])) if k <= 3 else "conv"
                args: dict[str, Any] = {"kernel": k, "stride": 2, "padding": p}
                items.append({op: {"out": channels, **args} if op == "conv" else args})
                for d in range(dims):
                    per_dim[d].append(Window(k, 2, p))
                current = [halved(n) for n in current]
            if position == layers:
                break
            k = draw(st.integers(1, 5))
            dilation = 2 if k % 2 == 1 and k > 1 and draw(st.integers(0, 3)) == 0 else 1
            left = dilation * (k - 1) // 2  # 'same': torch pads the left half, rounded down
            padding = "same" if k % 2 == 0 or draw(st.booleans()) else left
            items.append({"conv": {"out": channels, "kernel": k, "padding": padding, "dilation": dilation}})
            for d in range(dims):
                per_dim[d].append(Window(k, 1, left, dilation))
            if draw(st.booleans()):
                items.append(draw(st.sampled_from(["relu", "elu", "batchnorm"])))
        if out is None and draw(st.booleans()):
            items.append({"conv": {"out": draw(st.integers(1, 4)), "kernel": 1}})
        branches.append(items)
        windows.append(per_dim)
    value: Any = branches if draw(st.booleans()) else {f"b{i}": b for i, b in enumerate(branches)}
    spec = {"archspec": 1, "name": "merge", "input": [channels, *lengths], "layers": [{kind: {"branches": value}}]}
    return spec, windows


@settings(max_examples=EXAMPLES)
@given(merges())
def test_merged_field_is_the_union_of_the_branches(case):
    """Per dim, each branch k reads [iJ - P_k, iJ - P_k + R_k - 1] (computed here from the layers' geometry);
    the merge's static field is the union, the gradient probe measures exactly that union (clipped), and the
    report warns exactly when the branches' centres R/2 - P differ."""
    spec, windows = case
    note(f"spec: {spec}")
    report = archspec.analyze(spec)
    merged = report.layer("0")
    field = merged.rf
    assert field is not None and field.kind == "exact", field
    names = [row.path for row in report.layers if row.depth == 2]
    lengths = spec["input"][1:]
    dims = len(lengths)
    starts = []
    for name, per_dim in zip(names, windows, strict=True):
        fields = [field_of(chain) for chain in per_dim]
        branch = report.layer(name).rf
        assert (branch.size, branch.jump, branch.padding) == tuple(zip(*fields, strict=True)), name
        starts.append(tuple(r / 2 - p for r, _, p in fields))
    for d in range(dims):
        per_branch = [field_of(per_dim[d]) for per_dim in windows]
        first = min(-p for _, _, p in per_branch)
        last = max(r - 1 - p for r, _, p in per_branch)
        assert field.size[d] == last - first + 1
        assert field.padding[d] == -first
        assert {j for _, j, _ in per_branch} == {field.jump[d]}
    aligned = len(set(starts)) == 1
    warned = [w for w in report.warnings if w.module == "0" and "not aligned" in w.message]
    assert bool(warned) == (not aligned), (starts, report.warnings)
    indices = probe_indices(merged.output_shape[2:])
    measured = receptive_spans(archspec.compile(spec), spec["input"], indices, path="0")
    dilated = uses_dilation(spec)
    for index, spans in zip(indices, measured, strict=True):
        for d, (i, n) in enumerate(zip(index, lengths, strict=True)):
            assert_span(spans[d], field.span(i, d), n, dilated)


def test_union_wider_than_every_branch_and_misaligned():
    """Two 4-wide 'same' convs read [i-2, i+4]; a 7-wide centred conv reads [i-3, i+3]: the merge reads
    [i-3, i+4] — wider than either branch — and their centres differ, so the report warns."""
    spec = {
        "archspec": 1,
        "name": "union",
        "input": [2, 16],
        "layers": [
            {
                "add": {
                    "branches": {
                        "right": [
                            {"conv": {"out": 2, "kernel": 4, "padding": "same"}},
                            {"conv": {"out": 2, "kernel": 4, "padding": "same"}},
                        ],
                        "centred": [{"conv": {"out": 2, "kernel": 7, "padding": 3}}],
                    }
                }
            }
        ],
    }
    report = archspec.analyze(spec)
    assert report.layer("0.right").rf.span(8) == (6, 12)
    assert report.layer("0.centred").rf.span(8) == (5, 11)
    assert report.layer("0").rf.span(8) == (5, 12)
    assert any(w.module == "0" and "not aligned" in w.message for w in report.warnings)
    model = archspec.compile(spec)
    assert receptive_spans(model, [2, 16], [[8], [0], [15]], path="0") == [[(5, 12)], [(0, 4)], [(12, 15)]]


def test_aligned_branches_do_not_warn():
    """A strided residual: body 3x3/2 + 3x3, shortcut 3x3/2 max pool — centres coincide, no warning."""
    spec = {
        "archspec": 1,
        "name": "aligned",
        "input": [2, 12, 12],
        "layers": [
            {
                "add": {
                    "branches": [
                        [
                            {"conv": {"out": 2, "kernel": 3, "stride": 2, "padding": 1}},
                            {"conv": {"out": 2, "kernel": 3, "padding": 1}},
                        ],
                        [{"maxpool": {"kernel": 3, "stride": 2, "padding": 1}}],
                    ]
                }
            }
        ],
    }
    report = archspec.analyze(spec)
    assert report.warnings == []
    assert report.layer("0").rf.size == (7, 7)


# -- regressions: archspec bugs this generator found -------------------------------------------------------------------


def _conv(out: int, kernel: int, **args: Any) -> dict:
    return {"conv": {"out": out, "kernel": kernel, **args}}


def test_softmax_along_a_spatial_dim_is_not_pointwise():
    spec = {
        "archspec": 1,
        "name": "bug",
        "input": [2, 10],
        "layers": [_conv(2, 3, padding=1), {"softmax": {"dim": -1}}],
    }
    field = archspec.analyze(spec).layers[-1].rf
    measured = receptive_spans(archspec.compile(spec), [2, 10], [[4]])[0]
    assert measured == [(0, 9)]  # every position depends on the whole input
    assert field.kind != "exact" or [clipped(field.span(4), 10)] == measured


def test_concat_along_a_spatial_dim_is_position_dependent():
    spec = {
        "archspec": 1,
        "name": "bug",
        "input": [2, 8],
        "layers": [{"concat": {"dim": 2, "branches": [[_conv(2, 3, padding=1)], []]}}],
    }
    field = archspec.analyze(spec).layer("0").rf
    measured = receptive_spans(archspec.compile(spec), [2, 8], [[2], [12]], path="0")
    assert measured == [[(1, 3)], [(4, 4)]]  # index 12 is the identity branch's position 4
    assert field.kind != "exact" or [[clipped(field.span(i), 8)] for i in (2, 12)] == measured


def test_network_field_of_a_network_ending_in_a_merge():
    spec = {
        "archspec": 1,
        "name": "bug",
        "input": [2, 10],
        "layers": [_conv(2, 3, padding=1), {"add": {"branches": {"body": [_conv(2, 3, padding=1)], "shortcut": []}}}],
    }
    report = archspec.analyze(spec)
    assert report.layer("1").rf.size == (5,)  # the final feature map: the sum
    assert report.receptive_field == report.layer("1").rf  # reported: the shortcut's (3,)


def test_min_input_counts_items_whose_output_is_discarded():
    spec = {
        "archspec": 1,
        "name": "bug",
        "input": [1, 8],
        "layers": [_conv(1, 3), {"relu": {}, "from": "input"}],
    }  # the conv's output is not used, but it runs
    smallest = archspec.analyze(spec).min_input
    archspec.analyze(spec, input_shape=smallest)  # raises SpecError: the conv needs 3 inputs; min_input says 1
