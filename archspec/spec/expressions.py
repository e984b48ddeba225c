"""Spec expressions: ``$name`` and ``${...}``, evaluated by a whitelisted AST walker — never ``eval``.

The grammar is small arithmetic: numbers, booleans, strings in quotes (``'relu'``, ``"relu"``), names bound in the
current scope, ``+ - * / // % **``, comparisons (strings: ``==`` and ``!=`` only), ``and / or / not``,
``a if c else b``, and the functions ``min max round floor ceil abs``.
``in.channels`` / ``in.spatial`` / ``in.dims`` read the shape flowing into the item; they live in their own
namespace (scope keys ``in.channels`` ...), so no param or block argument can shadow them. Anything else
(attribute access, other calls, subscripts, lambdas, comprehensions, dunder names) is rejected with a clear
message. Every value an expression computes is kept below 2**62, and no operator or function is ever handed
arguments that make Python itself do unbounded work (``10 ** 10 ** 10``, ``round(n, -10**18)``).

Names and numbers are ASCII and mean exactly what they show: Python's parser folds identifiers by NFKC (``ｗ`` is
``w``, ``＿＿in＿＿`` is ``__in__``) and reads ``1_000``, ``0b101`` and ``0X1F`` as numbers, so expression text with
other characters is refused, and number literals are written as YAML 1.2 and JSON write numbers (plus 0o / 0x).
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping
from typing import Any

from archspec.spec.expression_text import ExpressionError, check_literals, refuse_non_ascii
from archspec.spec.expression_walker import INPUT_NAMESPACE, Walker
from archspec.user_text import value_text

_MAX_EXPRESSION_LENGTH = 500
# `in` is a Python keyword: `in.x` is rewritten to `__in__.x` (INPUT_NAMESPACE, a name no user can write) to parse
_INPUT_PREFIX = re.compile(r"\bin\.(?=[A-Za-z_])")
_WHOLE_NAME = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_]+)?)$")
_WHOLE_BRACED = re.compile(r"^\$\{(.*)\}$", re.DOTALL)
_NON_ASCII_NAME = re.compile(r"\$[^\x00-\x7f]")
_EMBEDDED = re.compile(r"\$\{([^{}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_]+)?)")


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and "$" in value


def has_expression(value: Any) -> bool:
    """Whether an expression hides anywhere in ``value`` (through lists and mappings)."""
    if isinstance(value, dict):
        return any(has_expression(v) for v in value.values())
    if isinstance(value, list):
        return any(has_expression(v) for v in value)
    return is_expression(value)


def evaluate_value(value: Any, scope: Mapping[str, Any]) -> Any:
    """Evaluate every expression inside ``value`` (recursively through lists and mappings).

    >>> evaluate_value({"out": "$width", "kernel": "${k * 2 + 1}"}, {"width": 64, "k": 1})
    {'out': 64, 'kernel': 3}
    >>> evaluate_value("block${i}", {"i": 2})
    'block2'
    """
    if isinstance(value, str):
        return _evaluate_string(value, scope) if "$" in value else value
    if isinstance(value, list):
        return [evaluate_value(item, scope) for item in value]
    if isinstance(value, dict):
        return {key: evaluate_value(item, scope) for key, item in value.items()}
    return value


@functools.lru_cache(maxsize=4096)
def _whole_expression(text: str) -> str | None:
    """The body of a string that is one expression (``$name``, ``${...}``), or None for text with parts."""
    whole = _WHOLE_NAME.match(text)
    if whole:
        return whole.group(1)
    braced = _WHOLE_BRACED.match(text)
    if braced and "${" not in braced.group(1):
        return braced.group(1)
    return None


def _evaluate_string(text: str, scope: Mapping[str, Any]) -> Any:
    body = _whole_expression(text)
    if body is not None:
        return evaluate_expression(body, scope)
    odd = _NON_ASCII_NAME.search(text)
    if odd:  # '$ｗ': no expression by the grammar, but surely meant as one
        refuse_non_ascii(text[odd.start() :], text[odd.start() + 1])

    def substitute(match: re.Match[str]) -> str:
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        return str(evaluate_expression(inner, scope))

    return _EMBEDDED.sub(substitute, text)


def evaluate_expression(source: str, scope: Mapping[str, Any]) -> Any:
    """Evaluate one expression body (the text inside ``${...}``).

    >>> evaluate_expression("max(16, round(c * 0.25)) // 8 * 8", {"c": 100})
    24
    >>> evaluate_expression("in.channels * 2", {"in.channels": 3, "in_channels": 5})
    6
    """
    tree = _parse_expression(source)
    try:
        return Walker(scope).visit(tree.body)
    except RecursionError:
        raise ExpressionError(f"expression {value_text(source)!r} is nested too deeply", "simplify it") from None


@functools.lru_cache(maxsize=4096)
def _parse_expression(source: str) -> ast.Expression:
    """The checked tree of ``source``, cached: blocks repeat the same expressions in every call (a refusal is an
    exception, so it is not cached and is raised again each time)."""
    if len(source) > _MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"expression longer than {_MAX_EXPRESSION_LENGTH} characters", "split it into params and combine them"
        )
    if not source.isascii():
        refuse_non_ascii(source, next(char for char in source if not char.isascii()))
    if INPUT_NAMESPACE in source:
        raise ExpressionError(
            f"name {INPUT_NAMESPACE!r} is not allowed", "read the input's shape as in.channels, in.spatial or in.dims"
        )
    try:
        return _parse(_INPUT_PREFIX.sub(INPUT_NAMESPACE + ".", source).strip())
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, SyntaxError) else "too complex"
        raise ExpressionError(
            f"cannot parse expression {value_text(source)!r}: {reason}",
            "use numbers, strings in quotes, names, + - * / // % **, comparisons, and/or/not",
        ) from None


def referenced_names(value: Any) -> set[str]:
    """The scope names (params, block arguments) the expressions inside ``value`` read — not ``in.*``, not
    function names. Text that does not parse reads nothing here; evaluating it reports the problem.

    >>> sorted(referenced_names({"out": "${max(width, k)} ", "name": "b$i", "kernel": "${in.channels}"}))
    ['i', 'k', 'width']
    """
    if isinstance(value, list):
        return set().union(*(referenced_names(item) for item in value))
    if isinstance(value, dict):
        return set().union(*(referenced_names(item) for item in value.values()))
    if not is_expression(value):
        return set()
    body = _whole_expression(value)
    bodies = (
        [body]
        if body is not None
        else [m.group(1) if m.group(1) is not None else m.group(2) for m in _EMBEDDED.finditer(value)]
    )
    names: set[str] = set()
    for source in bodies:
        try:
            tree = _parse_expression(source)
        except ExpressionError:
            continue
        called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        names.update(
            node.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Name)
            and id(node) not in called
            and node.id not in (INPUT_NAMESPACE, "True", "False")
        )
    return names


def _parse(source: str) -> ast.Expression:
    tree = ast.parse(source, mode="eval")
    check_literals(tree, source)
    return tree
