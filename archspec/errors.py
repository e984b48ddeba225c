"""Diagnostics: every problem in a spec is reported as ``FILE:LINE:COL: error: PATH: what — fix``.

All stages raise :class:`SpecError`, a ``ValueError`` that carries every diagnostic found, so the CLI and
the Python API report the same complete list and never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from archspec.user_text import cut, escaped, file_name, quoted

SpecPath = tuple[str | int, ...]
_MAX_SHOWN_PARTS = 10  # longer paths (runaway nesting) are shortened in messages
# A file with 100,000 broken lines gets the first errors and a count, not 100,000 lines: fixing the first
# few usually fixes the rest, and printing (or computing fixes for) all of them costs seconds.
MAX_SHOWN_DIAGNOSTICS = 50


def format_spec_path(path: SpecPath) -> str:
    """Render a path the way users read it.

    >>> format_spec_path(("layers", 4, "residual", "out"))
    'layers[4].residual.out'
    >>> format_spec_path(())
    '<spec>'
    >>> format_spec_path(("layers", 0, "conv", *[0] * 100))
    'layers[0].conv[0][0][0][0][0]…[0] (103 levels)'

    A key that is not a plain name is quoted, so that the path reads unambiguously whatever the key's text; keys
    are user text, each escaped and cut (the message quoting it gives its length):

    >>> format_spec_path(("blocks", "x[1]", "layers")), format_spec_path(("a.b",)), format_spec_path(("p", "a\\n"))
    ('blocks["x[1]"].layers', '["a.b"]', 'p["a\\\\n"]')
    """
    if len(path) > _MAX_SHOWN_PARTS:
        last = path[-1]
        tail = f"[{last}]" if isinstance(last, int) else _key_text(str(last), first=False)
        return f"{format_spec_path(path[: _MAX_SHOWN_PARTS - 2])}…{tail} ({len(path)} levels)"
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else _key_text(str(part), first=not text)
    return text or "<spec>"


def _key_text(key: str, first: bool) -> str:
    """``.name`` (``name`` first), or ``["a key"]`` for one that is not letters, digits and '_'."""
    if key and all(char.isascii() and (char.isalnum() or char == "_") for char in key):
        return cut(key) if first else f".{cut(key)}"
    return '["' + cut(key).replace('"', '\\"') + '"]'


@dataclass(frozen=True)
class Location:
    """Where a value stands in its source text (1-based line and column); without them, the file as a whole
    (one that is missing, or is not a spec at all).

    >>> str(Location("net.yaml", 3, 7)), str(Location("nosuch"))
    ('net.yaml:3:7', 'nosuch')
    """

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}:{self.column}"

    def shown(self) -> str:
        """As a message shows it: the file name escaped, and cut only past any real path's length; ``str()``
        keeps it exact (the JSON report's ``source``)."""
        return str(Location(file_name(self.file), self.line, self.column))


@dataclass(frozen=True)
class Diagnostic:
    """One problem: where it is, which spec item, what is wrong and how to fix it."""

    message: str
    path: SpecPath = ()
    location: Location | None = None
    fix: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        """``FILE:LINE:COL: error: PATH: what — fix``; about a whole file: ``FILE: error: what — fix``.

        One line, whatever user text the message quotes: control characters are escaped here, once for every
        message (quoting helpers shorten what they quote)."""
        where = f"{self.location.shown()}: " if self.location else ""
        about_whole_file = self.location is not None and self.location.line is None and not self.path
        spec_path = "" if about_whole_file else f"{format_spec_path(self.path)}: "
        text = f"{where}{self.severity}: {spec_path}{self.message}"
        if self.fix:
            text += f" — {self.fix}"
        return escaped(text)


class SpecError(ValueError):
    """A spec is invalid. ``diagnostics`` holds every independent problem found, in source order.

    The message shows the first :data:`MAX_SHOWN_DIAGNOSTICS` of them, then one located line counting the
    rest — with ``omitted``, the problems a stage counted but did not describe (it stops describing a
    runaway file's errors early, so that rejecting it stays cheap).
    """

    def __init__(self, diagnostics: Sequence[Diagnostic], omitted: int = 0):
        self.diagnostics = sorted(diagnostics, key=_source_order)
        self.omitted = omitted
        shown = self.diagnostics[:MAX_SHOWN_DIAGNOSTICS]
        lines = [str(d) for d in shown]
        hidden = len(self.diagnostics) - len(shown) + omitted
        if hidden > 0:
            lines.append(str(_more_errors(hidden, self.diagnostics[len(shown) - 1] if shown else None)))
        super().__init__("\n".join(lines))


def _more_errors(count: int, last_shown: Diagnostic | None) -> Diagnostic:
    """The closing line of a long report, in the same ``FILE:LINE:COL: error:`` form as the others."""
    return Diagnostic(
        f"... and {count:,} more error{'s' if count != 1 else ''}",
        location=last_shown.location if last_shown else None,
        fix="fix the ones above and check the spec again to see the rest",
    )


class OpError(Exception):
    """Raised inside an op's rules; the expander attaches the spec path and source location.

    ``argument`` names the offending argument so the location can point at it precisely.
    """

    def __init__(self, message: str, fix: str | None = None, argument: str | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.argument = argument


def _source_order(diagnostic: Diagnostic) -> tuple[str, int, int]:
    loc = diagnostic.location
    return (loc.file, loc.line or 0, loc.column or 0) if loc else ("", 0, 0)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """Suggest the closest known name, as a fix text, or None.

    >>> did_you_mean("reul", ["relu", "gelu", "conv"])
    "did you mean 'relu'?"
    """
    return _closest(word, tuple(sorted(choices)))


@lru_cache(maxsize=4096)
def _closest(word: str, choices: tuple[str, ...]) -> str | None:
    """Memoised: a file that misspells one name 100,000 times pays for one difflib search, not 100,000."""
    import difflib  # only for a misspelt name: a valid spec's check never needs it

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean {quoted(close[0])}?" if close else None
