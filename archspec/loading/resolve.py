"""Find a spec's text: a file path, a bundled spec's name, or an in-memory mapping; and the bundled block
library's files, read and parsed but not validated.

Validation needs only the names the block library defines (a spec's block may not take a built-in block's name
by accident), and validating the library needs validation: reading its files here, below both, lets
``archspec.spec.validate`` ask for the names and ``archspec.blocks.library`` validate the blocks, with no import
pointing back up.
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from typing import Any, BinaryIO

from archspec.errors import Diagnostic, Location, SpecError, did_you_mean
from archspec.loading.archive import ZIP_SIGNATURE, is_checkpoint_stream
from archspec.loading.inputs import SPEC_SUFFIXES, open_regular_file, path_error
from archspec.loading.load_limits import too_large
from archspec.loading.python_data import load_data
from archspec.loading.source import Document
from archspec.loading.yaml_loader import LoadLimits, load_text
from archspec.user_text import file_name, quoted

BLOCKS_PACKAGE = "archspec.blocks"


@cache
def block_documents() -> tuple[Document, ...]:
    """Every library file, parsed, in file-name order (read once per process, and only when asked for)."""
    entries = sorted(resources.files(BLOCKS_PACKAGE).iterdir(), key=lambda entry: entry.name)
    return tuple(
        load_text(entry.read_text(encoding="utf-8"), f"<archspec>/blocks/{entry.name}")
        for entry in entries
        if entry.name.endswith(".yaml")
    )


def builtin_block_names() -> set[str]:
    """The names of the built-in blocks (what every spec can use by name)."""
    names: set[str] = set()
    for document in block_documents():
        blocks = document.data.get("blocks") if isinstance(document.data, dict) else None
        names.update(str(name) for name in blocks or {})
    return names


def bundled_specs() -> dict[str, str]:
    """Bundled spec name → its text's resource path."""
    folder = resources.files("archspec.specs")
    return {
        entry.name.rsplit(".", 1)[0]: entry.name for entry in folder.iterdir() if entry.name.endswith(SPEC_SUFFIXES)
    }


def load_document(source: str | os.PathLike[str] | dict[str, Any], limits: LoadLimits | None = None) -> Document:
    """Read and parse a spec from a path, a bundled name or a dict.

    Raises:
        SpecError: when the file is missing, unreadable, not text (an archspec checkpoint, say) or not valid
            YAML/JSON.
    """
    if isinstance(source, dict):
        return load_data(source, "<dict>", limits)
    if not isinstance(source, str | os.PathLike):
        raise SpecError(
            [
                Diagnostic(
                    f"a spec is a path, a bundled spec's name or a dict, got a value of type '{type(source).__name__}'",
                    (),
                    Location("<spec>", 1, 1),
                    "pass archspec.load a file path, e.g. 'specs/resnet18.yaml', or a dict",
                )
            ]
        )
    stream = open_regular_file(source)
    if stream is not None:
        with stream:
            try:
                return load_stream(stream, str(source), limits)
            except OSError as exc:
                raise path_error(str(source), exc) from None
    name = str(source)
    bundled = bundled_specs()
    if name in bundled:
        text = resources.files("archspec.specs").joinpath(bundled[name]).read_text(encoding="utf-8")
        return load_text(text, f"<archspec>/specs/{bundled[name]}", limits)
    fix = did_you_mean(name, bundled) or f"bundled specs: {', '.join(sorted(bundled))}"
    raise SpecError([Diagnostic(f"no such file or bundled spec {quoted(name)}", (), Location(name), fix)])


def load_stream(stream: BinaryIO, file: str, limits: LoadLimits | None = None) -> Document:
    """Parse a spec from an open binary stream (a file, or standard input as ``<stdin>``), reading at most one
    byte past the size cap, so that a huge file or a device costs nothing."""
    limits = limits or LoadLimits()
    data = stream.read(limits.max_bytes + 1)
    if data.startswith(ZIP_SIGNATURE):
        raise SpecError([_not_a_spec(file, stream)])
    if len(data) > limits.max_bytes:
        raise too_large(file, limits)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError(
            [
                Diagnostic(
                    f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x})",
                    (),
                    Location(file, line, column),
                    "save the spec as UTF-8",
                )
            ]
        ) from None
    return load_text(text, file, limits)


def _not_a_spec(file: str, stream: BinaryIO) -> Diagnostic:
    """A zip archive where a spec was expected: say what it is and what reads it (a file is looked into at a
    bounded cost; standard input cannot be)."""
    if stream.seekable() and is_checkpoint_stream(stream):
        return Diagnostic(
            f"{file_name(file)} is an archspec checkpoint (written by 'archspec build --save'), not a spec",
            (),
            Location(file),
            f"'archspec build {file}' reports it and rebuilds the module; in Python, "
            f"archspec.load_checkpoint({file!r}) returns the module with its weights",
        )
    return Diagnostic(
        "the file is a zip archive (a torch.save file?), not a spec",
        (),
        Location(file),
        "give the YAML or JSON spec; archspec checkpoints load with archspec.load_checkpoint(path)",
    )
