"""Scalars as the YAML 1.2 core schema defines them — for plain scalars and explicit tags alike.

A plain scalar's type follows from its text (``1e-5`` is a float, ``yes`` is a string); an explicit tag (``!!int``,
``!!float``, ``!!bool``, ``!!null``) asks for a type, and its text must then be one the core schema defines for it:
``!!bool "yes"`` and ``!!float "half"`` are errors, not false and a crash. Numbers are ASCII digits, as YAML 1.2 and
JSON write them: Python's ``int()`` and ``float()`` also take other scripts' digits (``'٣٢'``), full-width digits and
``_`` between digits, which would silently turn text into a different number than the file shows.

https://yaml.org/spec/1.2.2/#1032-tag-resolution
"""

from __future__ import annotations

import math
import re
import unicodedata

from archspec.user_text import cut, quoted

TAG = "tag:yaml.org,2002:"

# The core schema's forms (YAML 1.2.2, 10.3.2), each matched against the whole text (``re.fullmatch``).
BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
FLOAT = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
NULL = re.compile(r"~|null|Null|NULL|")
MERGE = re.compile(r"<<")

# What each tag's text may look like, for messages.
_FORMS = {
    "int": "ASCII digits with an optional sign, or 0o / 0x digits (e.g. 64, -1, 0x1F)",
    "float": "ASCII digits with an optional fraction and exponent, or .inf / .nan (e.g. 0.5, 1e-5)",
    "bool": "true, True, TRUE, false, False or FALSE",
    "null": "null, Null, NULL, ~ or nothing",
}
_PATTERNS = {"int": INT, "float": FLOAT, "bool": BOOL, "null": NULL}


class ScalarError(ValueError):
    """A scalar whose text is not of its tag's type (or is a number no spec can use)."""

    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.message, self.fix = message, fix


def construct(kind: str, text: str, max_digits: int) -> object:
    """The value of a scalar of core-schema type ``kind`` (``str``, ``int``, ``float``, ``bool``, ``null``).

    >>> construct("int", "0x1F", 30), construct("float", "1e-5", 30), construct("bool", "False", 30)
    (31, 1e-05, False)
    >>> try:
    ...     construct("bool", "yes", 30)
    ... except ScalarError as error:
    ...     print(error.fix)
    write true or false, or remove the tag '!!bool'
    """
    if kind == "str":
        return text
    pattern = _PATTERNS[kind]
    if not pattern.fullmatch(text):
        raise ScalarError(
            f"{quoted(text, 24)} is not a !!{kind}: YAML 1.2 writes one as {_FORMS[kind]}", _fix(kind, text)
        )
    if kind == "null":
        return None
    if kind == "bool":
        return text.lower() == "true"
    if kind == "int":
        digits = text.lstrip("+-")
        if len(digits.lstrip("0")) > max_digits:
            raise ScalarError(
                f"number {cut(text, 24)} is absurdly large ({len(digits)} digits)",
                f"write a number with at most {max_digits} digits",
            )
        return int(text, 0) if text.startswith(("0o", "0x")) else int(text)
    value = math.nan if "nan" in text.lower() or "inf" in text.lower() else float(text)
    if not math.isfinite(value):
        raise ScalarError(
            f"number {cut(text, 24)} is not finite (infinite, NaN or too large)",
            "write a finite number such as 0.5 or 1e-5",
        )
    return value


def ascii_digits(text: str) -> str | None:
    """``text`` with other scripts' and full-width digits written in ASCII, ``_`` between digits dropped and the
    ends stripped — what the writer most likely meant — or None where that changes nothing or leaves no digit.

    >>> ascii_digits("٣٢"), ascii_digits("1_6"), ascii_digits("１,32"), ascii_digits(" 3"), ascii_digits("16")
    ('32', '16', '1,32', '3', None)
    """
    mapped = "".join(
        str(unicodedata.decimal(char)) if not char.isascii() and unicodedata.decimal(char, None) is not None else char
        for char in text
    )
    mapped = re.sub(r"(?<=[0-9])_(?=[0-9])", "", mapped).strip()
    return mapped if mapped != text and re.search(r"[0-9]", mapped) and mapped.isascii() else None


def is_number_text(text: str) -> bool:
    """Whether ``text`` is a number YAML 1.2 would read from a plain scalar (a finite one).

    >>> is_number_text("64"), is_number_text("1e-5"), is_number_text("٣"), is_number_text(".nan"), is_number_text("1_0")
    (True, True, False, False, False)
    """
    return bool(INT.fullmatch(text) or FLOAT.fullmatch(text)) and not re.search(r"inf|nan", text, re.IGNORECASE)


def _fix(kind: str, text: str) -> str:
    written = ascii_digits(text)
    if kind in ("int", "float") and written is not None and _PATTERNS[kind].fullmatch(written):
        return f"write {written} (numbers are ASCII digits 0-9, without '_')"
    if kind == "int" and FLOAT.fullmatch(text) and not INT.fullmatch(text):
        return "write a whole number, or tag it !!float (or remove the tag)"
    examples = {"int": "64", "float": "0.5", "bool": "true or false", "null": "null"}
    return f"write {examples[kind]}, or remove the tag '!!{kind}'"
