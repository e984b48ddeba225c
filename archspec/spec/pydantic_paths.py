"""Where a pydantic error is in the spec: its ``loc`` read against the data that was validated.

pydantic's ``loc`` mixes the data's own keys and list positions with labels of its own: the branch of a union that
failed (``'int'``, ``'list[int]'``, ``'literal['same','valid']'``, ``'function-after[...]'``) and ``'[key]'`` for an
error in a mapping's key rather than its value. A user's key may read exactly like a label (a top-level key ``int``,
a param ``str``, a key ``x[1]``), so labels cannot be recognised by their text; here a part of ``loc`` is a key only
where the data holds that key, and the reading chosen is the one that leads to the very value pydantic reports.
"""

from __future__ import annotations

from typing import Any

from archspec.errors import SpecPath

KEY_LABEL = "[key]"  # pydantic's label for an error in a mapping's key


def spec_path(entry: dict[str, Any], data: Any) -> SpecPath | None:
    """The spec path (relative to ``data``) of one entry of ``ValidationError.errors()``, or None where no reading
    of its ``loc`` reaches the value it reports.

    >>> spec_path({"type": "extra_forbidden", "loc": ("int",), "input": 1}, {"int": 1, "name": "n"})
    ('int',)
    >>> kernel = {"int": 3}  # pydantic reports the very mapping it was given
    >>> spec_path({"type": "int_type", "loc": ("kernel", "int"), "input": kernel}, {"kernel": kernel})
    ('kernel',)
    >>> spec_path({"type": "missing", "loc": ("blocks", "int", "layers"), "input": kernel}, {"blocks": {"int": kernel}})
    ('blocks', 'int', 'layers')
    """
    parts = tuple(entry["loc"])
    kind = entry["type"]
    reported = entry.get("input")

    def walk(index: int, value: Any, path: SpecPath) -> SpecPath | None:
        if index == len(parts):
            return path if _same(value, reported) else None
        part = parts[index]
        last = index == len(parts) - 1
        if (
            isinstance(part, int)
            and not isinstance(part, bool)
            and isinstance(value, list)
            and -len(value) <= part < len(value)
        ):
            found = walk(index + 1, value[part], (*path, part))
            if found is not None:
                return found
        if isinstance(part, str) and isinstance(value, dict):
            if part in value:
                found = walk(index + 1, value[part], (*path, part))
                if found is not None:
                    return found
            elif last and kind == "missing" and _same(value, reported):
                return (*path, part)
        if last and part == KEY_LABEL and path and reported == path[-1]:
            return path  # the key itself is wrong: its path is the key's
        if isinstance(part, str):  # a label of pydantic's: the value stays where it is
            return walk(index + 1, value, path)
        return None

    return walk(0, data, ())


def _same(value: Any, reported: Any) -> bool:
    """pydantic reports the very object it was given; a number or a string is compared by value (and type)."""
    return value is reported or (
        type(value) is type(reported) and not isinstance(value, dict | list) and value == reported
    )
