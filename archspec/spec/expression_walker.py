"""The whitelisted AST walker that evaluates one parsed spec expression (see :mod:`archspec.spec.expressions`).

Only numbers, booleans, strings, scope names, ``in.*``, the arithmetic and comparison operators, ``and / or /
not``, ``a if c else b``, lists and the functions in :data:`FUNCTIONS` are evaluated; every other construct is
refused with a message and a fix. Every value is kept below 2**62, and no operator or function is handed arguments
that make Python itself do unbounded work.

Strings are values to choose and compare (``act == 'hardswish'``, ``'relu6' if v2 else 'relu'``), not text to
compute: arithmetic on them is refused (it could build huge values, ``'x' * 10**9``), and so are ordering (``<``)
and ``min`` / ``max`` of them — alphabetical order is never what a spec means. ``==`` and ``!=`` compare any two
values as Python does, so a string equals no number (``padding == 'same'`` is false for ``padding: 1``): an
argument that may be a number or a word (conv's ``padding``) can be tested without a type check first.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from archspec.spec.expression_text import ExpressionError
from archspec.user_text import listed, quoted, value_text

_MAX_MAGNITUDE = 2**62

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_EQUALITY = (ast.Eq, ast.NotEq)
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": min,
    "max": max,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "abs": abs,
}
INPUT_FIELDS = ("channels", "spatial", "dims")
# `in` is a Python keyword, so `in.x` is rewritten to an attribute of a name no user can write (dunder names are
# refused) before parsing; the walker resolves it to the scope key `in.x`, apart from every param.
INPUT_NAMESPACE = "__in__"
_INPUT_FIX = "use in.channels, in.spatial or in.dims"


def _lookup(name: str, scope: Mapping[str, Any]) -> Any:
    if name.startswith("__"):
        raise ExpressionError(
            f"name {quoted(name)} is not allowed",
            "names starting with '__' are reserved; use a param declared under params",
        )
    if name in scope:
        return scope[name]
    from archspec.errors import did_you_mean

    known = [k for k in scope if not k.startswith("in.")]
    raise ExpressionError(
        f"unknown name {quoted(name)}",
        did_you_mean(name, known) or f"known names: {listed(sorted(known)) or 'none'}; declare it under params",
    )


def _lookup_input(field: str, scope: Mapping[str, Any]) -> Any:
    """``in.<field>``: the shape reaching the item, from its own namespace of the scope."""
    key = f"in.{field}"
    if field in INPUT_FIELDS and key in scope:
        return scope[key]
    from archspec.errors import did_you_mean

    if field in INPUT_FIELDS:  # a scope without an input (params are evaluated before any layer)
        raise ExpressionError(
            f"{key} is not known here: only layer arguments and block arguments see the input's shape",
            "compute it in the layer that needs it",
        )
    close = did_you_mean(key, [f"in.{known}" for known in INPUT_FIELDS])
    raise ExpressionError(f"unknown name {quoted(key)}", f"{close} ({_INPUT_FIX})" if close else _INPUT_FIX)


def _source_text(node: ast.AST) -> str:
    """The user's text of a node (``in.spatial[0]``, not the rewritten ``__in__.spatial[0]``)."""
    return ast.unparse(node).replace(INPUT_NAMESPACE + ".", "in.")


@functools.cache
def _max_round_digits() -> int:
    """``round(n, -d)`` of an integer computes ``10 ** d``: allow the digits whose power stays in range."""
    digits = 0
    while not _too_large_power(10, digits + 1):
        digits += 1
    return digits


def _check_call(function: str, args: list[Any]) -> None:
    """Refuse strings (``max('relu', 'gelu')`` would order them alphabetically) and arguments that would make a
    function do unbounded work (the ``**`` bound applied to the power of ten ``round`` computes)."""
    text = next((arg for arg in _flattened(args) if isinstance(arg, str)), None)
    if text is not None:
        raise ExpressionError(
            f"{function}() takes numbers, got {_kind(text)}",
            "strings can only be compared with == and != (e.g. act == 'relu') or chosen with 'a if c else b'",
        )
    if function != "round" or len(args) != 2:
        return
    digits = args[1]
    if not isinstance(digits, int) or isinstance(digits, bool):
        raise ExpressionError(
            f"round()'s second argument, the number of digits, must be a whole number, got {_kind(digits)}",
            "write e.g. round(x, 2), or round(x) for a whole number",
        )
    limit = _max_round_digits()
    if abs(digits) > limit:
        raise ExpressionError(
            f"round()'s number of digits {value_text(digits)} is out of range: numbers here stay "
            f"below 2**62, so at most {limit} digits matter",
            f"use digits from -{limit} to {limit}",
        )


