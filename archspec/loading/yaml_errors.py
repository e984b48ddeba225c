"""Diagnostics for text that PyYAML refuses: syntax errors with a fix for each common mistake, and the nesting
limits of the composer, of Python's recursion and of libyaml's parser, all reported as archspec's own."""

from __future__ import annotations

import re
from typing import Any

import yaml

from archspec.errors import Diagnostic, Location
from archspec.loading.load_limits import LoadLimits
from archspec.loading.yaml_compose import TooDeep, compose
from archspec.user_text import MAX_SHOWN_CHARACTERS, quoted


def too_deep(file: str, mark: Any, limits: LoadLimits) -> Diagnostic:
    return Diagnostic(
        f"nesting deeper than {limits.max_depth} levels",
        (),
        Location(file, mark.line + 1, mark.column + 1),
        f"nest at most {limits.max_depth} levels (a spec needs far fewer)",
    )


def nested_too_deeply(file: str, limits: LoadLimits) -> Diagnostic:
    return Diagnostic(
        "structure nested too deeply for Python's recursion limit",
        (),
        Location(file, 1, 1),
        f"nest at most {min(limits.max_depth, 100)} levels (a spec needs far fewer)",
    )


# libyaml 0.2.6 (bundled with PyYAML 6.0.4; 6.0 to 6.0.3 bundle 0.2.5, which has no such limit) stops at 1,000
# nested collections, and its scanner looks up to 1,024 characters ahead for a possible key: on '[[[[...' it refuses
# the text before our composer reaches our own, lower limit, in a message that names no spec path.
PARSER_NESTING_LIMIT = "exceeded maximum nesting depth"


def parser_nesting_diagnostic(exc: yaml.MarkedYAMLError, text: str, file: str, limits: LoadLimits) -> Diagnostic:
    """Our own nesting error, where older PyYAMLs report it: the text up to libyaml's stop is composed again, so
    the composer meets our limit at the same place it would have without libyaml's; where our limit is the higher
    one, the parser's limit is reported (at its position)."""
    mark = exc.problem_mark
    lines = text.splitlines(keepends=True)
    prefix = "".join(lines[: mark.line]) + (lines[mark.line][: mark.column] if mark.line < len(lines) else "")
    try:
        compose(prefix, limits)
    except TooDeep as deeper:
        return too_deep(file, deeper.mark, limits)
    except (yaml.YAMLError, RecursionError):
        pass  # the prefix ends inside its collections: nothing deeper than our limit before the parser's stop
    return Diagnostic(
        "nesting deeper than the YAML parser allows (1,000 levels)",
        (),
        Location(file, mark.line + 1, mark.column + 1),
        "nest fewer than 1,000 levels (a spec needs far fewer)",
    )


_SYNTAX_FIXES = (
    ("expected ',' or '}'", "close the '{{' with '}}', or separate its entries with ','"),
    ("expected ',' or ']'", "close the '[' with ']', or separate its items with ','"),
    (
        "mapping values are not allowed",
        "quote a value that contains ': ', or check this line's indentation "
        "(an op with modifiers is written '- relu:' with the modifiers indented below it)",
    ),
    ("cannot start any token", "quote the value"),
    ("found undefined alias", "define the anchor '&name' before using '*name'"),
    ("found unexpected end of stream", "close the quote"),
    ("found a tab character", "indent with spaces, not tabs"),
)


def syntax_diagnostic(exc: yaml.MarkedYAMLError, file: str, text: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    location = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
    problem = exc.problem or exc.context or "invalid YAML"
    lines = text.splitlines()
    if mark and mark.line < len(lines) and lines[mark.line][mark.column : mark.column + 1] == "\t":
        return Diagnostic(
            "YAML syntax: a tab character here; YAML indents with spaces only",
            (),
            location,
            "replace the tab with spaces",
        )
    if (
        mark
        and mark.line < len(lines)
        and mark.column > 0
        and lines[mark.line][mark.column - 1 : mark.column + 1] == "${"
        and "expected ','" in problem
    ):
        return _unquoted_expression(lines[mark.line], mark.column - 1, Location(file, mark.line + 1, mark.column))
    if "found another document" in problem:
        return Diagnostic(
            "YAML syntax: a second document starts here; a spec file holds one",
            (),
            location,
            "remove the '---' line and what follows (or split the file in two)",
        )
    context = exc.context_mark
    where = f"line {context.line + 1}, column {context.column + 1}" if context else "an earlier line"
    if exc.context and exc.problem and context is not None:
        problem += f" ({exc.context.removeprefix('while ')} started at {where})"
    fix = next((text.format() for key, text in _SYNTAX_FIXES if key in problem), "fix the YAML syntax at this position")
    # PyYAML quotes the token at fault (an alias, a tag handle), which may be the whole line.
    problem = _LONG_QUOTE.sub(lambda match: quoted(match.group(1)), problem)
    return Diagnostic(f"YAML syntax: {problem}", (), location, fix)


def _unquoted_expression(line: str, start: int, location: Location) -> Diagnostic:
    """``{out: ${base * 2}}``: inside a flow mapping or list YAML reads ``{`` and ``}`` as its own brackets, so the
    value is ``$`` followed by a mapping — the fix is quoting, not closing a bracket. Located at the ``$``."""
    depth = 0
    for end in range(start + 1, len(line)):
        depth += {"{": 1, "}": -1}.get(line[end], 0)
        if depth == 0:
            break
    expression = line[start : end + 1] if depth == 0 and end - start < MAX_SHOWN_CHARACTERS else "${...}"
    quote = "'" if '"' in expression else '"'
    return Diagnostic(
        f"YAML syntax: an unquoted {expression} inside '{{...}}' or '[...]': there YAML reads '{{' and "
        "'}' as its own brackets",
        (),
        location,
        f"quote the expression: {quote}{expression}{quote} (or write the mapping or list in block style, "
        "one entry per line, where it needs no quotes)",
    )


_LONG_QUOTE = re.compile(f"'([^']{{{MAX_SHOWN_CHARACTERS + 1},}})'")
