"""Warnings: valid specs that probably do not do what their author meant (a ``linear`` on a spatial input,
merged branches whose fields are not centred alike, a train-only head that cannot run at this input).

A warning is located like an error — ``FILE:LINE:COL: warning: PATH: what — fix`` — at the item in the user's
own file: the module's item, or inside a bundled block the user's call of that block. It also names the
module path, since one item may stand for many modules (repeats, blocks used several times).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archspec.errors import Diagnostic, Location, SpecPath, format_spec_path
from archspec.ir.graph import Network, Node


@dataclass(frozen=True)
class ReportWarning:
    """One warning of a report: what it is about (``module``, the compiled module's path), where it points
    (``spec_path`` and ``location`` in the user's file) and what to do."""

    message: str
    module: str
    spec_path: SpecPath
    location: Location | None
    fix: str | None = None

    def __str__(self) -> str:
        return str(Diagnostic(self.message, self.spec_path, self.location, self.fix, severity="warning"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "spec_path": format_spec_path(self.spec_path),
            "source": str(self.location) if self.location else None,
            "message": self.message,
            "fix": self.fix,
            "text": str(self),
        }


def warning_at(node: Node, anchor: Node, message: str, fix: str | None = None) -> ReportWarning:
    """A warning about ``node``, located at ``anchor`` (``node`` itself unless it lies in a bundled block's file:
    then the innermost enclosing item of the user's file)."""
    return ReportWarning(message, node.path, anchor.spec_path, anchor.location, fix)


def anchors(network: Network, nodes: list[Node]) -> dict[int, Node]:
    """For each of ``nodes`` (by id), the innermost node at or above it whose item is in the user's file.

    One walk of the network, made only when some warning needs it (warnings are rare)."""
    wanted = {id(node) for node in nodes}
    found: dict[int, Node] = {}
    stack: list[tuple[Node, Node]] = [(network.root, network.root)]
    while stack and len(found) < len(wanted):
        node, anchor = stack.pop()
        if node.location.file == network.file:
            anchor = node
        if id(node) in wanted:
            found[id(node)] = anchor
        stack.extend((child, anchor) for child in reversed(node.children))
    return found
