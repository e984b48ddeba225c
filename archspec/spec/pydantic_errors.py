"""Turn pydantic validation errors into located diagnostics with a concrete fix."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from archspec.errors import Diagnostic, SpecPath, did_you_mean
from archspec.loading.core_schema import INT, ascii_digits, is_number_text
from archspec.loading.source import SourceMap
from archspec.ops.containers import CONTAINERS
from archspec.ops.registry import all_ops
from archspec.spec.model import NAME_PATTERN, BlockModel, SpecModel
from archspec.spec.pydantic_paths import KEY_LABEL, spec_path
from archspec.user_text import cut, describe_value, quoted

NO_DATA = object()  # diagnostics_from without the validated data: spec paths are guessed from loc's text

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


def diagnostics_from(error: ValidationError, model: type[BaseModel], base: SpecPath, source: SourceMap,
                     data: Any = NO_DATA) -> list[Diagnostic]:
    """One diagnostic per pydantic error, deduplicated by location (unions report each branch). ``data`` is what
    was validated: with it, every error is placed at its real key path whatever the keys' text (see
    :mod:`archspec.spec.pydantic_paths`)."""
    found: dict[SpecPath, Diagnostic] = {}
    entries = error.errors()
    trimmed = [spec_loc(entry, data) for entry in entries]
    # An unknown key that is a near miss of a missing one is one mistake (a typo), reported once.
    renamed = set()
    for entry, loc in zip(entries, trimmed, strict=True):
        if entry["type"] == "extra_forbidden" and loc:
            close = did_you_mean(str(loc[-1]), _fields_at(model, loc[:-1]))
            if close:
                renamed.add((*loc[:-1], close.split("'")[1]))
    for entry, loc in zip(entries, trimmed, strict=True):
        path = (*base, *loc)
        if path in found:
            continue
        kind = entry["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1] if loc else entry["loc"][-1])
            fields = _fields_at(model, loc[:-1])
            fix = did_you_mean(key, fields) or (f"remove it; known keys: {', '.join(fields)}" if fields
                                                else "remove it")
            found[path] = source.diagnostic(path, f"unknown key {quoted(key)}", fix, key=True)
        elif kind == "missing":
            if loc in renamed:
                continue
            found[path] = source.diagnostic(path, f"missing required key '{entry['loc'][-1]}'", _add_fix(model, loc))
        else:
            if isinstance(entry.get("input"), list | dict) and any(
                    len(other) > len(loc) and other[:len(loc)] == loc for other in trimmed):
                continue  # a list or mapping with a bad element: the element's own error says what is wrong
            here = [e for e, other in zip(entries, trimmed, strict=True) if other == loc]
            # In a union (int, list or 'same'), a branch whose type fits but whose value does not (-1 < 0)
            # is the one the user meant; if no branch's type fits, say what each would accept.
            fitting = [e for e in here if e["type"] not in _EXPECTATIONS]
            about_the_key = entry["loc"][-1:] == (KEY_LABEL,) and bool(loc) and loc[-1] == entry.get("input")
            if fitting:
                found[path] = source.diagnostic(path, _message(fitting[0], loc), _fix(fitting[0], loc, model),
                                                key=about_the_key)
            elif len(here) > 1:
                found[path] = _union_diagnostic(here, loc, path, source, model)
            else:
                found[path] = source.diagnostic(path, _message(entry, loc), _fix(entry, loc, model), key=about_the_key)
    return list(found.values())


_EXPECTATIONS = {"int_type": "an integer", "int_from_float": "an integer", "float_type": "a number",
                 "bool_type": "true or false", "string_type": "a string", "list_type": "a list",
                 "dict_type": "a mapping", "model_type": "a mapping", "none_required": "null", "literal_error": ""}


def _union_diagnostic(branches: list[dict[str, Any]], loc: SpecPath, path: SpecPath, source: SourceMap,
                      model: type[BaseModel]) -> Diagnostic:
    wanted: list[str] = []
    for entry in branches:
        text = _EXPECTATIONS[entry["type"]] or f"one of {entry.get('ctx', {}).get('expected', '?')}"
        if text not in wanted:
            wanted.append(text)
    value = branches[0].get("input")
    literal = next((e for e in branches if e["type"] == "literal_error"), None)
    chosen = literal if literal is not None and isinstance(value, str) else branches[0]
    return source.diagnostic(path, f"expected {', '.join(wanted[:-1])} or {wanted[-1]}, got {describe_value(value)}",
                             _fix(chosen, loc, model))


# Examples for the keys of a spec file and of a block definition (op arguments take theirs from the op).
_EXAMPLES = {"archspec": "1", "name": "my_net", "input": "[3, 224, 224]", "layers": "[relu]", "doc": "'what it is'",
             "params": "{width: 64}", "blocks": "{my_block: {layers: [relu]}}"}
_BLOCK_EXAMPLE = "{params: {out: required}, layers: [relu]}"


def _add_fix(model: type[BaseModel], loc: SpecPath) -> str:
    """``add 'kernel: 3'`` — with a value from the op's worked examples where one exists."""
    example = _example(model, loc)
    return f"add '{loc[-1]}: {example}'" if example is not None else f"add '{loc[-1]}: ...'"


