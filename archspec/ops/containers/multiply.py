"""``multiply``: multiplies its branches' outputs (gating; the module is ``modules.Multiply``)."""

from __future__ import annotations

from archspec.ops.containers._merge import Elementwise
from archspec.ops.containers.base import ContainerExample
from archspec.ops.registry import register_container

_SQUEEZE_EXCITE = [
    {"global_avgpool": {}},
    {"conv": {"out": 2, "kernel": 1}},
    "relu",
    {"conv": {"out": 8, "kernel": 1}},
    "sigmoid",
]


@register_container
class Multiply(Elementwise):
    """Multiplies its branches' outputs (gating, squeeze-and-excitation); shapes broadcast as in torch."""

    name, order = "multiply", 40
    module = "Multiply"
    flow_step = "multiply"
    examples = [
        ContainerExample({}, [[], _SQUEEZE_EXCITE], (8, 6, 6), "squeeze-and-excitation"),
        ContainerExample(
            {},
            [
                [{"conv": {"out": 3, "kernel": 3, "padding": 1}}],
                [{"conv": {"out": 3, "kernel": 3, "padding": 1}}, "sigmoid"],
            ],
            (2, 10),
            "gated convolution, 1-D",
        ),
        ContainerExample({}, [[], [{"conv": {"out": 2, "kernel": 1}}]], (2, 3, 3, 3), "3-D"),
    ]
