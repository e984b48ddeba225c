"""The JSON Schema of spec files, generated from the pydantic models and the op registry (for editors)."""

from __future__ import annotations

import copy
from typing import Any

from archspec.ops.containers import CONTAINERS
from archspec.ops.registry import all_ops
from archspec.spec.model import SpecModel

_EXPRESSION = {"type": "string", "pattern": r"\$", "description": "an expression: $name or ${...}"}
_MODIFIERS: dict[str, Any] = {
    "name": {"type": "string", "description": "submodule name (letters, digits, '_')"},
    "repeat": {"anyOf": [{"type": "integer", "minimum": 1}, _EXPRESSION], "description": "number of copies"},
    "first": {"type": "object", "description": "arguments the first copy overrides"},
    "id": {"type": "string", "description": "refer to this item's output later"},
    "from": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    "if": {"anyOf": [{"type": "boolean"}, _EXPRESSION], "description": "include only when true"},
    "inline": {
        "anyOf": [{"type": "boolean"}, {"const": "group"}],
        "description": "true: the item (a sequential, "
        "merge, block or repeat) adds no level to module paths, its children register on the enclosing "
        "module; group: only a repeat's group is inlined, 'name' names each copy (reading ${copy})",
    },
}


def spec_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) that accepts exactly the documents validation accepts structurally."""
    schema = SpecModel.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "archspec spec (format version 1)"
    defs = schema.setdefault("$defs", {})
    defs["item"] = _item_schema(defs)
    schema["properties"]["layers"] = {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/item"}}
    block = defs["BlockModel"]
    block["properties"]["layers"] = {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/item"}}
    return schema


def _item_schema(defs: dict[str, Any]) -> dict[str, Any]:
    choices: list[dict[str, Any]] = [
        {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "description": "an op or block without arguments"}
    ]
    for name, op in sorted(all_ops().items()):
        args = op.Args.model_json_schema()
        for sub_name, sub in args.pop("$defs", {}).items():
            defs.setdefault(sub_name, sub)
        args["properties"] = {
            key: {"anyOf": [_without_title(value), _EXPRESSION]} for key, value in args.get("properties", {}).items()
        }
        args["type"] = ["object", "null"]
        choices.append(_with_modifiers(name, args, op.describe()))
    item_list = {"type": "array", "items": {"$ref": "#/$defs/item"}}
    for name, container in sorted(CONTAINERS.items()):
        choices.append(_with_modifiers(name, container.syntax.schema(container.Args, item_list), container.describe()))
    known = sorted([*all_ops(), *CONTAINERS])
    choices.append(
        {
            "type": "object",
            "description": "a block (built-in or from 'blocks:') with its arguments",
            "allOf": [
                {"not": {"anyOf": [{"required": [name]} for name in known]}},
                {"not": {"propertyNames": {"enum": list(_MODIFIERS)}}},
            ],
        }
    )
    return {"anyOf": choices}


def _with_modifiers(name: str, value: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": [name],
        "additionalProperties": False,
        "properties": {name: value, **_MODIFIERS},
    }


def _without_title(value: dict[str, Any]) -> dict[str, Any]:
    value = copy.deepcopy(value)
    value.pop("title", None)
    return value