def _example(model: type[BaseModel], loc: SpecPath) -> str | None:
    """A valid value for ``loc``, as YAML text: the key's default or a worked example of its op (for an element
    of a list, an element of such a value), or None where nothing fits."""
    owner, field, rest = _owner_of(model, loc)
    if owner is None or field is None:
        return _BLOCK_EXAMPLE if _annotation_at(model, loc) is BlockModel else None
    if owner in (SpecModel, BlockModel) and not rest:
        return _EXAMPLES.get(field)
    info = owner.model_fields[field]
    candidates = [] if info.is_required() or info.default is None else [info.default]
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


_BOUNDS = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"), "less_than_equal": ("<=", "le"),
           "less_than": ("<", "lt")}


def _field(loc: SpecPath) -> str:
    """The argument a value belongs to: ``stride`` for ``(..., 'stride')``, ``input[1]`` for ``('input', 1)``."""
    for position in range(len(loc) - 1, -1, -1):
        if isinstance(loc[position], str):
            return cut(loc[position]) + "".join(f"[{part}]" for part in loc[position + 1:])
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
        subject = f"{_field(loc)} must"
        return f"{subject} be {symbol} {entry.get('ctx', {}).get(key)}, got {cut(repr(value), 24)}"
    if kind == "value_error":
        return str(entry["msg"]).removeprefix("Value error, ").split(" — ")[0]
    if kind == "too_short" and value == []:
        return "the list is empty"
    if kind == "too_long":
        return f"{_field(loc)} has too many entries ({len(value) if hasattr(value, '__len__') else '?'}): " \
               f"{entry['msg'][0].lower()}{entry['msg'][1:]}"
    if kind == "string_too_long":
        return f"the text is too long ({entry['msg'][0].lower()}{entry['msg'][1:]})"
    if kind == "none_required":
        return f"{_field(loc)} takes no value here, got {describe_value(value)}"
    if kind == "string_pattern_mismatch":
        return f"{describe_value(value)} is not a valid name"
    return f"{entry['msg']} (got {describe_value(value)})"


