"""Turn pydantic validation errors into located diagnostics with a concrete fix."""

from __future__ import annotations

import re
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
    entries = error.errors()
    # An unknown key that is a near miss of a missing one is one mistake (a typo), reported once.
    renamed = set()
    for entry in entries:
        if entry["type"] == "extra_forbidden":
            loc = _trim_union_branches(entry["loc"])
            close = did_you_mean(str(loc[-1]), _fields_at(model, loc[:-1]))
            if close:
                renamed.add((*loc[:-1], close.split("'")[1]))
    trimmed = [_trim_union_branches(entry["loc"]) for entry in entries]
    for entry in entries:
        loc = _trim_union_branches(entry["loc"])
        path = (*base, *loc)
        if path in found:
            continue
        kind = entry["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1])
            fields = _fields_at(model, loc[:-1])
            fix = did_you_mean(key, fields) or (f"remove it; known keys: {', '.join(fields)}" if fields
                                                else "remove it")
            found[path] = source.diagnostic(path, f"unknown key '{key}'", fix, key=True)
        elif kind == "missing":
            if loc in renamed:
                continue
            found[path] = source.diagnostic(path, f"missing required key '{loc[-1]}'", _add_fix(model, loc))
        else:
            if isinstance(entry.get("input"), list | dict) and any(
                    len(other) > len(loc) and other[:len(loc)] == loc for other in trimmed):
                continue  # a list or mapping with a bad element: the element's own error says what is wrong
            here = [e for e in entries if _trim_union_branches(e["loc"]) == loc]
            # In a union (int, list or 'same'), a branch whose type fits but whose value does not (-1 < 0)
            # is the one the user meant; if no branch's type fits, say what each would accept.
            fitting = [e for e in here if e["type"] not in _EXPECTATIONS]
            if fitting:
                found[path] = source.diagnostic(path, _message(fitting[0], loc), _fix(fitting[0], loc))
            elif len(here) > 1:
                found[path] = _union_diagnostic(here, loc, path, source)
            else:
                found[path] = source.diagnostic(path, _message(entry, loc), _fix(entry, loc))
    return list(found.values())


_EXPECTATIONS = {"int_type": "an integer", "int_from_float": "an integer", "float_type": "a number",
                 "bool_type": "true or false", "string_type": "a string", "list_type": "a list",
                 "dict_type": "a mapping", "model_type": "a mapping", "none_required": "null", "literal_error": ""}


def _union_diagnostic(branches: list[dict[str, Any]], loc: SpecPath, path: SpecPath, source: SourceMap) -> Diagnostic:
    wanted: list[str] = []
    for entry in branches:
        text = _EXPECTATIONS[entry["type"]] or f"one of {entry.get('ctx', {}).get('expected', '?')}"
        if text not in wanted:
            wanted.append(text)
    value = branches[0].get("input")
    literal = next((e for e in branches if e["type"] == "literal_error"), None)
    fix = _fix(literal, loc) if literal is not None and isinstance(value, str) else _fix(branches[0], loc)
    return source.diagnostic(path, f"expected {', '.join(wanted[:-1])} or {wanted[-1]}, got {describe_value(value)}",
                             fix)


_EXAMPLES = {"archspec": "1", "name": "my_net", "input": "[3, 224, 224]", "layers": "[relu]"}


def _add_fix(model: type[BaseModel], loc: SpecPath) -> str:
    """``add 'kernel: 3'`` — with a value from the op's worked examples where one exists."""
    key = str(loc[-1])
    example = _EXAMPLES.get(key) if len(loc) == 1 else None
    if example is None:
        from archspec.ops.registry import all_ops

        for op in all_ops().values():
            if op.Args is model:
                example = next((repr(e.args[key]) for e in op.examples if key in e.args), None)
                break
    return f"add '{key}: {example}'" if example else f"add '{key}: ...'"


_BOUNDS = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"), "less_than_equal": ("<=", "le"),
           "less_than": ("<", "lt")}


def _field(loc: SpecPath) -> str:
    """The argument a value belongs to: ``stride`` for ``(..., 'stride')``, ``input[1]`` for ``('input', 1)``."""
    for position in range(len(loc) - 1, -1, -1):
        if isinstance(loc[position], str):
            return str(loc[position]) + "".join(f"[{part}]" for part in loc[position + 1:])
    return "the value"


def _message(entry: dict[str, Any], loc: SpecPath = ()) -> str:
    kind = entry["type"]
    value = entry.get("input")
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {describe_value(value)}"
    if kind == "literal_error":
        return f"{describe_value(value)} is not one of {entry.get('ctx', {}).get('expected', 'the choices')}"
    if kind in _BOUNDS:
        symbol, key = _BOUNDS[kind]
        subject = f"{_field(loc)} must" if loc and isinstance(loc[-1], str) else "must"
        return f"{subject} be {symbol} {entry.get('ctx', {}).get(key)}, got {_short_value(value)}"
    if kind == "value_error":
        return str(entry["msg"]).removeprefix("Value error, ").split(" — ")[0]
    if kind == "too_short" and value == []:
        return "the list is empty"
    if kind == "too_long":
        return f"{_field(loc)} has too many entries ({len(value) if hasattr(value, '__len__') else '?'}): " \
               f"{entry['msg'][0].lower()}{entry['msg'][1:]}"
    if kind == "string_too_long":
        return f"the text is too long ({entry['msg'][0].lower()}{entry['msg'][1:]})"
    return f"{entry['msg']} (got {describe_value(value)})"


def _fix(entry: dict[str, Any], loc: SpecPath = ()) -> str | None:
    kind, ctx = entry["type"], entry.get("ctx", {})
    value = entry.get("input")
    if kind in _BOUNDS:
        symbol, key = _BOUNDS[kind]
        bound = ctx.get(key)
        name = _field(loc) if loc and isinstance(loc[-1], str) else "a value of"
        if kind == "greater_than_equal":
            return f"use {name} {bound} or more"
        if kind == "less_than_equal":
            return f"use {name} {bound} or less"
        return f"use a value {symbol} {bound}"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        if not choices:
            return f"use {ctx.get('expected')}" if ctx.get("expected") else None
        return (did_you_mean(value, choices) if isinstance(value, str) else None) or f"use one of them, e.g. " \
            f"{_field(loc)}: {choices[0]}"
    if kind == "bool_type":
        return "write true or false (YAML 'yes'/'no'/'on'/'off' are strings here)"
    if kind in ("int_type", "int_from_float"):
        if isinstance(value, float) and not value.is_integer():
            return "write a whole number; in expressions divide with // or use round(...)"
        if isinstance(value, bool):
            return f"write a number, not {str(value).lower()}"
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            return f"write the number without quotes: {value.strip()}"
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            return f"write {int(value)} (a whole number, without a decimal point or exponent)"
        return "write a whole number without a decimal point"
    if kind in ("float_type",) and isinstance(value, str):
        return "write the number without quotes"
    if kind == "string_pattern_mismatch":
        return "use letters, digits and '_' only, not starting with a digit"
    if kind == "too_short":
        return "add at least one layer, e.g. '- relu'" if loc and loc[-1] == "layers" else "add at least one entry"
    if kind == "too_long":
        return f"give at most {ctx.get('max_length')} entries"
    if kind == "value_error":
        parts = str(entry["msg"]).split(" — ", 1)
        return parts[1] if len(parts) > 1 else None
    return None


def _short_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:21]}..."


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