class Walker:
    def __init__(self, scope: Mapping[str, Any]):
        self.scope = scope

    def visit(self, node: ast.AST) -> Any:
        handler = getattr(self, f"visit_{type(node).__name__}", None)
        if handler is None:
            quoted = f" ('{value_text(_source_text(node))}')" if isinstance(node, ast.Subscript) else ""
            raise ExpressionError(f"{_describe(node)} is not allowed in expressions{quoted}", _refusal_fix(node))
        return _checked(handler(node))

    def visit_Constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, bool | int | float | str):  # strings: checked as written (expression_text)
            return node.value
        raise ExpressionError(
            f"constant {value_text(repr(node.value))} is not allowed in expressions",
            "use numbers, True / False, or strings in quotes ('relu')",
        )

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in ("True", "False"):
            return node.id == "True"
        return _lookup(node.id, self.scope)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if isinstance(node.value, ast.Name) and node.value.id == INPUT_NAMESPACE:
            return _lookup_input(node.attr, self.scope)
        raise ExpressionError(
            f"attribute access is not allowed in expressions ('{value_text(_source_text(node))}')", _refusal_fix(node)
        )

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        op = type(node.op)
        if op not in _BINARY:
            raise ExpressionError(f"operator '{_SYMBOLS.get(op, op.__name__)}' is not allowed", "use + - * / // % **")
        left, right = self.visit(node.left), self.visit(node.right)
        symbol = _SYMBOLS[op]
        if not (_is_number(left) and _is_number(right)):
            # Arithmetic on lists or strings could build huge values ([0] * 10**9); specs never need it.
            raise ExpressionError(
                f"cannot apply '{symbol}' to {_kind(left)} and {_kind(right)}",
                "arithmetic works on numbers only; strings are compared (==, !=) or chosen (a if c else b), and "
                "text is built around the expression ('stage${i}')"
                if isinstance(left, str) or isinstance(right, str)
                else "arithmetic works on numbers only; write lists out as [a, b]",
            )
        if op is ast.Pow and _too_large_power(left, right):
            raise ExpressionError(f"{value_text(left)} ** {value_text(right)} is too large", "use a smaller exponent")
        try:
            return _BINARY[op](left, right)
        except ZeroDivisionError:
            raise ExpressionError(f"division by zero in '{symbol}'", "make sure the divisor is not 0") from None
        except OverflowError:
            raise ExpressionError(
                f"{value_text(left)} {symbol} {value_text(right)} is too large", "keep numbers below 2**62"
            ) from None

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return not value
        if isinstance(node.op, ast.USub | ast.UAdd) and _is_number(value):
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node.op, ast.Invert):
            raise ExpressionError("operator '~' is not allowed", "use + - * / // % **")
        raise ExpressionError(f"unary '-' cannot apply to {_kind(value)}", "use '-' on numbers only")

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        """Python's rule: the first operand that decides (false for ``and``, true for ``or``), else the last;
        later operands are not evaluated (``x != 0 and 10 // x > 1`` is safe at x = 0)."""
        decides = isinstance(node.op, ast.Or)
        for operand in node.values:
            value = self.visit(operand)
            if bool(value) is decides:
                return value
        return value

    def visit_Compare(self, node: ast.Compare) -> bool:
        left = self.visit(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            if type(op) not in _COMPARE:
                raise ExpressionError(f"comparison {type(op).__name__} is not allowed", "use == != < <= > >=")
            right = self.visit(comparator)
            if not isinstance(op, _EQUALITY) and (isinstance(left, str) or isinstance(right, str)):
                raise ExpressionError(
                    f"cannot order {_kind(left)} and {_kind(right)} with '{_COMPARISON_SYMBOLS[type(op)]}'",
                    "strings can only be compared with == and != (e.g. act == 'relu'); give an order as a number param",
                )
            try:
                if not _COMPARE[type(op)](left, right):
                    return False
            except TypeError:
                raise ExpressionError(
                    f"cannot compare {_kind(left)} with {_kind(right)}", "compare numbers with numbers"
                ) from None
            left = right
        return True

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)

    def visit_List(self, node: ast.List) -> list[Any]:
        return [self.visit(element) for element in node.elts]

    def visit_Call(self, node: ast.Call) -> Any:
        allowed = f"the only functions are {', '.join(FUNCTIONS)}"
        if not isinstance(node.func, ast.Name):
            raise ExpressionError(f"calling '{value_text(_source_text(node.func))}' is not allowed", allowed)
        if node.func.id not in FUNCTIONS:
            raise ExpressionError(f"function '{node.func.id}' is not allowed in expressions", allowed)
        if node.keywords:
            raise ExpressionError(f"{node.func.id}() takes no keyword arguments", "pass the values in order")
        args = [self.visit(arg) for arg in node.args]
        _check_call(node.func.id, args)
        try:
            return FUNCTIONS[node.func.id](*args)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ExpressionError(
                f"{node.func.id}(...) failed: {exc}",
                f"pass numbers (or one list of numbers), e.g. {node.func.id}(a, b)",
            ) from None


