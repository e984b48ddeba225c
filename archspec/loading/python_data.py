"""An in-memory spec (a dict from Python) held to exactly what a YAML or JSON file may hold."""

from __future__ import annotations

import math
from typing import Any

from archspec.errors import Diagnostic, SpecError, SpecPath
from archspec.loading.load_limits import LoadLimits
from archspec.loading.source import Document, SourceMap
from archspec.user_text import cut, quoted, shortened


def load_data(data: Any, file: str = "<dict>", limits: LoadLimits | None = None) -> Document:
    """An in-memory spec (a dict from Python) held to exactly what a file may hold: mappings with string keys
    (integer keys become strings, as in YAML), lists, strings, finite numbers within the digit cap, booleans
    and null — no tuples, sets or other objects — within the same size, value-count and depth caps.

    Raises:
        SpecError: one diagnostic per value that a file could not hold.
    """
    source = SourceMap(file)
    plain, errors = plain_data(data, source, (), limits)
    if errors:
        raise SpecError(errors)
    import json  # for dicts and .json files only: a YAML spec needs no json module (nor its regexes)

    return Document(data=plain, source=source, text=json.dumps(plain))


def plain_data(
    value: Any, source: SourceMap, path: SpecPath = (), limits: LoadLimits | None = None
) -> tuple[Any, list[Diagnostic]]:
    """``value`` copied as plain spec data (see :func:`load_data`), with a diagnostic, located through
    ``source`` at its path under ``path``, for each part a file could not hold."""
    builder = _DataBuilder(source, limits or LoadLimits())
    try:
        plain = builder.build(value, path)
    except _DataAbort as abort:
        builder.fail(abort.path, abort.message, abort.fix)
    return plain if not builder.errors else None, builder.errors


class _DataAbort(Exception):
    def __init__(self, path: SpecPath, message: str, fix: str):
        super().__init__(message)
        self.path, self.message, self.fix = path, message, fix


class _DataBuilder:
    """Copies Python data into plain spec data, refusing what YAML or JSON text could not express."""

    def __init__(self, source: SourceMap, limits: LoadLimits):
        self.source = source
        self.limits = limits
        self.count = 0
        self.characters = 0
        self.errors: list[Diagnostic] = []

    def fail(self, path: SpecPath, message: str, fix: str) -> None:
        self.errors.append(self.source.diagnostic(path, message, fix))

    def build(self, value: Any, path: SpecPath, depth: int = 0) -> Any:
        self.count += 1
        if self.count > self.limits.max_values:
            raise _DataAbort(
                path,
                f"the data holds more than {self.limits.max_values:,} values",
                "a spec needs far fewer; use 'repeat' and blocks instead of writing layers out (or "
                "raise LoadLimits.max_values)",
            )
        if depth > self.limits.max_depth:  # also stops a mapping or list that contains itself
            raise _DataAbort(
                path,
                f"nesting deeper than {self.limits.max_depth} levels",
                f"nest at most {self.limits.max_depth} levels (a spec needs far fewer)",
            )
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            return self.integer(value, path)
        if isinstance(value, float):
            if not math.isfinite(value):
                self.fail(
                    path, f"number {value} is not finite (infinite or NaN)", "write a finite number such as 0.5 or 1e-5"
                )
                return None
            return value
        if isinstance(value, str):
            self.characters += len(value)
            if self.characters > self.limits.max_bytes:
                raise _DataAbort(
                    path,
                    f"the data's text is larger than the {self.limits.max_bytes:,}-character cap",
                    "a spec is small text (or raise LoadLimits.max_bytes)",
                )
            return value
        if isinstance(value, dict):
            return self.mapping(value, path, depth)
        if isinstance(value, list):
            return [self.build(item, (*path, index), depth + 1) for index, item in enumerate(value)]
        if isinstance(value, tuple | set | frozenset):
            kind = "a tuple" if isinstance(value, tuple) else "a set"
            items = list(value) if isinstance(value, tuple) else sorted(value, key=repr)  # a set has no order
            self.fail(path, f"{kind} is not spec data: a spec holds lists", f"write it as a list: {_listed(items)}")
            return None
        self.fail(
            path,
            f"a value of type '{type(value).__name__}' is not spec data",
            "use only dicts, lists, strings, numbers, True/False and None, as a YAML or JSON file would",
        )
        return None

    def integer(self, value: int, path: SpecPath) -> int | None:
        # str() of a huge int is itself slow (and refused past 4,300 digits): estimate from the bit length
        small = value.bit_length() < 1000
        digits = len(str(abs(value))) if small else int(value.bit_length() * math.log10(2)) + 1
        if digits > self.limits.max_digits:
            text = f"number {cut(str(value), 24)}" if small else "a number"
            self.fail(
                path,
                f"{text} is absurdly large ({digits} digits)",
                f"write a number with at most {self.limits.max_digits} digits",
            )
            return None
        return value

    def mapping(self, value: dict[Any, Any], path: SpecPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, str | int):
                self.fail(
                    path,
                    f"mapping keys must be plain names, got the key {cut(repr(key), 40)}",
                    "write the key as a string",
                )
                continue
            name = str(key)  # YAML reads the key 1 as an integer, and the file builder keeps its text
            if name in result:
                self.fail(
                    (*path, name),
                    f"duplicate key {quoted(name)} (given both as a string and as a number)",
                    "keep only one of them",
                )
                continue
            result[name] = self.build(item, (*path, name), depth + 1)
        return result


def _listed(items: list[Any]) -> str:
    """``[3, 8, 8]`` as a spec writes it (strings bare, as in YAML flow lists)."""
    text = ", ".join(str(item) if not isinstance(item, bool) else str(item).lower() for item in items)
    return f"[{shortened(text)}]"
