"""Where expansion stands, as one immutable value: a step into a block, a branch or a head is a new frame
(``frame.child(...)``), so nothing has to be saved and restored by hand when the step returns or fails."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from archspec.ir.module_names import ModuleNames
from archspec.spec.model import Item


@dataclass(frozen=True, slots=True)
class CallSite:
    """Where a block was used, so errors inside it can point back at the user's spec."""

    block: str
    item: Item
    source: Any  # the SourceMap of the file that holds the call


@dataclass(frozen=True, slots=True)
class Frame:
    """The context of the items being expanded.

    ``owner`` holds the items (the user's spec, or a stand-in for a bundled block's file: errors locate in its
    source); ``scope`` maps the names expressions may read; ``names`` are the children of the module the items
    register on (several layer lists share one where containers are inlined); ``stack`` the block calls that
    lead here; ``in_head`` / ``train_only`` say whether the items are inside a head (off the main path) and one
    that runs only in training.
    """

    owner: Any
    scope: Mapping[str, Any]
    names: ModuleNames
    stack: tuple[CallSite, ...] = ()
    in_head: bool = False
    train_only: bool = False

    def child(self, **changes: Any) -> Frame:
        """This frame with ``changes``; the frame itself is unchanged."""
        return replace(self, **changes)
