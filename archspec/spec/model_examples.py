"""What the spec's pydantic models accept at a spec path, for messages about a wrong value: the keys a model
has (did-you-mean), the type a path must have, and a valid example value written as YAML (the fix's example)."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel

from archspec.errors import SpecPath
from archspec.spec.model import BlockModel, SpecModel

# Examples for the keys of a spec file and of a block definition (op arguments take theirs from the op).
_EXAMPLES = {
    "archspec": "1",
    "name": "my_net",
    "input": "[3, 224, 224]",
    "layers": "[relu]",
    "doc": "'what it is'",
    "params": "{width: 64}",
    "blocks": "{my_block: {layers: [relu]}}",
}
_BLOCK_EXAMPLE = "{params: {out: required}, layers: [relu]}"


def example_at(model: type[BaseModel], loc: SpecPath) -> str | None:
    """A valid value for ``loc``, as YAML text: the key's default or a worked example of its op (for an element
    of a list, an element of such a value), or None where nothing fits."""
    owner, field, rest = _owner_of(model, loc)
    if owner is None or field is None:
        return _BLOCK_EXAMPLE if annotation_at(model, loc) is BlockModel else None
    if owner in (SpecModel, BlockModel) and not rest:
        return _EXAMPLES.get(field)
    info = owner.model_fields[field]
    candidates = [] if info.is_required() or info.default is None else [info.default]
    from archspec.ops.containers import CONTAINERS
    from archspec.ops.registry import all_ops

    for op in [*all_ops().values(), *CONTAINERS.values()]:
        if op.Args is owner:
            candidates += [e.args[field] for e in getattr(op, "examples", []) if e.args.get(field) is not None]
    for candidate in candidates:
        for _ in rest:  # an element of a per-dimension list: an element of the example
            candidate = candidate[0] if isinstance(candidate, list) and candidate else candidate
        if not isinstance(candidate, list | dict) or not rest:
            return yaml_text(candidate)
    return None


def yaml_text(value: Any) -> str:
    """A value as it is written in a spec (``true``, ``null``, ``[3, 3]``, ``1e-05``).

    >>> yaml_text([1, True, None, 0.5, "same"])
    '[1, true, null, 0.5, same]'
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ", ".join(yaml_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {yaml_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def fields_at(model: type[BaseModel], loc: SpecPath) -> list[str]:
    """The keys a model accepts at ``loc``, for did-you-mean suggestions."""
    current = annotation_at(model, loc)
    return sorted(current.model_fields) if _is_model(current) else []


def annotation_at(model: type[BaseModel], loc: SpecPath) -> Any:
    """The type a value at ``loc`` must have (stepping through models, ``dict[K, V]`` and ``list[V]``)."""
    current: Any = model
    for part in loc:
        if _is_model(current) and isinstance(part, str) and part in current.model_fields:
            current = current.model_fields[part].annotation
            continue
        args = typing.get_args(current)
        current = args[-1] if args else None
    return current


def _owner_of(model: type[BaseModel], loc: SpecPath) -> tuple[type[BaseModel] | None, str | None, SpecPath]:
    """The model whose field holds ``loc``, the field's name, and the rest of ``loc`` inside the field's value
    (list positions): ``(ConvArgs, 'kernel', (1,))`` for ``('kernel', 1)``."""
    for position in range(len(loc) - 1, -1, -1):
        part = loc[position]
        if isinstance(part, str):
            owner = annotation_at(model, loc[:position])
            if _is_model(owner) and part in owner.model_fields:
                return owner, part, loc[position + 1 :]
            return None, None, ()
    return None, None, ()


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)
