"""The names of one compiled module's children, as expansion gives them.

Containers that are inlined (``inline: true``) add no module, so their children take names in the enclosing
module's namespace; one namespace therefore spans several layer lists. Unnamed items are named by position
(``0``, ``1``, ... as ``nn.Sequential`` does) in sequentials, repeats, branches, heads and the network, and
after their op inside a block (``relu``, then ``relu_1`` only where a second one needs a name), which is how
torchvision names the children of ``BasicBlock`` or ``_Transition``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archspec.errors import SpecPath


@dataclass
class ModuleNames:
    """The children registered so far on the module at ``prefix`` (``""``: the network)."""

    prefix: str
    by_op: bool  # a block's module: unnamed items are named after their op
    used: dict[str, SpecPath] = field(default_factory=dict)  # name → the item that took it
    inlined: int = 0  # inlined items seen so far, to give each a distinct stand-in path

    def default(self, op: str) -> str:
        """The name of an unnamed item: its position, or (in a block) its op, numbered only when taken."""
        if not self.by_op:
            return str(len(self.used))
        name, number = op, 0
        while name in self.used:
            number += 1
            name = f"{op}_{number}"
        return name

    def path(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def stand_in(self) -> tuple[str, str]:
        """Name and path of an inlined item: ``~N`` after the enclosing module's path. ``~`` is in no module
        name, so the path names no submodule and clashes with none, and it adds no level (no dot)."""
        name = f"~{self.inlined}"
        self.inlined += 1
        return name, self.prefix + name

    def claim(self, name: str, item_path: SpecPath) -> SpecPath | None:
        """Register ``name``; if another item has it, that item's path (and nothing is registered)."""
        if name in self.used:
            return self.used[name]
        self.used[name] = item_path
        return None
