"""Describing a pydantic error with a bounded cost, for validation and for expansion (which validates op
arguments once their expressions are evaluated): the first errors are described, the rest only counted."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from archspec.errors import MAX_SHOWN_DIAGNOSTICS, Diagnostic, SpecPath
from archspec.loading.source import SourceMap
from archspec.spec.pydantic_errors import NO_DATA, diagnostics_from, spec_loc

# Past this many pydantic errors in one validation, the rest are counted, not described: describing one
# costs a did-you-mean search, and grouping a union's errors compares each error with all the others.
MAX_DESCRIBED_ERRORS = 4 * MAX_SHOWN_DIAGNOSTICS


class FirstErrors:
    """Stands in for a ValidationError with only its first entries (``diagnostics_from`` reads ``errors()``)."""

    def __init__(self, entries: list[Any]):
        self._entries = entries

    def errors(self) -> list[Any]:
        return self._entries


def bounded_diagnostics(
    error: ValidationError, model: Any, base: SpecPath, source: SourceMap, data: Any = NO_DATA
) -> tuple[list[Diagnostic], int]:
    """``diagnostics_from`` on at most :data:`MAX_DESCRIBED_ERRORS` entries, and how many problems (distinct
    spec paths) the rest hold — so that 100,000 bad keys cost milliseconds and still get counted. ``data``: what
    was validated, to place each error at its real key path."""
    entries = error.errors()
    if len(entries) <= MAX_DESCRIBED_ERRORS:
        return diagnostics_from(error, model, base, source, data), 0
    kept, rest = entries[:MAX_DESCRIBED_ERRORS], entries[MAX_DESCRIBED_ERRORS:]
    diagnostics = diagnostics_from(FirstErrors(kept), model, base, source, data)  # type: ignore[arg-type]
    described = {diagnostic.path for diagnostic in diagnostics}
    omitted = {path for path in ((*base, *spec_loc(e, data)) for e in rest) if path not in described}
    return diagnostics, len(omitted)
