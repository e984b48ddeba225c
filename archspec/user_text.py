"""How text that comes from a user — a spec's keys, names and values, its ``doc``, a file name, a command-line
argument — is shown in messages and human-readable reports: escaped, and shortened.

Escaped, because a spec can hold any character through YAML's and JSON's escapes (``"\\e[2J"``,
``"\\u001b"``) and a file name any byte but ``/``: printed raw, an escape sequence reaches the terminal and
can clear it, recolour it, or make one text look like another (bidirectional overrides). Shortened, because a
spec may be a megabyte of one name, and an error that quotes it twice would print two megabytes. JSON output
keeps exact strings: JSON escapes control characters itself.

>>> quoted("reul")
"'reul'"
>>> quoted("relu" * 100_000, limit=8)
"'relurelu…' (400,000 characters)"
>>> escaped("\\x1b[31mred\\x1b[0m")
'\\\\x1b[31mred\\\\x1b[0m'
"""

from __future__ import annotations

import re
import reprlib
import unicodedata
from collections.abc import Iterable
from typing import Any

# Quoted user text keeps this many characters: every valid name whole (names are at most 100 characters),
# and enough of anything else to recognise it.
MAX_SHOWN_CHARACTERS = 100
# Lists of user names (known params, ids, block parameters) show this many, then count the rest.
MAX_SHOWN_NAMES = 12
# Linux's PATH_MAX: a file that can be opened has no longer name, so a location is cut only where it names
# no file (a mistyped 100,000-character argument).
MAX_FILE_NAME = 4096
# A value quoted inside a sentence ("got [3, 3] (list)") keeps this many characters.
MAX_SHOWN_VALUE = 40

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NOT_PLAIN_ASCII = re.compile(r"[^\x20-\x7e]")


def escaped(text: str, keep: str = "") -> str:
    """``text`` with every character that a terminal acts on or does not show written as a Python escape
    (``\\x1b``, ``\\n``, ``\\u202e``): control characters (C0, DEL, C1), format characters (bidirectional
    overrides, zero-width characters), line and paragraph separators, surrogates and private-use or unassigned
    code points. Printable text, spaces included, is unchanged; so are the characters in ``keep`` (Markdown
    keeps the line breaks of a ``doc``). Escaping escaped text changes nothing.

    >>> escaped("a\\tb\\u202ec d"), escaped("two\\nlines", keep="\\n")
    ('a\\\\tb\\\\u202ec d', 'two\\nlines')
    """
    if text.isprintable() or (keep and all(part.isprintable() for part in re.split(f"[{re.escape(keep)}]", text))):
        return text  # the common case, at C speed
    return _NOT_PLAIN_ASCII.sub(lambda match: _shown(match.group(), keep), text)


def _shown(character: str, keep: str) -> str:
    if character in keep or character.isprintable() or unicodedata.category(character) == "Zs":
        return character
    if character in _ESCAPES:
        return _ESCAPES[character]
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def cut(text: object, limit: int = MAX_SHOWN_CHARACTERS) -> str:
    """``text`` escaped, ending in ``…`` after ``limit`` characters (for paths and values whose length is
    said elsewhere).

    >>> cut("abcdef", 3)
    'abc…'
    """
    text = str(text)
    return escaped(text) if len(text) <= limit else f"{escaped(text[:limit])}…"


def shortened(text: object, limit: int = MAX_SHOWN_CHARACTERS) -> str:
    """``text`` escaped; past ``limit`` characters, its start, ``…`` and its length.

    >>> shortened("abcdef", 3)
    'abc… (6 characters)'
    """
    text = str(text)
    return escaped(text) if len(text) <= limit else f"{escaped(text[:limit])}… ({len(text):,} characters)"


def quoted(text: object, limit: int = MAX_SHOWN_CHARACTERS) -> str:
    """``'text'``, escaped; past ``limit`` characters, ``'start…'`` and the length after the quote.

    >>> quoted("abcdef", 3), quoted(7)
    ("'abc…' (6 characters)", "'7'")
    """
    text = str(text)
    if len(text) <= limit:
        return f"'{escaped(text)}'"
    return f"'{escaped(text[:limit])}…' ({len(text):,} characters)"


def listed(names: Iterable[object], limit: int = MAX_SHOWN_NAMES) -> str:
    """Names joined by commas, each shortened; past ``limit`` of them, the first ones and how many more.

    >>> listed(["a", "b"]), listed(map(str, range(20)), 3)
    ('a, b', '0, 1, 2, … (20 in all)')
    """
    names = list(names)
    shown = ", ".join(cut(name) for name in names[:limit])
    return shown if len(names) <= limit else f"{shown}, … ({len(names):,} in all)"


def file_name(text: object) -> str:
    """A file name as messages and reports show it: escaped, and cut only past :data:`MAX_FILE_NAME`."""
    return cut(text, MAX_FILE_NAME)


def value_text(value: Any, limit: int = MAX_SHOWN_VALUE) -> str:
    """A value or source text for a message, cut to ``limit`` characters: a string as it is, anything else as its
    ``repr``, and a huge integer in scientific form (or by its size) rather than digit by digit.

    >>> value_text("in.channels"), value_text([3, 3]), value_text(10**20), value_text(2**5000)
    ('in.channels', '[3, 3]', '1e+20', 'a number of 5001 bits')
    """
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        text = f"{float(value):.3g}" if value.bit_length() < 1000 else f"a number of {value.bit_length()} bits"
    else:
        text = value if isinstance(value, str) else repr(value)
    return cut(text, limit)


def describe_value(value: Any) -> str:
    """A value a message quotes, shortened, with its kind: ``'same' (string)``, ``[3, 3] (list)``.

    >>> describe_value("same"), describe_value([3, 3]), describe_value("x" * 50)
    ("'same' (string)", '[3, 3] (list)', "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…' (string of 50 characters)")
    """
    if isinstance(value, str) and len(value) > MAX_SHOWN_VALUE:
        return f"'{cut(value, MAX_SHOWN_VALUE)}' (string of {len(value):,} characters)"
    text = cut(repr(value), MAX_SHOWN_VALUE)
    kind = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "list",
        dict: "mapping",
        type(None): "null",
    }.get(type(value), type(value).__name__)
    return f"{text} ({kind})"


def bounded_repr(value: Any) -> str:
    """The ``repr`` of a value read from a file, built at a bounded cost (``reprlib`` stops early: a checkpoint
    may hold a list of a million entries).

    >>> bounded_repr(list(range(1000)))
    '[0, 1, 2, 3, 4, 5, ...]'
    """
    return reprlib.repr(value)
