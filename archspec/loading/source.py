"""A loaded document: plain Python data plus the source position of every value and key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archspec.errors import Diagnostic, Location, SpecPath


@dataclass
class SourceMap:
    """Maps spec paths to where their values (and, for mapping entries, keys) start in the file."""

    file: str
    values: dict[SpecPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[SpecPath, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: SpecPath, key: bool = False) -> Location:
        """The position of ``path``, or of its nearest ancestor that has one."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                line, column = table[probe]
                return Location(self.file, line, column)
            if probe in self.values:
                line, column = self.values[probe]
                return Location(self.file, line, column)
            probe = probe[:-1]
        line, column = self.values.get((), (1, 1))
        return Location(self.file, line, column)

    def diagnostic(self, path: SpecPath, message: str, fix: str | None = None, key: bool = False) -> Diagnostic:
        return Diagnostic(message=message, path=tuple(path), location=self.locate(path, key), fix=fix)


@dataclass
class Document:
    """What the loader hands to validation."""

    data: Any
    source: SourceMap
    text: str
