"""How each kind of pydantic error reads to a spec's author: one table, :data:`WORDING`, keyed by the error kind,
gives its message, its fix (shaped by the value that was given) and, for a type mismatch, what the type accepts
(listed when no branch of a union fits). A kind the argument models do not produce today gets pydantic's own
message and :func:`_unhandled_fix` (tests/errors/test_every_fix.py fails if one reaches it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import BaseModel

from archspec.errors import SpecPath, did_you_mean
from archspec.loading.core_schema import INT, ascii_digits, is_number_text
from archspec.spec.model import NAME_PATTERN
from archspec.spec.model_examples import example_at, fields_at, yaml_text
from archspec.user_text import cut, describe_value, quoted


@dataclass(frozen=True)
class FieldError:
    """One pydantic error entry, placed at its spec path ``loc`` (relative to ``model``): what its message and
    its fix are worded from."""

    entry: dict[str, Any]
    loc: SpecPath
    model: type[BaseModel]

    @property
    def kind(self) -> str:
        return str(self.entry["type"])

    @property
    def value(self) -> Any:
        return self.entry.get("input")

    @property
    def ctx(self) -> dict[str, Any]:
        return dict(self.entry.get("ctx", {}))

    @property
    def name(self) -> str:
        """The argument the value belongs to: ``stride`` for ``(..., 'stride')``, ``input[1]`` for ``('input', 1)``."""
        for position in range(len(self.loc) - 1, -1, -1):
            if isinstance(self.loc[position], str):
                return cut(self.loc[position]) + "".join(f"[{part}]" for part in self.loc[position + 1 :])
        return "the value"

    @property
    def pydantic_text(self) -> str:
        """pydantic's own message, starting in lower case to continue a sentence."""
        text = str(self.entry["msg"])
        return f"{text[0].lower()}{text[1:]}"

    @cached_property
    def written(self) -> str | None:
        """A valid value as the fix writes it: ``kernel: 3`` for a key; a list element is written as the bare value
        (``kernel[1]: 3`` is not YAML); None where no example is known."""
        example = example_at(self.model, self.loc)
        if example is None:
            return None
        return example if self.loc and isinstance(self.loc[-1], int) else f"{self.name}: {example}"

    def for_example(self) -> str:
        """``, e.g. kernel: 3`` where an example is known, else nothing."""
        return f", e.g. {self.written}" if self.written else ""


@dataclass(frozen=True)
class Wording:
    """The message and the fix of one kind of error; ``accepts`` is set for a type mismatch: what the type takes."""

    message: Callable[[FieldError], str]
    fix: Callable[[FieldError], str]
    accepts: str | None = None


def message(error: FieldError) -> str:
    return wording(error.kind).message(error)


def fix(error: FieldError) -> str:
    return wording(error.kind).fix(error)


def wording(kind: str) -> Wording:
    return WORDING.get(kind, _UNHANDLED)


def is_type_mismatch(kind: str) -> bool:
    """Whether an error says the value has the wrong type (in a union, another branch may be the one meant)."""
    return wording(kind).accepts is not None


def _unhandled_fix(written: str | None) -> str:
    """For an error kind the argument models do not produce today (tests/errors/test_every_fix.py fails if
    one of them reaches this)."""
    return f"write e.g. {written}" if written else "see 'archspec schema' for what this key accepts"


def _pydantic_message(error: FieldError) -> str:
    return f"{error.entry['msg']} (got {describe_value(error.value)})"


# --- keys: unknown and missing ------------------------------------------------------------------------------


def _unknown_key(error: FieldError) -> str:
    return str(error.loc[-1] if error.loc else error.entry["loc"][-1])


def _unknown_key_fix(error: FieldError) -> str:
    fields = fields_at(error.model, error.loc[:-1])
    return did_you_mean(_unknown_key(error), fields) or (
        f"remove it; known keys: {', '.join(fields)}" if fields else "remove it"
    )


def _missing_key_fix(error: FieldError) -> str:
    """``add 'kernel: 3'`` — with a value from the op's worked examples where one exists."""
    example = example_at(error.model, error.loc)
    return f"add '{error.loc[-1]}: {example}'" if example is not None else f"add '{error.loc[-1]}: ...'"


# --- bounds -------------------------------------------------------------------------------------------------

