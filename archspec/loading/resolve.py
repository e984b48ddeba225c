"""Find a spec's text: a file path, a bundled spec's name, or an in-memory mapping."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

from archspec.errors import Diagnostic, SpecError, did_you_mean
from archspec.loading.source import Document, SourceMap
from archspec.loading.yaml_loader import LoadLimits, load_text

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
        return Document(data=source, source=SourceMap("<dict>"), text=json.dumps(source, default=str))
    path = Path(source)
    if path.exists() and not path.is_dir():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError([Diagnostic(f"cannot read the file: {exc}", (), None, None)]) from None
        return load_text(text, str(source), limits)
    name = str(source)
    bundled = bundled_specs()
    if name in bundled:
        text = resources.files("archspec.specs").joinpath(bundled[name]).read_text(encoding="utf-8")
        return load_text(text, f"<archspec>/specs/{bundled[name]}", limits)
    fix = did_you_mean(name, bundled) or f"bundled specs: {', '.join(sorted(bundled))}"
    raise SpecError([Diagnostic(f"no such file or bundled spec: {name!r}", (), None, fix)])
