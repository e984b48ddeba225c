"""Where expansion stands, as one immutable value: a step into a block, a branch or a head is a new frame
(``frame.child(...)``), so nothing has to be saved and restored by hand when the step returns or fails."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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

    def child(
        self,
        owner: Any = None,
        scope: Mapping[str, Any] | None = None,
        names: ModuleNames | None = None,
        stack: tuple[CallSite, ...] | None = None,
        in_head: bool | None = None,
        train_only: bool | None = None,
    ) -> Frame:
        """This frame with the fields given changed; the frame itself is unchanged. (Spelt out rather than
        ``dataclasses.replace``, which costs a tenth of a large network's expansion: it runs once per item.)"""
        return Frame(
            self.owner if owner is None else owner,
            self.scope if scope is None else scope,
            self.names if names is None else names,
            self.stack if stack is None else stack,
            self.in_head if in_head is None else in_head,
            self.train_only if train_only is None else train_only,
        )
