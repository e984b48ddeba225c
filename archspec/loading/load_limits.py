"""The caps that keep hostile spec input cheap to reject, shared by text (:mod:`archspec.loading.yaml_loader`)
and in-memory data (:mod:`archspec.loading.python_data`)."""

from __future__ import annotations

from dataclasses import dataclass

from archspec.errors import Diagnostic, Location, SpecError


@dataclass(frozen=True)
class LoadLimits:
    """Caps that keep hostile input cheap to reject."""

    max_bytes: int = 1024 * 1024
    max_values: int = 200_000
    max_depth: int = 100
    max_digits: int = 30  # integers beyond ~10**30 are typos or attacks, never layer sizes


def too_large(file: str, limits: LoadLimits) -> SpecError:
    """The error for a file past ``limits.max_bytes`` (read as bytes, or given as text)."""
    return SpecError(
        [
            Diagnostic(
                f"the file is larger than the {limits.max_bytes:,}-byte cap",
                (),
                Location(file, 1, 1),
                "a spec is small text; use 'repeat' and blocks instead of writing layers out (or raise "
                "LoadLimits.max_bytes)",
            )
        ]
    )
