"""Checks on a spec file's text before YAML reads it: characters YAML forbids, each located where it stands,
and, for a ``.json`` file, JSON's own syntax (YAML would accept trailing commas, comments and unquoted keys)."""

from __future__ import annotations

import re
from typing import Any

from archspec.errors import MAX_SHOWN_DIAGNOSTICS, Diagnostic, Location, SpecError, SpecPath
from archspec.loading.load_limits import LoadLimits

BOM = "\ufeff"
# What YAML 1.1/1.2 allow in a stream (PyYAML's Reader rejects the rest, reporting only an offset).
_UNPRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")  # as PyYAML counts lines


def check_characters(text: str, file: str) -> None:
    """Reject characters YAML forbids (NUL, BEL, ...), each located at its line and column."""
    found = _UNPRINTABLE.finditer(text)
    diagnostics = []
    for match in found:
        line, column = _line_and_column(text, match.start())
        code = f"U+{ord(match.group()):04X}"
        kind = "control character" if ord(match.group()) < 0xA0 else "character"
        diagnostics.append(
            Diagnostic(
                f"the {kind} {code} cannot appear in a spec file (YAML and JSON text "
                "allow only tab, line breaks and printable characters)",
                (),
                Location(file, line, column),
                f"remove the {kind} {code} at line {line}, column {column} (editors often show it as nothing or a box)",
            )
        )
        if len(diagnostics) == MAX_SHOWN_DIAGNOSTICS:
            break
    if diagnostics:
        raise SpecError(diagnostics, omitted=sum(1 for _ in found))


def _line_and_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of ``offset``."""
    line, start = 1, 0
    for match in _LINE_BREAK.finditer(text, 0, offset):
        line, start = line + 1, match.end()
    return line, offset - start + 1


class _NonFinite(str):
    """Stands for JSON's NaN / Infinity while the JSON syntax is checked; the YAML pass locates them."""


def check_json(text: str, file: str, limits: LoadLimits) -> list[tuple[SpecPath, str]]:
    """A ``.json`` file must be JSON, not merely YAML (no trailing commas, comments or unquoted keys).

    Returns the paths of NaN / Infinity constants. Integers too long to be sizes are left for the YAML
    pass, which reports them where they stand (converting them here would hit Python's 4,300-digit limit).
    """

    import json

    def integer(digits: str) -> int:
        return 0 if len(digits.lstrip("-").lstrip("0")) > limits.max_digits else int(digits)

    try:
        data = json.loads(text, parse_constant=_NonFinite, parse_int=integer)
    except json.JSONDecodeError as exc:
        raise SpecError(
            [Diagnostic(f"JSON syntax: {exc.msg}", (), Location(file, exc.lineno, exc.colno), _json_fix(exc.msg))]
        ) from None
    except RecursionError:
        raise SpecError(
            [Diagnostic("JSON: nesting too deep", (), Location(file, 1, 1), f"nest at most {limits.max_depth} levels")]
        ) from None
    found: list[tuple[SpecPath, str]] = []
    pending: list[tuple[SpecPath, Any]] = [((), data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, _NonFinite):
            found.append((path, str(value)))
        elif isinstance(value, dict):
            pending.extend(((*path, key), item) for key, item in value.items())
        elif isinstance(value, list):
            pending.extend(((*path, index), item) for index, item in enumerate(value))
    return found


def _json_fix(message: str) -> str:
    if message.startswith("Expecting property name") or message.startswith("Expecting value"):
        return "remove a trailing comma, and quote every key and string with double quotes"
    if message.startswith("Expecting ',' delimiter"):
        return "separate items with ',' and close every '[' and '{'"
    return "fix the JSON syntax at this position"
