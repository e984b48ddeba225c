"""What the text of an expression may hold: ASCII names, numbers and strings that mean exactly what they show.

Python's parser folds identifiers by NFKC (``ｗ`` reads as ``w``, ``＿＿in＿＿`` as ``__in__``) and reads ``1_000``,
``0b101`` and ``0X1F`` as numbers. A spec's names must match exactly and its numbers read the same in YAML, JSON and
expressions, so :mod:`archspec.spec.expressions` refuses such text before (and right after) parsing it. String
literals (``'relu'`` or ``"relu"``) likewise hold the characters they show: no escapes (``\\x41`` is ``A``), no
prefixes (``b''``, ``r''``, ``f''``), no implicit concatenation (``'a' 'b'``), and no braces, which would end the
``${...}`` around them in text like ``stage${...}``.
"""

from __future__ import annotations

import ast
import re
import unicodedata

from archspec.user_text import quoted, shortened


class ExpressionError(Exception):
    """An expression is malformed, unsafe, or refers to something unknown."""

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix


def refuse_non_ascii(source: str, char: str) -> None:
    """Refuse expression text holding ``char``, a non-ASCII character, saying what ASCII text Python would have read.

    Raises:
        ExpressionError: always.
    """
    folded = unicodedata.normalize("NFKC", source)
    if folded.isascii() and folded != source and "__" not in folded:
        fix = f"write it in ASCII: {quoted(folded)}"
    else:
        fix = "write names with ASCII letters, digits and '_' (not starting with '__'), and numbers with ASCII digits"
    raise ExpressionError(
        f"expression {quoted(source, 40)} holds the non-ASCII character {char!r} "
        f"(U+{ord(char):04X}): names and numbers in expressions are ASCII and match exactly",
        fix,
    )


# Number literals as YAML 1.2 (core schema) and JSON write them, without the sign (a unary operator here), plus the
# core schema's 0o / 0x forms.
_NUMBER_LITERAL = re.compile(r"(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+")


# A string literal as it may be written: one pair of quotes of either style around printable ASCII text without
# backslashes, braces or that quote.
_STRING_LITERAL = re.compile(r"'[ -&(-\[\]-z|~]*'|\"[ !#-\[\]-z|~]*\"")


def check_literals(tree: ast.Expression, source: str) -> None:
    """Refuse Python-only number forms (``1_000``, ``0b101``, ``0X1F``) and string literals that do not mean what
    they show (escapes, prefixes, braces, ``'a' 'b'``) in the parsed ``source``.

    >>> check_literals(ast.parse("a == 'relu'", mode="eval"), "a == 'relu'")
    >>> check_literals(ast.parse("a == r'relu'", mode="eval"), "a == r'relu'")
    Traceback (most recent call last):
    ...
    archspec.spec.expression_text.ExpressionError: string literal r'relu' holds an escape, a brace or a prefix

    Raises:
        ExpressionError: for the first such literal.
    """
    check_number_literals(tree, source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and type(node.value) is str:
            text = ast.get_source_segment(source, node) or ""
            if not _STRING_LITERAL.fullmatch(text):
                raise ExpressionError(
                    f"string literal {shortened(text, 40)} holds an escape, a brace or a prefix",
                    "write strings as plain text in quotes, 'relu' or \"relu\", without \\, { or }",
                )


def check_number_literals(tree: ast.Expression, source: str) -> None:
    """Refuse Python-only number forms (``1_000``, ``0b101``, ``0X1F``) in the parsed ``source``.

    >>> check_number_literals(ast.parse("0x1F + 1e-5 * .5", mode="eval"), "0x1F + 1e-5 * .5")
    >>> check_number_literals(ast.parse("1_000", mode="eval"), "1_000")
    Traceback (most recent call last):
    ...
    archspec.spec.expression_text.ExpressionError: number '1_000' is not written as YAML and JSON write numbers

    Raises:
        ExpressionError: for the first such literal, with its value written plainly as the fix.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            text = ast.get_source_segment(source, node) or ""
            if not _NUMBER_LITERAL.fullmatch(text):
                written = repr(node.value) if type(node.value) is float or abs(node.value) < 2**62 else None
                raise ExpressionError(
                    f"number {quoted(text, 40)} is not written as YAML and JSON write numbers",
                    f"write {written}" if written else "write the number in decimal digits",
                )