def _fix(entry: dict[str, Any], loc: SpecPath, model: type[BaseModel]) -> str:
    """A concrete fix for every kind of pydantic error, shaped by the value that was given."""
    kind, ctx = entry["type"], entry.get("ctx", {})
    value = entry.get("input")
    name = _field(loc)
    example = _example(model, loc)
    # ``kernel: 3`` for a key; a list element is written as the bare value (``kernel[1]: 3`` is not YAML)
    written = None if example is None else example if loc and isinstance(loc[-1], int) else f"{name}: {example}"
    if kind in _BOUNDS:
        return _bound_fix(kind, ctx, value, loc, written)
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        if not choices:
            return f"use {ctx.get('expected')}" if ctx.get("expected") else f"write e.g. {written}"
        return (did_you_mean(value, choices) if isinstance(value, str) else None) or f"use one of them, e.g. " \
            f"{name}: {choices[0]}"
    if kind in _TYPE_FIXES:
        return _TYPE_FIXES[kind](value, name, written)
    if kind == "string_pattern_mismatch":
        suggestion = f", e.g. {_as_name(value)}" if isinstance(value, str) else ""
        return f"use letters, digits and '_' only, not starting with a digit{suggestion}"
    if kind == "too_short":
        if loc and loc[-1] == "layers":
            return "add at least one layer, e.g. '- relu'"
        return f"add at least one entry, e.g. {written}" if written else "add at least one entry"
    if kind == "too_long":
        return f"give at most {ctx.get('max_length')} entries"
    if kind == "string_too_long":
        return f"shorten it to at most {ctx.get('max_length')} characters"
    if kind == "none_required":
        return f"remove '{name}'"
    if kind == "value_error":
        parts = str(entry["msg"]).split(" — ", 1)
        if len(parts) > 1:
            return parts[1]
    return _unhandled_fix(written)


def _unhandled_fix(written: str | None) -> str:
    """For an error kind the argument models do not produce today (tests/errors/test_every_fix.py fails if
    one of them reaches this)."""
    return f"write e.g. {written}" if written else "see 'archspec schema' for what this key accepts"


def _bound_fix(kind: str, ctx: dict[str, Any], value: Any, loc: SpecPath, written: str | None) -> str:
    symbol, key = _BOUNDS[kind]
    bound = ctx.get(key)
    name = _field(loc)
    whole = isinstance(value, int) and isinstance(bound, int)
    if kind == "greater_than_equal" or (kind == "greater_than" and whole):
        return f"use {name} {bound if kind == 'greater_than_equal' else bound + 1} or more"
    if kind == "less_than_equal" or (kind == "less_than" and whole):
        return f"use {name} {bound if kind == 'less_than_equal' else bound - 1} or less"
    return f"use a value {symbol} {bound}" + (f", e.g. {written}" if written else "")


