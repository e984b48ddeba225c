"""The values of a spec as expansion reads them: params, expressions and arguments evaluated in a frame's scope,
and arguments validated by their op's model; a fault becomes a located diagnostic."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from archspec.ir.frame import Frame
from archspec.ir.locating import Locator
from archspec.spec.expressions import ExpressionError, evaluate_value, has_expression, is_expression
from archspec.spec.model import MAX_DIMENSION, Item
from archspec.user_text import describe_value

Scope = dict[str, Any]


class Evaluator:
    """Evaluates and validates the values of ``locator.spec``.

    Arguments that hold no expression are validated once per item (by identity: items live as long as the
    spec): they are the same for every copy of a repeat and every input."""

    def __init__(self, locator: Locator):
        self.locator = locator
        self.fail = locator.fail
        self.literal_args: dict[tuple[int, bool], Any] = {}

    def global_scope(self, frame: Frame) -> Scope:
        scope: Scope = {}
        for key, value in self.locator.spec.params.items():
            scope[key] = self.evaluate(value, frame.child(scope=scope), ("params", key))
        return scope

    def evaluate(self, value: Any, frame: Frame, path: tuple[Any, ...]) -> Any:
        try:
            result = evaluate_value(value, frame.scope)
        except ExpressionError as exc:
            raise self.fail(frame, path, exc.message, exc.fix, culprit=value) from None
        return _integral(result) if is_expression(value) else result

    def input_size(self, value: Any, key: str, frame: Frame) -> int:
        """A size of a token input (``tokens``, ``vocab``): an int, or an expression of the params giving one."""
        size = self.evaluate(value, frame, ("input", key))
        if not (isinstance(size, int) and not isinstance(size, bool) and 1 <= size <= MAX_DIMENSION):
            raise self.fail(
                frame,
                ("input", key),
                f"input {key} must be a whole number from 1 to {MAX_DIMENSION:,}, got {describe_value(size)}",
                f"give {key} as a number of {'positions' if key == 'tokens' else 'token values'} (e.g. {key}: 64)",
                culprit=value,
            )
        return size

    def evaluate_args(self, raw: dict[str, Any], frame: Frame, path: tuple[Any, ...]) -> dict[str, Any]:
        return {key: self.evaluate(value, frame, (*path, key)) for key, value in raw.items()}

    def arguments(self, model: type[BaseModel], raw: dict[str, Any], item: Item, frame: Frame, use_first: bool) -> Any:
        key = (id(item), use_first)
        known = self.literal_args.get(key)
        if known is not None:
            return known
        values = self.evaluate_args(raw, frame, item.op_path)
        try:
            args = model.model_validate(values)
        except ValidationError as exc:
            # The error path's modules (wording tables, worked examples) load only when arguments are invalid.
            from archspec.spec.bounded_errors import bounded_diagnostics

            first = bounded_diagnostics(exc, model, item.op_path, frame.owner.source, values)[0][0]
            argument = first.path[len(item.op_path)] if len(first.path) > len(item.op_path) else None
            culprit = raw.get(argument, raw)
            raise self.fail(frame, first.path, first.message, first.fix, culprit=culprit) from None
        if not has_expression(raw):
            self.literal_args[key] = args  # the same for every copy and every input: validate once
        return args


def _integral(value: Any) -> Any:
    """Expressions may compute whole numbers as floats (``${c / 2}``); keep them whole."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value
