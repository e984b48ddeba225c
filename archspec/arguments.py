"""Checking the arguments of archspec's Python API, in one place.

Every public function checks each of its arguments here before doing any work, so a misuse fails at once
with an :class:`ArgumentError` that names the function, the argument, what was given and what is accepted —
never a ``TypeError`` from deep inside, a truthiness test that reads ``'no'`` as true, or a silent change.
Values are described without ``repr`` of arbitrary objects (a 5,000-digit int cannot be printed at all).

>>> Arguments("analyze").count("batch", 0, maximum=8)
Traceback (most recent call last):
...
archspec.arguments.ArgumentError: archspec.analyze: error: batch: expected an int from 1 to 8, got 0 — pass e.g. batch=1
"""

from __future__ import annotations

import math
import operator
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

from archspec.errors import Diagnostic, Location, SpecError, SpecPath
from archspec.user_text import escaped, quoted, shortened

# Shown in messages: longer strings are cut (a 5,000-character "path" is a mistake, not a name to echo).
_SHOWN_CHARACTERS = 60
_SHOWN_DIGITS = 30  # longer ints are described by their number of digits (Python refuses to print > 4,300)
MAX_SPATIAL_DIMS = 3  # [C, *spatial]: 1-D, 2-D or 3-D networks


class ArgumentError(SpecError):
    """A misused argument of archspec's Python API: a value of the wrong type, or out of range.

    A :class:`~archspec.errors.SpecError` (and so a ``ValueError``), so that one ``except archspec.SpecError``
    catches every bad input. ``function`` names the function (``"analyze"``) and ``argument`` the argument
    (``"batch"``); the message says what was given and what is accepted.
    """

    def __init__(
        self,
        function: str,
        argument: str,
        message: str,
        fix: str | None = None,
        location: Location | None = None,
        path: SpecPath | None = None,
    ):
        self.function = function
        self.argument = argument
        super().__init__(
            [
                Diagnostic(
                    message, (argument,) if path is None else path, location or Location(f"archspec.{function}"), fix
                )
            ]
        )


def describe(value: Any) -> str:
    """A short, always printable description of any value given as an argument.

    >>> describe(True), describe(-5), describe(3.0), describe("x=1"), describe([])
    ('True', '-5', '3.0 (a float)', "'x=1' (a str)", 'a list')
    >>> describe(10 ** 5000)
    'an int of 5,001 digits'
    >>> describe("a" * 5000)[-34:]
    "aaaa…' (a str of 5,000 characters)"
    """
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        digits = _digits(int(value))
        return int.__repr__(value) if digits <= _SHOWN_DIGITS else f"an int of {digits:,} digits"
    if isinstance(value, float):
        return f"{float.__repr__(value)} (a float)"
    if isinstance(value, str):
        if len(value) <= _SHOWN_CHARACTERS:
            return f"{escaped(str.__repr__(value))} (a str)"
        return f"{escaped(str.__repr__(value[:_SHOWN_CHARACTERS]))[:-1]}…' (a str of {len(value):,} characters)"
    if isinstance(value, bytes | bytearray):
        return f"{shortened(repr(bytes(value)), _SHOWN_CHARACTERS)} (bytes)"
    return _a(type(value).__name__)


def _digits(number: int) -> int:
    """The decimal digits of ``number``, without converting it to text (refused beyond 4,300 digits)."""
    magnitude = abs(number)
    if magnitude == 0:
        return 1
    estimate = int(magnitude.bit_length() * math.log10(2)) + 1  # exact or one too many
    return estimate - 1 if magnitude < 10 ** (estimate - 1) else estimate


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


