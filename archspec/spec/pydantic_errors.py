"""Turn pydantic validation errors into located diagnostics with a concrete fix."""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from archspec.errors import Diagnostic, SpecPath, did_you_mean
from archspec.loading.source import SourceMap

_EXPECTED = {
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
}


def describe_value(value: Any) -> str:
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "mapping",
            type(None): "null"}.get(type(value), type(value).__name__)
    return f"{text} ({kind})"


def diagnostics_from(error: ValidationError, model: type[BaseModel], base: SpecPath, source: SourceMap,
                     value_path_of: Any = None) -> list[Diagnostic]:
    """One diagnostic per pydantic error, deduplicated by location (unions report each branch)."""
    found: dict[SpecPath, Diagnostic] = {}
    for entry in error.errors():
        loc = _trim_union_branches(entry["loc"])
        path = (*base, *loc)
        if path in found:
            continue
        kind = entry["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1])
            fields = _fields_at(model, loc[:-1])
            fix = did_you_mean(key, fields) or (f"known keys: {', '.join(fields)}" if fields else "remove it")
            found[path] = source.diagnostic(path, f"unknown key '{key}'", fix, key=True)
        elif kind == "missing":
            found[path] = source.diagnostic(path, f"missing required key '{loc[-1]}'", f"add '{loc[-1]}: ...'")
        else:
            found[path] = source.diagnostic(path, _message(entry), _fix(entry))
    return list(found.values())


def _message(entry: dict[str, Any]) -> str:
    kind = entry["type"]
    value = entry.get("input")
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {describe_value(value)}"
    if kind == "literal_error":
        return f"{describe_value(value)} is not allowed; {entry['msg'][0].lower()}{entry['msg'][1:]}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return f"{describe_value(value)} is out of range: {entry['msg'][0].lower()}{entry['msg'][1:]}"
    if kind == "value_error":
        return str(entry["msg"]).removeprefix("Value error, ")
    return f"{entry['msg']} (got {describe_value(value)})"


def _fix(entry: dict[str, Any]) -> str | None:
    kind, ctx = entry["type"], entry.get("ctx", {})
    if kind == "greater_than_equal":
        return f"use a value >= {ctx.get('ge')}"
    if kind == "greater_than":
        return f"use a value > {ctx.get('gt')}"
    if kind in ("less_than_equal", "less_than"):
        return f"use a value <= {ctx.get('le', ctx.get('lt'))}"
    if kind == "bool_type":
        return "write true or false (YAML 'yes'/'no'/'on'/'off' are strings here)"
    if kind in ("int_type", "int_from_float"):
        return "write a whole number without a decimal point"
    if kind == "string_pattern_mismatch":
        return "use letters, digits and '_' only, not starting with a digit"
    if kind == "too_short":
        return "add at least one entry"
    return None


def _trim_union_branches(loc: Iterable[Any]) -> SpecPath:
    """pydantic names union branches in ``loc`` (``'int'``, ``'list[...]'``, ...); drop them."""
    return tuple(part for part in loc if not (isinstance(part, str) and ("[" in part or part in _BRANCH_NAMES)))


_BRANCH_NAMES = {"int", "float", "bool", "str", "none", "literal['same','valid']", "function-after",
                 "constrained-int", "constrained-float"}


def _fields_at(model: type[BaseModel], loc: SpecPath) -> list[str]:
    """The keys a model accepts at ``loc``, for did-you-mean suggestions."""
    current: Any = model
    for part in loc:
        if _is_model(current) and isinstance(part, str) and part in current.model_fields:
            current = current.model_fields[part].annotation
            continue
        args = typing.get_args(current)  # step into dict[K, V] / list[V]
        current = args[-1] if args else None
    return sorted(current.model_fields) if _is_model(current) else []


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)