_BOUNDS = {
    "greater_than_equal": (">=", "ge"),
    "greater_than": (">", "gt"),
    "less_than_equal": ("<=", "le"),
    "less_than": ("<", "lt"),
}


def _bound_message(error: FieldError) -> str:
    symbol, key = _BOUNDS[error.kind]
    return f"{error.name} must be {symbol} {error.ctx.get(key)}, got {cut(repr(error.value), 24)}"


def _bound_fix(error: FieldError) -> str:
    kind = error.kind
    symbol, key = _BOUNDS[kind]
    bound = error.ctx.get(key)
    whole = isinstance(error.value, int) and isinstance(bound, int)
    if kind == "greater_than_equal" or (kind == "greater_than" and whole):
        return f"use {error.name} {bound if kind == 'greater_than_equal' else bound + 1} or more"
    if kind == "less_than_equal" or (kind == "less_than" and whole):
        return f"use {error.name} {bound if kind == 'less_than_equal' else bound - 1} or less"
    return f"use a value {symbol} {bound}" + error.for_example()


# --- choices, names, lengths, validators --------------------------------------------------------------------


def _literal_message(error: FieldError) -> str:
    return f"{describe_value(error.value)} is not one of {error.ctx.get('expected', 'the choices')}"


def _literal_fix(error: FieldError) -> str:
    expected = error.ctx.get("expected")
    choices = re.findall(r"'([^']*)'", str(expected or ""))
    if not choices:
        return f"use {expected}" if expected else f"write e.g. {error.written}"
    return (
        did_you_mean(error.value, choices) if isinstance(error.value, str) else None
    ) or f"use one of them, e.g. {error.name}: {choices[0]}"


def _name_fix(error: FieldError) -> str:
    suggestion = f", e.g. {_as_name(error.value)}" if isinstance(error.value, str) else ""
    return f"use letters, digits and '_' only, not starting with a digit{suggestion}"


def _as_name(text: str) -> str:
    """A valid name close to ``text``: ``'2nd-block'`` → ``n_2nd_block``.

    >>> _as_name("2nd-block"), _as_name("")
    ('n_2nd_block', 'n_')
    """
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", text)[:90]
    return cleaned if re.match(NAME_PATTERN, cleaned) else f"n_{cleaned}"


def _too_short_message(error: FieldError) -> str:
    return "the list is empty" if error.value == [] else _pydantic_message(error)


def _too_short_fix(error: FieldError) -> str:
    if error.loc and error.loc[-1] == "layers":
        return "add at least one layer, e.g. '- relu'"
    return f"add at least one entry, e.g. {error.written}" if error.written else "add at least one entry"


def _too_long_message(error: FieldError) -> str:
    count = len(error.value) if hasattr(error.value, "__len__") else "?"
    return f"{error.name} has too many entries ({count}): {error.pydantic_text}"


def _value_error_fix(error: FieldError) -> str:
    """A validator's message carries its own fix after ' — '."""
    parts = str(error.entry["msg"]).split(" — ", 1)
    return parts[1] if len(parts) > 1 else _unhandled_fix(error.written)


# --- wrong types --------------------------------------------------------------------------------------------


