"""The pieces of the spec JSON Schema that describe one layer item: an op, a container, a block (built-in or a
spec's own) with its arguments and modifiers, and the expressions that may stand for any value.

Editors (yaml-language-server) complete a mapping's keys from the ``properties`` of every choice and show their
``description`` / ``markdownDescription``; bare names come from an ``enum`` with ``enumDescriptions`` /
``markdownEnumDescriptions`` (VS Code's extensions to JSON Schema, ignored by validators).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from archspec.ops.base import Op
from archspec.ops.containers import Container
from archspec.spec.expressions import is_expression
from archspec.spec.model import NAME_PATTERN, REQUIRED, Block

JsonSchema = dict[str, Any]
EXPRESSION = "#/$defs/expression"
EXPRESSION_SCHEMA: JsonSchema = {
    "type": "string",
    "pattern": r"\$",
    "description": "an expression: $name or ${...} (params, block arguments, in.channels, in.spatial, ...)",
}
MODIFIERS: dict[str, JsonSchema] = {
    "name": {"type": "string", "description": "submodule name (letters, digits, '_')"},
    "repeat": {"anyOf": [{"type": "integer", "minimum": 1}, {"$ref": EXPRESSION}], "description": "number of copies"},
    "first": {"type": "object", "description": "arguments the first copy overrides"},
    "id": {"type": "string", "description": "refer to this item's output later"},
    "from": {
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
        "description": "read an earlier item's output (its 'id'; 'prev', 'input') instead of the previous one's",
    },
    "if": {"anyOf": [{"type": "boolean"}, {"$ref": EXPRESSION}], "description": "include only when true"},
    "inline": {
        "anyOf": [{"type": "boolean"}, {"const": "group"}],
        "description": "true: the item (a sequential, "
        "merge, block or repeat) adds no level to module paths, its children register on the enclosing "
        "module; group: only a repeat's group is inlined, 'name' names each copy (reading ${copy})",
    },
}


# Each item's modifiers refer to these (as $defs/modifier.NAME): written once, not once per op.
MODIFIER_REFS: dict[str, JsonSchema] = {name: {"$ref": f"#/$defs/modifier.{name}"} for name in MODIFIERS}


def with_expressions(value: JsonSchema) -> JsonSchema:
    """``value`` where an expression may stand for it, and for every element of a list it describes (``kernel:
    [3, $k]``). Objects (a container's item lists) are left as they are: no expression stands for a layer."""
    if value.get("type") == "object":
        return value
    inner = _elements_with_expressions(value)
    notes = {key: inner.pop(key) for key in ("description", "default") if key in inner}
    return {"anyOf": [inner, {"$ref": EXPRESSION}], **notes}


def _elements_with_expressions(value: JsonSchema) -> JsonSchema:
    value = {key: item for key, item in value.items() if key != "title"}
    for key in ("anyOf", "oneOf"):
        if key in value:
            value[key] = [_elements_with_expressions(option) for option in value[key]]
    if value.get("type") == "array" and isinstance(value.get("items"), dict):
        value["items"] = with_expressions(value["items"])
    if "prefixItems" in value:
        value["prefixItems"] = [with_expressions(item) for item in value["prefixItems"]]
    return value


def op_choice(name: str, op: Op, defs: JsonSchema) -> JsonSchema:
    """An item that is the op ``name``: its arguments as pydantic declares them, each one also an expression."""
    args = op.Args.model_json_schema()
    for sub_name, sub in args.pop("$defs", {}).items():
        defs.setdefault(sub_name, sub)
    properties = {key: with_expressions(value) for key, value in args.get("properties", {}).items()}
    required = list(args.get("required", []))
    defaults = {key: value["default"] for key, value in properties.items() if "default" in value}
    return _choice(name, "op", properties, required, op.describe(), _signature(properties, required, defaults))


def block_choice(name: str, block: Block) -> JsonSchema:
    """An item that calls the built-in block ``name``: its parameters are its arguments, any of them a value of
    any type (a block passes them on to ops, which check them) or an expression; ``required`` ones must be given.
    """
    properties: dict[str, JsonSchema] = {}
    required: list[str] = []
    defaults: dict[str, Any] = {}
    for param, default in block.params.items():
        if default == REQUIRED:
            required.append(param)
            properties[param] = {"description": "required"}
            continue
        defaults[param] = default
        properties[param] = {"description": f"default: {_shown(default)}"}
        if not is_expression(default):  # '$out' would be no value to suggest: it reads the block's scope
            properties[param]["default"] = default
    for param, allowed in block.choices.items():  # the values the block accepts, offered by editors
        properties[param] = with_expressions({"enum": list(allowed), **properties[param]})
    summary = f"built-in block ({block.module_class}): " + " ".join((block.doc or "").split())
    return _choice(
        name, "built-in block", properties, required, summary.rstrip(": "), _signature(properties, required, defaults)
    )


def container_choice(name: str, container: Container, item_list: JsonSchema) -> JsonSchema:
    """An item that is the container ``name``, its children items of ``item_list``."""
    value = container.syntax.schema(container.Args, item_list)
    key = container.syntax.children_key
    if key is not None:
        value["properties"] = {
            arg: schema if arg == key else with_expressions(schema) for arg, schema in value["properties"].items()
        }
        if not container.syntax.required:
            value["type"] = ["object", "null"]  # `concat:` alone is `concat: {}`, merging its inputs (`from`)
    description = container.describe()
    value = {
        **value,
        "title": name,
        "description": description,
        "markdownDescription": f"**{name}** (container): {description}",
    }
    return {
        "type": "object",
        "title": f"{name} (container)",
        "description": description,
        "required": [name],
        "additionalProperties": False,
        "properties": {name: value, **MODIFIER_REFS},
    }


def user_block_choice(taken: list[str]) -> JsonSchema:
    """An item that calls one of the spec's own blocks: any name but ``taken`` ones, any arguments. JSON Schema
    cannot read the names that the spec's ``blocks:`` defines; ``archspec check`` says which name is unknown."""
    return {
        "type": "object",
        "title": "a block of the spec's own",
        "description": "one of the spec's own blocks (defined under 'blocks:') with its arguments",
        "propertyNames": {"pattern": NAME_PATTERN, "not": {"enum": taken}},
        "properties": MODIFIER_REFS,
        "additionalProperties": {"type": ["object", "null"], "description": "the block's arguments"},
        "not": {"propertyNames": {"enum": list(MODIFIERS)}},  # at least one key names the block
    }


def names_choice(descriptions: Mapping[str, tuple[str, str]]) -> JsonSchema:
    """A bare name (``- relu``): one of ``descriptions``' names, each with its (plain, Markdown) description."""
    names = sorted(descriptions)
    return {
        "type": "string",
        "title": "a name without arguments",
        "description": "an op, container or built-in block without arguments",
        "enum": names,
        "enumDescriptions": [descriptions[name][0] for name in names],
        "markdownEnumDescriptions": [descriptions[name][1] for name in names],
    }


def _choice(
    name: str, kind: str, properties: dict[str, JsonSchema], required: list[str], description: str, signature: str
) -> JsonSchema:
    markdown = f"**{name}**: {description}" + (f"\n\nArguments: {signature}" if signature else "")
    # Arguments may be left out (`- relu:` is `- relu: {}`) only where none is required.
    args: JsonSchema = {
        "type": "object" if required else ["object", "null"],
        "title": f"{name}'s arguments",
        "description": description,
        "markdownDescription": markdown,
        "additionalProperties": False,
        "properties": properties,
    }
    if required:
        args["required"] = required
    # `first:` takes the same arguments, none of them required (the copies' own arguments hold those).
    first = {**MODIFIERS["first"], "additionalProperties": False, "properties": {key: {} for key in properties}}
    return {
        "type": "object",
        "title": f"{name} ({kind})",  # editors name the choice by it (in completions and type errors)
        "description": description,
        "markdownDescription": markdown,
        "required": [name],
        "additionalProperties": False,
        "properties": {name: args, **MODIFIER_REFS, "first": first},
    }


def _signature(properties: Mapping[str, Any], required: list[str], defaults: Mapping[str, Any]) -> str:
    """``out`` (required), ``kernel`` (required), ``stride`` = 1, ... for Markdown descriptions."""
    parts = []
    for key in properties:
        if key in required:
            parts.append(f"`{key}` (required)")
        elif key in defaults:
            parts.append(f"`{key}` = `{_shown(defaults[key])}`")
        else:
            parts.append(f"`{key}`")
    return ", ".join(parts)


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
