"""``add``: sums its branches' outputs (residual connections; the module is ``modules.Add``)."""

from __future__ import annotations

from archspec.ops.containers._merge import Elementwise
from archspec.ops.containers.base import ContainerExample
from archspec.ops.registry import register_container


@register_container
class Add(Elementwise):
    """Sums its branches' outputs (residual connections); shapes broadcast as in torch."""

    name, order = "add", 30
    module = "Add"
    flow_step = "add"
    examples = [
        ContainerExample(
            {},
            {"body": [{"conv": {"out": 4, "kernel": 3, "padding": 1}}, "relu"], "shortcut": []},
            (4, 8, 8),
            "residual with identity shortcut",
        ),
        ContainerExample(
            {},
            [
                [{"conv": {"out": 6, "kernel": 3, "stride": 2, "padding": 1}}],
                [{"conv": {"out": 6, "kernel": 1, "stride": 2, "bias": False}}],
            ],
            (3, 9),
            "projection shortcut, 1-D",
        ),
        ContainerExample(
            {},
            [[{"conv": {"out": 5, "kernel": 3, "padding": 1}}], [{"global_avgpool": {}}]],
            (5, 3, 4, 4),
            "broadcast a 1×1×1 map, 3-D",
        ),
        ContainerExample(
            {}, [[{"linear": {"out": 3}}], [{"linear": {"out": 3}}], [{"linear": {"out": 3}}]], (8,), "three branches"
        ),
    ]