def _integer_fix(error: FieldError) -> str:
    value, written = error.value, error.written
    if isinstance(value, float) and not value.is_integer():
        example = f" (e.g. {written})" if written else ""
        return f"write a whole number{example}; in expressions divide with // or use round(...)"
    if isinstance(value, bool):
        return f"write a number, not {str(value).lower()}" + error.for_example()
    if isinstance(value, str) and INT.fullmatch(value.strip()):
        return f"write the number without quotes: {value.strip()}"
    if isinstance(value, str) and _ascii_number(value, INT.fullmatch):
        return _ascii_fix(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return f"write {int(value)} (a whole number, without a decimal point or exponent)"
    if isinstance(value, list | dict | tuple | set):
        return f"give a single whole number, e.g. {written}" if written else "give a single whole number"
    return f"write a whole number, e.g. {written}" if written else "write a whole number without a decimal point"


def _number_fix(error: FieldError) -> str:
    value, example = error.value, error.for_example()
    if isinstance(value, str) and is_number_text(value.strip()):
        return f"write the number without quotes: {value.strip()}"
    if isinstance(value, str) and _ascii_number(value, is_number_text):
        return _ascii_fix(value)
    if isinstance(value, bool):
        return f"write a number, not {str(value).lower()}{example}"
    if value is None:
        return f"write a number{example}, or leave '{error.name}' out to use its default"
    if isinstance(value, list | dict | tuple | set):
        return f"give a single number{example}"
    return f"write a number{example}"


def _bool_fix(error: FieldError) -> str:
    if isinstance(error.value, str):
        return "write true or false (YAML 'yes'/'no'/'on'/'off' are strings here)"
    return f"write true or false, e.g. {error.name}: {'false' if error.value in (0, None) else 'true'}"


def _string_fix(error: FieldError) -> str:
    value, name = error.value, error.name
    if isinstance(value, int | float) and not isinstance(value, bool):
        if name != "name":  # the text of a number is no valid name (it starts with a digit)
            return f"quote it to make it text: {name}: '{value}'"
        return f"write a name, e.g. {name}: {_as_name(str(value))}"
    return f"write text, e.g. {error.written}" if error.written else "write text in quotes"


def _list_fix(error: FieldError) -> str:
    value = error.value
    if isinstance(value, tuple | set | frozenset):
        ordered = sorted(value, key=repr) if isinstance(value, set | frozenset) else value  # a set has no order
        return f"write it as a list: {error.name}: {yaml_text(ordered)}"
    return f"write a list, e.g. {error.written}" if error.written else "write a list in [...]"


def _mapping_fix(error: FieldError) -> str:
    return f"write a mapping, e.g. {error.written}" if error.written else "write a mapping in {...}"


def _ascii_number(text: str, is_number: Any) -> bool:
    """Whether ``text`` is a number once written in ASCII digits (``'٣٢'``, ``'３２'``, ``'1_6'``)."""
    written = ascii_digits(text)
    return written is not None and bool(is_number(written))


def _ascii_fix(text: str) -> str:
    """``write 32``: YAML 1.2 and JSON read other digits, and ``_`` between digits, as text, never as a number."""
    return (
        f"write {ascii_digits(text)}: numbers are ASCII digits 0-9 without '_' (YAML and JSON read {quoted(text)} "
        "as text)"
    )


def _type(accepts: str, fix: Callable[[FieldError], str]) -> Wording:
    """A type mismatch: ``expected an integer, got 'x' (string)``."""
    return Wording(lambda error: f"expected {accepts}, got {describe_value(error.value)}", fix, accepts)


_UNHANDLED = Wording(_pydantic_message, lambda error: _unhandled_fix(error.written))

WORDING: dict[str, Wording] = {
    "extra_forbidden": Wording(lambda error: f"unknown key {quoted(_unknown_key(error))}", _unknown_key_fix),
    "missing": Wording(lambda error: f"missing required key '{error.entry['loc'][-1]}'", _missing_key_fix),
    "int_type": _type("an integer", _integer_fix),
    "int_from_float": _type("an integer", _integer_fix),
    "float_type": _type("a number", _number_fix),
    "finite_number": Wording(_pydantic_message, _number_fix),
    "bool_type": _type("true or false", _bool_fix),
    "string_type": _type("a string", _string_fix),
    "list_type": _type("a list", _list_fix),
    "dict_type": _type("a mapping", _mapping_fix),
    "model_type": _type("a mapping", _mapping_fix),
    # A literal's choices are listed from the error itself ("one of 'same' or 'valid'"), hence no text here.
    "literal_error": Wording(_literal_message, _literal_fix, accepts=""),
    "none_required": Wording(
        lambda error: f"{error.name} takes no value here, got {describe_value(error.value)}",
        lambda error: f"remove '{error.name}'",
        accepts="null",
    ),
    **{kind: Wording(_bound_message, _bound_fix) for kind in _BOUNDS},
    "string_pattern_mismatch": Wording(lambda error: f"{describe_value(error.value)} is not a valid name", _name_fix),
    "too_short": Wording(_too_short_message, _too_short_fix),
    "too_long": Wording(_too_long_message, lambda error: f"give at most {error.ctx.get('max_length')} entries"),
    "string_too_long": Wording(
        lambda error: f"the text is too long ({error.pydantic_text})",
        lambda error: f"shorten it to at most {error.ctx.get('max_length')} characters",
    ),
    "value_error": Wording(
        lambda error: str(error.entry["msg"]).removeprefix("Value error, ").split(" — ")[0], _value_error_fix
    ),
}
