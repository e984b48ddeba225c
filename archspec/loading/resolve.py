"""Find a spec's text: a file path, a bundled spec's name, or an in-memory mapping."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

from archspec.errors import Diagnostic, Location, SpecError, did_you_mean
from archspec.loading.source import Document
from archspec.loading.yaml_loader import LoadLimits, load_data, load_text

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def bundled_specs() -> dict[str, str]:
    """Bundled spec name → its text's resource path."""
    folder = resources.files("archspec.specs")
    return {entry.name.rsplit(".", 1)[0]: entry.name for entry in folder.iterdir()
            if entry.name.endswith(SPEC_SUFFIXES)}


def load_document(source: str | os.PathLike[str] | dict[str, Any], limits: LoadLimits | None = None) -> Document:
    """Read and parse a spec from a path, a bundled name or a dict.

    Raises:
        SpecError: when the file is missing, unreadable or not valid YAML/JSON.
    """
    if isinstance(source, dict):
        return load_data(source, "<dict>", limits)
    if not isinstance(source, str | os.PathLike):
        raise SpecError([Diagnostic(f"a spec is a path, a bundled spec's name or a dict, got a value of type "
                                    f"'{type(source).__name__}'", (), Location("<spec>", 1, 1),
                                    "pass archspec.load a file path, e.g. 'specs/resnet18.yaml', or a dict")])
    path = Path(source)
    if path.exists() and not path.is_dir():
        return load_text(_read_bounded(path, str(source), limits or LoadLimits()), str(source), limits)
    name = str(source)
    bundled = bundled_specs()
    if name in bundled:
        text = resources.files("archspec.specs").joinpath(bundled[name]).read_text(encoding="utf-8")
        return load_text(text, f"<archspec>/specs/{bundled[name]}", limits)
    fix = did_you_mean(name, bundled) or f"bundled specs: {', '.join(sorted(bundled))}"
    raise SpecError([Diagnostic(f"no such file or bundled spec: {name!r}", (), None, fix)])


def _read_bounded(path: Path, file: str, limits: LoadLimits) -> str:
    """The file's text, reading at most one byte past the size cap (a huge file or a device costs nothing)."""
    try:
        with path.open("rb") as stream:
            data = stream.read(limits.max_bytes + 1)
    except OSError as exc:
        raise SpecError([Diagnostic(f"cannot read the file: {exc.strerror or exc}", (), Location(file, 1, 1),
                                    "check the path and its permissions")]) from None
    if len(data) > limits.max_bytes:
        raise SpecError([Diagnostic(f"the file is larger than the {limits.max_bytes:,}-byte cap", (),
                                    Location(file, 1, 1), "a spec is small text; use 'repeat' and blocks "
                                    "instead of writing layers out (or raise LoadLimits.max_bytes)")])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError([Diagnostic(f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x})", (),
                                    Location(file, line, column), "save the spec as UTF-8")]) from None
