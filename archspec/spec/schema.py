"""The JSON Schema of spec files (for editors and check-jsonschema), generated from the pydantic models, the op
and container registries and the blocks it is given — the built-in library, by :mod:`archspec.blocks.schema`
(``archspec schema``). An op, container or block added to the registry or the library is in it after a
regenerate, with nothing written by hand.

A layer item names an op, a container, a built-in block or one of the spec's own blocks. JSON Schema cannot
compare a key with the keys of a sibling mapping (``blocks:``), so the root picks one of three item grammars with
``if``/``then``/``else``:

- ``item``, for a spec with no ``blocks:`` (or an empty one): an item's name is an op, a container or a built-in
  block, with that one's arguments — ``convv:`` and ``residual: {outt: 64}`` are errors;
- ``item_user_blocks``, for a spec whose ``blocks:`` defines blocks: ops, containers and built-in blocks as in
  ``item``, and any other name with any arguments (one of the spec's blocks: which names it defines the schema
  cannot read, so a misspelt one is left to ``archspec check``);
- ``item_overrides``, for a spec with a block that says ``override: true``: that block may take the name of any op
  or built-in block and its own arguments, so those names accept any arguments too.

The root's ``layers`` property is the most permissive grammar, so an editor offers every name (with its
description) from it; the ``if``/``then``/``else`` only narrows it. Each grammar has its own copy of the
containers (their children are items of the same grammar); ops and built-in blocks are shared ``$defs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archspec.ops.containers import CONTAINERS
from archspec.ops.registry import all_ops
from archspec.spec.items import MODIFIERS as ITEM_MODIFIERS
from archspec.spec.model import NAME_PATTERN, Block, SpecModel
from archspec.spec.schema_parts import (
    EXPRESSION_SCHEMA,
    MODIFIERS,
    JsonSchema,
    block_choice,
    container_choice,
    names_choice,
    op_choice,
    user_block_choice,
)

# grammar -> (accepts the spec's own blocks, accepts any arguments for the names of ops and built-in blocks)
GRAMMARS = {"item": (False, False), "item_user_blocks": (True, False), "item_overrides": (True, True)}
assert set(MODIFIERS) == set(ITEM_MODIFIERS), "the schema's modifiers are the parser's"


def spec_schema(blocks: Mapping[str, Block]) -> JsonSchema:
    """A JSON Schema (draft 2020-12) that accepts every valid spec whose built-in blocks are ``blocks``, and
    rejects what validation rejects wherever JSON Schema can tell (see the module's docstring)."""
    schema = SpecModel.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "archspec spec (format version 1)"
    defs = schema.setdefault("$defs", {})
    defs["expression"] = EXPRESSION_SCHEMA
    defs.update({f"modifier.{name}": modifier for name, modifier in MODIFIERS.items()})
    ops = all_ops()
    descriptions: dict[str, tuple[str, str]] = {}
    for name, op in sorted(ops.items()):
        defs[f"op.{name}"] = choice = op_choice(name, op, defs)
        descriptions[name] = (choice["description"], choice["markdownDescription"])
    for name, block in sorted(blocks.items()):
        defs[f"block.{name}"] = choice = block_choice(name, block)
        descriptions[name] = (choice["description"], choice["markdownDescription"])
    for name, container in CONTAINERS.items():
        descriptions[name] = (container.describe(), f"**{name}** (container): {container.describe()}")
    defs["bare_name"] = names_choice(descriptions)
    for grammar, (own_blocks, overrides) in GRAMMARS.items():
        defs[grammar] = _item(grammar, sorted(ops), sorted(blocks), own_blocks, overrides)
    schema["properties"]["layers"] = _layers("item_overrides")
    defs["BlockModel"]["properties"]["layers"] = _layers("item_overrides")
    schema["properties"]["blocks"] = _blocks_property([*ops, *blocks])
    schema["allOf"] = [
        {
            "if": _some_block_overrides(),
            "else": {"if": _defines_blocks(), "then": _items_of("item_user_blocks"), "else": _items_of("item")},
        }
    ]
    return schema


def _item(grammar: str, ops: list[str], blocks: list[str], own_blocks: bool, overrides: bool) -> JsonSchema:
    choices: list[JsonSchema] = [{"$ref": "#/$defs/bare_name"}]
    if own_blocks:
        choices.append(
            {
                "type": "string",
                "pattern": NAME_PATTERN,
                "title": "a block of the spec's own",
                "description": "a block without arguments",
            }
        )
    choices += [{"$ref": f"#/$defs/op.{name}"} for name in ops]
    item_list = {"type": "array", "items": {"$ref": f"#/$defs/{grammar}"}}
    choices += [container_choice(name, container, item_list) for name, container in sorted(CONTAINERS.items())]
    choices += [{"$ref": f"#/$defs/block.{name}"} for name in blocks]
    if own_blocks:
        # A container's name can never be taken; an op's or a built-in block's only by a block with `override`.
        choices.append(user_block_choice(sorted(CONTAINERS) if overrides else sorted([*ops, *CONTAINERS, *blocks])))
    return {"anyOf": choices}


def _layers(grammar: str) -> JsonSchema:
    return {"type": "array", "minItems": 1, "items": {"$ref": f"#/$defs/{grammar}"}}


def _items_of(grammar: str) -> JsonSchema:
    """Narrows the layers of the spec and of its blocks to ``grammar``'s items."""
    items = {"items": {"$ref": f"#/$defs/{grammar}"}}
    return {"properties": {"layers": items, "blocks": {"additionalProperties": {"properties": {"layers": items}}}}}


def _defines_blocks() -> JsonSchema:
    return {"required": ["blocks"], "properties": {"blocks": {"type": "object", "minProperties": 1}}}


def _some_block_overrides() -> JsonSchema:
    """True when a block of ``blocks:`` says ``override: true``: not every block lacks it."""
    overrides = {"required": ["override"], "properties": {"override": {"const": True}}}
    return {"required": ["blocks"], "properties": {"blocks": {"not": {"additionalProperties": {"not": overrides}}}}}


def _blocks_property(taken: list[str]) -> JsonSchema:
    """The spec's own blocks: names no container has, and the name of an op or a built-in block only with
    ``override: true``. The taken names are one pattern rather than properties, which editors would offer as
    completions for a new block's name."""
    taken_pattern = "^(" + "|".join(sorted(taken)) + ")$"
    needs_override: Any = {"required": ["override"], "properties": {"override": {"const": True}}}
    return {
        "type": "object",
        "description": "the spec's own blocks, used in layer lists like ops by their names",
        "propertyNames": {"pattern": NAME_PATTERN, "maxLength": 100, "not": {"enum": sorted(CONTAINERS)}},
        "patternProperties": {NAME_PATTERN: {"$ref": "#/$defs/BlockModel"}, taken_pattern: needs_override},
    }