_GENERAL_FIX = "use numbers, names, arithmetic, comparisons and min/max/round/floor/ceil/abs"


def _refusal_fix(node: ast.AST) -> str:
    """What to write instead of a refused construct."""
    if isinstance(node, ast.Subscript):
        target = node.value
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == INPUT_NAMESPACE
            and target.attr == "spatial"
        ):
            return (
                "single sizes cannot be picked out: use min(in.spatial) or max(in.spatial) (the smallest or "
                "largest spatial size)"
            )
        return (
            "single elements cannot be picked out: give the value its own param (or use min(...) / max(...) "
            "of the list)"
        )
    return _GENERAL_FIX


def _describe(node: ast.AST) -> str:
    names = {
        "Attribute": "attribute access",
        "Subscript": "subscripting",
        "Lambda": "lambda",
        "ListComp": "a comprehension",
        "GeneratorExp": "a comprehension",
        "DictComp": "a comprehension",
        "SetComp": "a comprehension",
        "Dict": "a mapping",
        "Set": "a set",
        "Starred": "unpacking",
        "NamedExpr": "assignment",
        "JoinedStr": "an f-string",
        "Await": "await",
        "Yield": "yield",
    }
    kind = type(node).__name__
    if isinstance(node, ast.Name):
        return f"'{node.id}'"
    return names.get(kind, kind)


def _too_large_power(base: Any, exponent: Any) -> bool:
    if not isinstance(base, int | float) or not isinstance(exponent, int | float):
        return False
    if abs(base) <= 1:
        return False
    return exponent * math.log2(abs(base)) > 62


def _checked(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_MAGNITUDE:
        raise ExpressionError(f"value {value_text(value)} is out of range", "keep numbers below 2**62")
    if isinstance(value, float) and not (math.isfinite(value) and abs(value) <= _MAX_MAGNITUDE):
        raise ExpressionError(f"value {value_text(value)} is out of range", "keep numbers below 2**62")
    if isinstance(value, complex):
        raise ExpressionError("the result is a complex number", "take roots of non-negative numbers only")
    return value


_SYMBOLS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.MatMult: "@",
}


_COMPARISON_SYMBOLS: dict[type[ast.cmpop], str] = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


def _flattened(args: list[Any]) -> list[Any]:
    """The arguments, with the elements of a list argument (``min([a, b])``) in place of the list."""
    return [item for arg in args for item in (arg if isinstance(arg, list) else [arg])]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float)


def _kind(value: Any) -> str:
    kind = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}.get(
        type(value), type(value).__name__
    )
    return f"{kind} ({value_text(value)})"
