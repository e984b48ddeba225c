"""What an item reads (``from``): the previous output, ids saved earlier in its own layer list, or several of
them for a merge — and the located error when a name cannot be read there."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from archspec.errors import SpecPath, did_you_mean, format_spec_path
from archspec.ir.frame import Frame
from archspec.ir.locating import Locator
from archspec.ops.base import Shape
from archspec.ops.containers import LIST_INPUT, PREVIOUS, Inputs
from archspec.spec.model import Item
from archspec.user_text import listed, quoted


def read_input(
    item: Item,
    items: Sequence[Item],
    position: int,
    previous: Shape,
    saved: Mapping[str, Shape],
    ids: Mapping[str, SpecPath],
    frame: Frame,
    locator: Locator,
) -> Shape | Inputs:
    """The input ``items[position]`` reads: the previous output, or what its ``from`` names among ``saved``
    (``ids``: every id of the spec, to explain an id defined in another list)."""
    if not item.inputs:
        return previous
    shapes = []
    for source in item.inputs:
        if source == PREVIOUS:
            shapes.append(previous)
        elif source in saved:
            shapes.append(saved[source])
        else:
            raise _unreadable(source, item, items, position, saved, ids, frame, locator)
    return shapes[0] if len(shapes) == 1 else Inputs(shapes, item.inputs)


def _unreadable(
    source: str,
    item: Item,
    items: Sequence[Item],
    position: int,
    saved: Mapping[str, Shape],
    ids: Mapping[str, SpecPath],
    frame: Frame,
    locator: Locator,
) -> Exception:
    where = (*item.path, "from")
    if source == item.id:
        return locator.fail(
            frame,
            where,
            f"{quoted(source)} is this item's own id; 'from' may only read earlier items (no cycles)",
            "read an earlier id, or 'prev' for the previous item's output",
        )
    later = next((other for other in items[position:] if other.id == source), None)
    elsewhere = ids.get(source)
    if later is None and elsewhere is not None:
        enclosing = next(
            (
                part
                for part in reversed(elsewhere[:-1])
                if isinstance(part, str) and part not in ("branches", "layers", "blocks")
            ),
            "item",
        )
        here = "branch" if "branches" in item.path else "layer list"
        return locator.fail(
            frame,
            where,
            f"{quoted(source)} is defined in another layer list, at "
            f"{format_spec_path(elsewhere)}; 'from' reads only ids of its own list",
            f"compute the value inside this {here}, or read {quoted(source)} after the {enclosing}",
        )
    if later is not None:
        return locator.fail(
            frame,
            where,
            f"{quoted(source)} is defined later, at {format_spec_path(later.path)}; "
            "'from' may only read earlier items (no cycles)",
            "move the item with that id before this one",
        )
    known = [k for k in saved if k != LIST_INPUT] + [PREVIOUS, LIST_INPUT]
    return locator.fail(
        frame,
        where,
        f"unknown id {quoted(source)} in 'from'",
        did_you_mean(source, known) or f"ids defined before this item in the same list: {listed(known)}",
    )


def input_names(x: Shape | Inputs) -> dict[str, Any]:
    """``in.channels`` / ``in.spatial`` / ``in.dims`` of the shape reaching an item (the first, if several)."""
    first = x[0] if isinstance(x, Inputs) else x
    return {"in.channels": first[0], "in.spatial": list(first[1:]), "in.dims": len(first) - 1}


def merge_labels(item: Item, x: Shape | Inputs) -> list[str] | None:
    """How merge errors name what is merged: the branches (with the id feeding each, if any), or the ids of
    ``from: [prev, e2]`` merged as they are."""
    sources = x.names if isinstance(x, Inputs) else ()
    if item.branches:
        return [
            f"branch {name}" + (f" on '{sources[index]}'" if index < len(sources) else "")
            for index, (name, _) in enumerate(item.branches)
        ]
    return [f"'{source}'" for source in sources] or None