class Arguments:
    """The checks for the arguments of one public function (named in every message it raises)."""

    def __init__(self, function: str):
        self.function = function

    def fail(self, argument: str, message: str, fix: str | None = None, path: SpecPath | None = None) -> ArgumentError:
        """The error about ``argument``; ``path`` points inside it (``("input_shape", 1)``)."""
        return ArgumentError(self.function, argument, message, fix, path=path)

    def fail_at(
        self, argument: str, message: str, fix: str | None, location: Location | None, path: SpecPath
    ) -> ArgumentError:
        """The error about ``argument`` where it disagrees with the spec: located at the spec's ``path``."""
        return ArgumentError(self.function, argument, message, fix, location, path)

    def flag(self, argument: str, value: Any) -> bool:
        """A bool, and only a bool: ``'no'``, ``0`` or ``None`` are not read by their truthiness."""
        if isinstance(value, bool):
            return value
        raise self.fail(
            argument, f"expected True or False, got {describe(value)}", f"pass {argument}=True or {argument}=False"
        )

    def count(self, argument: str, value: Any, minimum: int = 1, maximum: int | None = None, example: int = 1) -> int:
        """A whole number from ``minimum`` to ``maximum``: an int (or a numpy-style integer with ``__index__``),
        not a bool, not a float — even a whole one — and not text."""

        def in_range(number: int | None) -> bool:
            return number is not None and minimum <= number and (maximum is None or number <= maximum)

        number = self._integer(value)
        if number is not None and in_range(number):
            return number
        accepted = f"an int from {minimum:,} to {maximum:,}" if maximum is not None else f"an int >= {minimum:,}"
        meant = int(value) if isinstance(value, float) and value.is_integer() else None
        fix = f"write {meant}, an int" if in_range(meant) else f"pass e.g. {argument}={example:_}"
        raise self.fail(argument, f"expected {accepted}, got {describe(value)}", fix)

    def shape(self, argument: str, value: Any, maximum: int, batched: bool = False) -> tuple[int, ...] | None:
        """None, or ``[C, *spatial]``: a list or tuple of 1 to 4 ints, each from 1 to ``maximum``; ``batched``:
        ``[N, C, *spatial]``, 2 to 5 of them (torchinfo's ``input_size``)."""
        if value is None:
            return None
        first = int(batched)
        accepted = (
            f"[{'N, ' if batched else ''}C, *spatial] with 0 to {MAX_SPATIAL_DIMS} spatial dims (a list or tuple "
            "of ints)"
        )
        example = f"pass e.g. {argument}=[{'1, ' if batched else ''}3, 224, 224]"
        if isinstance(value, str | bytes | bytearray) or not isinstance(value, Sequence):
            raise self.fail(argument, f"expected {accepted} or None, got {describe(value)}", example)
        if not 1 + first <= len(value) <= MAX_SPATIAL_DIMS + 1 + first:
            raise self.fail(argument, f"expected {accepted}, got {len(value)} dims", example)
        sizes = []
        for index, size in enumerate(value):
            number = self._integer(size)
            if number is None or not 1 <= number <= maximum:
                raise self.fail(
                    argument,
                    f"expected an int from 1 to {maximum:,}, got {describe(size)}",
                    "every size is a whole number >= 1",
                    path=(argument, index),
                )
            sizes.append(number)
        return tuple(sizes)

    def overrides(self, argument: str, value: Any) -> dict[str, Any]:
        """None (no overrides) or a dict of param names (strings) to values; the values are spec data,
        checked where the params are (with their location in the spec)."""
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(
                argument,
                f"expected a dict of param names to values, or None, got {describe(value)}",
                f"pass e.g. {argument}={{'num_classes': 10}}",
            )
        for key in value:
            if not isinstance(key, str):
                raise self.fail(
                    argument,
                    f"keys are param names (strings), got the key {describe(key)}",
                    f"pass e.g. {argument}={{'num_classes': 10}}",
                )
        return dict(value)

    def instance(self, argument: str, value: Any, kind: type, import_hint: str) -> Any:
        """None or an instance of ``kind`` (a frozen dataclass of positive int caps, such as ``LoadLimits``),
        each of whose fields is checked too."""
        if value is None:
            return None
        if not isinstance(value, kind):
            raise self.fail(
                argument,
                f"expected {_a(kind.__name__)} or None, got {describe(value)}",
                f"pass e.g. {argument}={kind.__name__}() ({import_hint})",
            )
        for cap in fields(value):
            field_value = getattr(value, cap.name)
            if self._integer(field_value) is None or self._integer(field_value) < 1:
                raise self.fail(
                    argument,
                    f"expected an int >= 1, got {describe(field_value)}",
                    f"pass e.g. {kind.__name__}({cap.name}={cap.default})",
                    path=(argument, cap.name),
                )
        return value

    def path(
        self, argument: str, value: Any, also: str = "", example: str = "specs/resnet18.yaml"
    ) -> str | os.PathLike[str]:
        """A file path (or a bundled spec's name): a non-empty ``str`` or ``os.PathLike`` of ``str``, without NUL
        characters. ``also`` names the other kinds of value the argument takes, for the message."""
        accepted = f"a file path{also}"
        fix = f"pass e.g. {argument}={example!r}"
        if not isinstance(value, str | os.PathLike):
            raise self.fail(argument, f"expected {accepted}, got {describe(value)}", fix)
        try:
            text = os.fspath(value)
        except TypeError as error:
            raise self.fail(argument, f"expected {accepted}, got {describe(value)} ({error})", fix) from None
        if not isinstance(text, str):
            raise self.fail(
                argument, f"expected {accepted}, got a path of {describe(text)}", "decode it: os.fsdecode(path)"
            )
        if not text:
            raise self.fail(
                argument, "is an empty string: it names no file (and is not read as the current directory)", fix
            )
        if "\0" in text:
            raise self.fail(
                argument,
                f"{quoted(text, _SHOWN_CHARACTERS)} holds a NUL character, which no file name can",
                "remove it",
            )
        return value

    def torch_module(self, argument: str, value: Any, or_state_dict: bool = False) -> Any:
        """A ``torch.nn.Module`` (or, with ``or_state_dict``, a mapping such as a state dict).

        Read without importing torch: torch is in ``sys.modules`` whenever a module exists, so where it is not,
        nothing given can be one."""
        torch = sys.modules.get("torch")
        is_module = torch is not None and isinstance(value, torch.nn.Module)
        if is_module or (or_state_dict and isinstance(value, Mapping)):
            return value
        accepted = "a torch.nn.Module or a state dict" if or_state_dict else "a torch.nn.Module"
        raise self.fail(
            argument,
            f"expected {accepted}, got {describe(value)}",
            "pass e.g. archspec.compile(spec)" + (" or model.state_dict()" if or_state_dict else ""),
        )

    @staticmethod
    def _integer(value: Any) -> int | None:
        """``value`` as an int when it is one (bools excluded: ``True`` is not a size), else None."""
        if isinstance(value, bool):
            return None
        try:
            return operator.index(value)
        except TypeError:
            return None
