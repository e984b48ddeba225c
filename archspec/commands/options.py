"""The values of command-line options: argparse types for numbers, ``--input``, ``--set``, and the usage checks
made before any spec is read (a usage error exits with status 2)."""

from __future__ import annotations

import argparse
import re
from typing import Any

from archspec.commands.shared import UsageError
from archspec.errors import SpecError
from archspec.loading.core_schema import INT, ascii_digits
from archspec.user_text import cut, file_name, quoted


def check_analysis_options(args: argparse.Namespace) -> None:
    """Usage errors in the shared options, found before any spec is read (or anything slow runs)."""
    from archspec.spec.model import MAX_DIMENSION

    if not 1 <= args.batch <= MAX_DIMENSION:
        raise UsageError(f"--batch must be from 1 to {MAX_DIMENSION:,} (a size, like every size), got {args.batch}")
    if args.depth is not None:
        if args.depth < 0:
            raise UsageError(f"--depth must be >= 0 (0: totals only), got {args.depth}")
        if args.format == "json":
            raise UsageError("--depth applies to the table and markdown formats; the JSON report lists every module")


def check_writable(option: str, path: str) -> None:
    """A file that ``option`` is to write must be creatable: say so now rather than after compiling."""
    from archspec.outputs import OutputError, check_writable

    try:
        check_writable(path)
    except OutputError as error:
        raise UsageError(f"{option} {file_name(path)}: {error}") from None


def write_failed(option: str, path: str, error: OSError) -> UsageError:
    from archspec.outputs import OutputError

    reason = str(error) if isinstance(error, OutputError) else f"cannot write the file: {error.strerror or error}"
    return UsageError(f"{option} {file_name(path)}: {reason}")


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    from archspec.loading.yaml_loader import load_text

    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--set expects KEY=VALUE, got {quoted(pair)}")
        try:
            overrides[key.strip()] = load_text(text, "--set").data if text.strip() else None
        except SpecError as error:
            first = error.diagnostics[0]
            if first.message.startswith("YAML syntax"):
                raise UsageError(f"--set {cut(key)}: the value is not valid YAML ({first.message})") from None
            raise UsageError(f"--set {cut(key)}: {first.message}" + (f" — {first.fix}" if first.fix else "")) from None
    return overrides


def input_shape(text: str | None) -> list[int] | None:
    from archspec.spec.model import MAX_DIMENSION

    if text is None:
        return None
    parts = [part.strip() for part in text.replace("x", ",").split(",") if part.strip()]
    if not all(_DIGITS.fullmatch(part) for part in parts):
        written = ascii_digits(text)
        fits = written is not None and _ASCII_INPUT.fullmatch(written)
        hint = f" (numbers are ASCII digits 0-9: write {written})" if fits else ""
        raise UsageError(f"--input expects numbers like 3,224,224, got {quoted(text)}{hint}")
    values = [int(part) for part in parts]
    if not values:
        raise UsageError("--input is empty")
    if not all(1 <= value <= MAX_DIMENSION for value in values):
        raise UsageError(f"--input sizes must be from 1 to {MAX_DIMENSION:,}, got {quoted(text)}")
    return values


# Python's int() also reads other scripts' digits, full-width digits and '_' between digits ('１', '1_6'): numbers on
# the command line are ASCII digits, as in a spec.
_DIGITS = re.compile(r"[0-9]+")
_ASCII_INPUT = re.compile(r"[0-9]+(?:\s*[,x]\s*[0-9]+)*")


def whole_number(text: str) -> int:
    """argparse type for whole numbers written in ASCII digits (with an optional sign); a bad value is a usage
    error (exit 2) with argparse's own message."""
    stripped = text.strip()
    if not _DIGITS.fullmatch(stripped.removeprefix("-").removeprefix("+")):
        written = ascii_digits(text)
        hint = f" (numbers are ASCII digits 0-9: write {written})" if written and INT.fullmatch(written) else ""
        raise argparse.ArgumentTypeError(f"expected a whole number, got {quoted(text)}{hint}")
    return int(stripped)


def positive_int(text: str) -> int:
    """argparse type for counts: a bad value is a usage error (exit 2) with argparse's own message."""
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value