def _integer_fix(value: Any, name: str, written: str | None) -> str:
    if isinstance(value, float) and not value.is_integer():
        example = f" (e.g. {written})" if written else ""
        return f"write a whole number{example}; in expressions divide with // or use round(...)"
    if isinstance(value, bool):
        return f"write a number, not {str(value).lower()}" + (f", e.g. {written}" if written else "")
    if isinstance(value, str) and INT.fullmatch(value.strip()):
        return f"write the number without quotes: {value.strip()}"
    if isinstance(value, str) and _ascii_number(value, INT.fullmatch):
        return _ascii_fix(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return f"write {int(value)} (a whole number, without a decimal point or exponent)"
    if isinstance(value, list | dict | tuple | set):
        return f"give a single whole number, e.g. {written}" if written else "give a single whole number"
    return f"write a whole number, e.g. {written}" if written else "write a whole number without a decimal point"


def _number_fix(value: Any, name: str, written: str | None) -> str:
    example = f", e.g. {written}" if written else ""
    if isinstance(value, str) and is_number_text(value.strip()):
        return f"write the number without quotes: {value.strip()}"
    if isinstance(value, str) and _ascii_number(value, is_number_text):
        return _ascii_fix(value)
    if isinstance(value, bool):
        return f"write a number, not {str(value).lower()}{example}"
    if value is None:
        return f"write a number{example}, or leave '{name}' out to use its default"
    if isinstance(value, list | dict | tuple | set):
        return f"give a single number{example}"
    return f"write a number{example}"


def _bool_fix(value: Any, name: str, written: str | None) -> str:
    if isinstance(value, str):
        return "write true or false (YAML 'yes'/'no'/'on'/'off' are strings here)"
    return f"write true or false, e.g. {name}: {'false' if value in (0, None) else 'true'}"


def _string_fix(value: Any, name: str, written: str | None) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if name != "name":  # the text of a number is no valid name (it starts with a digit)
            return f"quote it to make it text: {name}: '{value}'"
        return f"write a name, e.g. {name}: {_as_name(str(value))}"
    return f"write text, e.g. {written}" if written else "write text in quotes"


def _as_name(text: str) -> str:
    """A valid name close to ``text``: ``'2nd-block'`` → ``n_2nd_block``.

    >>> _as_name("2nd-block"), _as_name("")
    ('n_2nd_block', 'n_')
    """
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", text)[:90]
    return cleaned if re.match(NAME_PATTERN, cleaned) else f"n_{cleaned}"


def _list_fix(value: Any, name: str, written: str | None) -> str:
    if isinstance(value, tuple | set | frozenset):
        ordered = sorted(value, key=repr) if isinstance(value, set | frozenset) else value  # a set has no order
        return f"write it as a list: {name}: {yaml_text(ordered)}"
    return f"write a list, e.g. {written}" if written else "write a list in [...]"


def _mapping_fix(value: Any, name: str, written: str | None) -> str:
    return f"write a mapping, e.g. {written}" if written else "write a mapping in {...}"


_TYPE_FIXES = {"int_type": _integer_fix, "int_from_float": _integer_fix, "float_type": _number_fix,
               "finite_number": _number_fix, "bool_type": _bool_fix, "string_type": _string_fix,
               "list_type": _list_fix, "dict_type": _mapping_fix, "model_type": _mapping_fix}


def _ascii_number(text: str, is_number: Any) -> bool:
    """Whether ``text`` is a number once written in ASCII digits (``'٣٢'``, ``'３２'``, ``'1_6'``)."""
    written = ascii_digits(text)
    return written is not None and bool(is_number(written))


def _ascii_fix(text: str) -> str:
    """``write 32``: YAML 1.2 and JSON read other digits, and ``_`` between digits, as text, never as a number."""
    return (f"write {ascii_digits(text)}: numbers are ASCII digits 0-9 without '_' (YAML and JSON read {quoted(text)} "
            "as text)")


def spec_loc(entry: dict[str, Any], data: Any = NO_DATA) -> SpecPath:
    """The spec path of a pydantic error relative to the validated ``data``: read against the data where it is
    given, else guessed from the text of ``loc``."""
    if data is not NO_DATA:
        path = spec_path(entry, data)
        if path is not None:
            return path
    return _trim_union_branches(entry["loc"])


def _trim_union_branches(loc: Iterable[Any]) -> SpecPath:
    """pydantic names union branches in ``loc`` (``'int'``, ``'list[...]'``, ...); drop them (a guess: a key
    may read like a branch name, so :func:`spec_loc` reads ``loc`` against the data where it can)."""
    return tuple(part for part in loc if not (isinstance(part, str) and ("[" in part or part in _BRANCH_NAMES)))


_BRANCH_NAMES = {"int", "float", "bool", "str", "none", "literal['same','valid']", "function-after",
                 "constrained-int", "constrained-float"}


def _fields_at(model: type[BaseModel], loc: SpecPath) -> list[str]:
    """The keys a model accepts at ``loc``, for did-you-mean suggestions."""
    current = _annotation_at(model, loc)
    return sorted(current.model_fields) if _is_model(current) else []


def _annotation_at(model: type[BaseModel], loc: SpecPath) -> Any:
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
            owner = _annotation_at(model, loc[:position])
            if _is_model(owner) and part in owner.model_fields:
                return owner, part, loc[position + 1:]
            return None, None, ()
    return None, None, ()


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)
