"""Safe YAML/JSON loading that remembers where every value came from.

PyYAML composes the text into a node graph (the C parser when available); we construct plain Python data
from the nodes ourselves, so that:

* only the standard scalar, sequence and mapping tags are accepted — no tag can construct an object;
* scalars follow the YAML 1.2 core schema (``1e-5`` is a float, ``yes`` is a string, ``1:30`` is text), and so
  does the text of an explicitly tagged scalar (``!!bool yes`` and ``!!int ٣٢`` are errors: see ``core_schema``);
* duplicate mapping keys are errors instead of silently keeping the last one;
* alias expansion, nesting depth, file size and number size are bounded, so a hostile file fails fast in
  little memory (nodes are composed by PyYAML's Python composer over the C parser's events, so nesting depth
  is checked while composing — the C composer recurses without a limit and crashes on ``[[[[...`` bombs);
* characters YAML forbids (control characters) are reported where they stand, and a leading byte-order mark
  (common from Windows editors) is accepted in YAML and JSON alike.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml
from yaml.composer import Composer

from archspec.errors import MAX_SHOWN_DIAGNOSTICS, Diagnostic, Location, SpecError, SpecPath
from archspec.loading import core_schema
from archspec.loading.core_schema import TAG as _TAG
from archspec.loading.core_schema import ScalarError
from archspec.loading.source import Document, SourceMap
from archspec.user_text import MAX_SHOWN_CHARACTERS, cut, quoted, shortened

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_PLAIN_TAGS = {_TAG + kind for kind in ("str", "int", "float", "bool", "null", "seq", "map", "merge")}


@dataclass(frozen=True)
class LoadLimits:
    """Caps that keep hostile input cheap to reject."""

    max_bytes: int = 1024 * 1024
    max_values: int = 200_000
    max_depth: int = 100
    max_digits: int = 30  # integers beyond ~10**30 are typos or attacks, never layer sizes


class _CoreSchemaLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Resolves plain scalars by the YAML 1.2 core schema instead of PyYAML's YAML 1.1 rules."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {}


class _TooDeep(Exception):
    def __init__(self, mark: Any):
        super().__init__("nesting too deep")
        self.mark = mark


class _DepthLimitedLoader(Composer, _CoreSchemaLoader):  # type: ignore[misc]
    """The core-schema loader with PyYAML's Python composer, which we can stop at a nesting depth."""

    max_depth = 100

    def __init__(self, stream: str):
        _CoreSchemaLoader.__init__(self, stream)
        Composer.__init__(self)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > self.max_depth + 2:  # the builder reports the exact path; this only stops runaways
                raise _TooDeep(self.peek_event().start_mark)
            return Composer.compose_node(self, parent, index)
        finally:
            self._depth -= 1


_RESOLVERS = [
    ("bool", core_schema.BOOL, "tTfF"),
    ("int", core_schema.INT, "-+0123456789"),
    ("float", core_schema.FLOAT, "-+0123456789."),
    ("null", core_schema.NULL, ["~", "n", "N", ""]),
    ("merge", core_schema.MERGE, "<"),
]
for _kind, _pattern, _first in _RESOLVERS:  # PyYAML matches from the start: anchor the end too (\Z, not $)
    _CoreSchemaLoader.add_implicit_resolver(_TAG + _kind, re.compile(f"(?:{_pattern.pattern})\\Z"), list(_first))


class _Builder:
    """Turns composed nodes into data, recording marks and enforcing the limits."""

    def __init__(self, file: str, limits: LoadLimits):
        self.source = SourceMap(file)
        self.limits = limits
        self.count = 0
        self.errors: list[Diagnostic] = []

    def fail(self, node: yaml.Node, path: SpecPath, message: str, fix: str | None = None) -> None:
        location = Location(self.source.file, node.start_mark.line + 1, node.start_mark.column + 1)
        self.errors.append(Diagnostic(message=message, path=path, location=location, fix=fix))

    def forbidden_tag(self, node: yaml.Node, path: SpecPath) -> None:
        tag = "!!" + node.tag[len(_TAG):] if node.tag.startswith(_TAG) else node.tag
        self.fail(node, path, f"YAML tag {quoted(tag)} is not allowed: a spec holds only plain data, nothing is "
                  "constructed or imported", "remove the tag and write the value as plain YAML")

    def build(self, node: yaml.Node, path: SpecPath, depth: int = 0) -> Any:
        self.count += 1
        if self.count > self.limits.max_values:
            raise _Abort(node, path, f"document expands to more than {self.limits.max_values:,} values "
                         "(an alias/anchor bomb or a runaway file)", "write the spec out without aliases of aliases")
        if depth > self.limits.max_depth:
            raise _Abort(node, path, f"nesting deeper than {self.limits.max_depth} levels",
                         f"nest at most {self.limits.max_depth} levels (a spec needs far fewer)")
        self.source.values.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _TAG + "seq":
                self.forbidden_tag(node, path)
                return None
            return [self.build(item, (*path, index), depth + 1) for index, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != _TAG + "map":
                self.forbidden_tag(node, path)
                return None
            return self.mapping(node, path, depth)
        raise _Abort(node, path, "unsupported YAML node", None)  # pragma: no cover - PyYAML has no others

    def mapping(self, node: yaml.MappingNode, path: SpecPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                self.merge(result, value_node, path, depth)
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in (_TAG + "str", _TAG + "int"):
                if key_node.tag not in _PLAIN_TAGS:
                    self.forbidden_tag(key_node, path)
                else:
                    self.fail(key_node, path, "mapping keys must be plain names", "quote the key or rename it")
                continue
            key = str(key_node.value)  # an integer key keeps its text, as '1' would
            if key_node.tag == _TAG + "int" and self.scalar(key_node, (*path, key)) is None:
                continue
            if key in seen:
                first = seen[key].start_mark
                self.fail(key_node, (*path, key), f"duplicate key {quoted(key)} (first given at line {first.line + 1}, "
                          f"column {first.column + 1})", "keep only one of them")
                continue
            seen[key] = key_node
            self.source.keys[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result

    def merge(self, result: dict[str, Any], node: yaml.Node, path: SpecPath, depth: int) -> None:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                self.fail(source, path, "'<<' merges only mappings", "merge an anchored mapping: <<: *name")
                continue
            for key, value in self.mapping(source, path, depth).items():
                result.setdefault(key, value)

    def scalar(self, node: yaml.ScalarNode, path: SpecPath) -> Any:
        """A plain scalar's value by the core schema; an explicitly tagged one's only if its text is of that type."""
        kind = node.tag[len(_TAG):] if node.tag.startswith(_TAG) else None
        if kind not in ("str", "int", "float", "bool", "null"):
            self.forbidden_tag(node, path)
            return None
        try:
            return core_schema.construct(kind, node.value, self.limits.max_digits)
        except ScalarError as error:
            self.fail(node, path, error.message, error.fix)
            return None


class _Abort(Exception):
    def __init__(self, node: yaml.Node, path: SpecPath, message: str, fix: str | None):
        super().__init__(message)
        self.node, self.path, self.message, self.fix = node, path, message, fix


def load_text(text: str, file: str = "<string>", limits: LoadLimits | None = None) -> Document:
    """Parse YAML (or JSON, which YAML 1.2 contains) into a :class:`Document`.

    Raises:
        SpecError: on any syntax error, forbidden tag, duplicate key or exceeded limit.
    """
    limits = limits or LoadLimits()
    if len(text.encode("utf-8", "surrogatepass")) > limits.max_bytes:
        raise SpecError([Diagnostic(f"the file is larger than the {limits.max_bytes:,}-byte cap", (),
                                    Location(file, 1, 1), "a spec is small text; use 'repeat' and blocks "
                                    "instead of writing layers out (or raise LoadLimits.max_bytes)")])
    text = text.removeprefix(_BOM)  # no part of the spec; editors count columns without it
    _check_characters(text, file)
    non_finite: list[tuple[SpecPath, str]] = []
    if file.endswith(".json"):
        non_finite = _check_json(text, file, limits)
        text = text.replace("\t", " ")  # JSON allows tabs as whitespace where YAML does not; columns stay put
    try:
        root = _compose(text, limits)
    except _TooDeep as exc:
        raise SpecError([_too_deep(file, exc.mark, limits)]) from None
    except yaml.MarkedYAMLError as exc:
        if _PARSER_NESTING_LIMIT in str(exc.problem):
            raise SpecError([_parser_nesting_diagnostic(exc, text, file, limits)]) from None
        raise SpecError([_syntax_diagnostic(exc, file, text)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Diagnostic(f"YAML syntax: {exc}", (), Location(file, 1, 1),
                                    "check that the file is YAML or JSON text")]) from None
    except RecursionError:  # a max_depth raised past what Python's recursion allows the composer
        raise SpecError([_nested_too_deeply(file, limits)]) from None
    builder = _Builder(file, limits)
    if root is None:
        raise SpecError([Diagnostic("the file is empty", (), Location(file, 1, 1),
                                    "start with 'archspec: 1', 'name:', 'input:' and 'layers:'")])
    _check_expansion(root, file, limits)
    try:
        data = builder.build(root, ())
    except _Abort as abort:
        builder.fail(abort.node, abort.path, abort.message, abort.fix)
        raise SpecError(builder.errors) from None
    except RecursionError:
        raise SpecError([_nested_too_deeply(file, limits)]) from None
    for path, name in non_finite:  # JSON's NaN / Infinity read as text in YAML: locate them by their path
        builder.errors.append(builder.source.diagnostic(path, f"number {name} is not finite (JSON's NaN and "
                                                        "Infinity are not numbers a spec can use)",
                                                        "write a finite number such as 0.5 or 1e-5"))
    if builder.errors:
        raise SpecError(builder.errors)
    return Document(data=data, source=builder.source, text=text)


def _compose(text: str, limits: LoadLimits) -> yaml.Node | None:
    """The node graph of ``text``, stopped (``_TooDeep``) past the nesting limit."""
    loader = _DepthLimitedLoader(text)
    loader.max_depth = limits.max_depth
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _too_deep(file: str, mark: Any, limits: LoadLimits) -> Diagnostic:
    return Diagnostic(f"nesting deeper than {limits.max_depth} levels", (),
                      Location(file, mark.line + 1, mark.column + 1),
                      f"nest at most {limits.max_depth} levels (a spec needs far fewer)")


def _nested_too_deeply(file: str, limits: LoadLimits) -> Diagnostic:
    return Diagnostic("structure nested too deeply for Python's recursion limit", (), Location(file, 1, 1),
                      f"nest at most {min(limits.max_depth, 100)} levels (a spec needs far fewer)")


# libyaml 0.2.6 (bundled with PyYAML 6.0.4; 6.0 to 6.0.3 bundle 0.2.5, which has no such limit) stops at 1,000
# nested collections, and its scanner looks up to 1,024 characters ahead for a possible key: on '[[[[...' it refuses
# the text before our composer reaches our own, lower limit, in a message that names no spec path.
_PARSER_NESTING_LIMIT = "exceeded maximum nesting depth"


def _parser_nesting_diagnostic(exc: yaml.MarkedYAMLError, text: str, file: str, limits: LoadLimits) -> Diagnostic:
    """Our own nesting error, where older PyYAMLs report it: the text up to libyaml's stop is composed again, so
    the composer meets our limit at the same place it would have without libyaml's; where our limit is the higher
    one, the parser's limit is reported (at its position)."""
    mark = exc.problem_mark
    lines = text.splitlines(keepends=True)
    prefix = "".join(lines[:mark.line]) + (lines[mark.line][:mark.column] if mark.line < len(lines) else "")
    try:
        _compose(prefix, limits)
    except _TooDeep as deeper:
        return _too_deep(file, deeper.mark, limits)
    except (yaml.YAMLError, RecursionError):
        pass  # the prefix ends inside its collections: nothing deeper than our limit before the parser's stop
    return Diagnostic("nesting deeper than the YAML parser allows (1,000 levels)", (),
                      Location(file, mark.line + 1, mark.column + 1),
                      "nest fewer than 1,000 levels (a spec needs far fewer)")


def load_data(data: Any, file: str = "<dict>", limits: LoadLimits | None = None) -> Document:
    """An in-memory spec (a dict from Python) held to exactly what a file may hold: mappings with string keys
    (integer keys become strings, as in YAML), lists, strings, finite numbers within the digit cap, booleans
    and null — no tuples, sets or other objects — within the same size, value-count and depth caps.

    Raises:
        SpecError: one diagnostic per value that a file could not hold.
    """
    source = SourceMap(file)
    plain, errors = plain_data(data, source, (), limits)
    if errors:
        raise SpecError(errors)
    import json  # for dicts and .json files only: a YAML spec needs no json module (nor its regexes)

    return Document(data=plain, source=source, text=json.dumps(plain))


def plain_data(value: Any, source: SourceMap, path: SpecPath = (),
               limits: LoadLimits | None = None) -> tuple[Any, list[Diagnostic]]:
    """``value`` copied as plain spec data (see :func:`load_data`), with a diagnostic, located through
    ``source`` at its path under ``path``, for each part a file could not hold."""
    builder = _DataBuilder(source, limits or LoadLimits())
    try:
        plain = builder.build(value, path)
    except _DataAbort as abort:
        builder.fail(abort.path, abort.message, abort.fix)
    return plain if not builder.errors else None, builder.errors


class _DataAbort(Exception):
    def __init__(self, path: SpecPath, message: str, fix: str):
        super().__init__(message)
        self.path, self.message, self.fix = path, message, fix


class _DataBuilder:
    """Copies Python data into plain spec data, refusing what YAML or JSON text could not express."""

    def __init__(self, source: SourceMap, limits: LoadLimits):
        self.source = source
        self.limits = limits
        self.count = 0
        self.characters = 0
        self.errors: list[Diagnostic] = []

    def fail(self, path: SpecPath, message: str, fix: str) -> None:
        self.errors.append(self.source.diagnostic(path, message, fix))

    def build(self, value: Any, path: SpecPath, depth: int = 0) -> Any:
        self.count += 1
        if self.count > self.limits.max_values:
            raise _DataAbort(path, f"the data holds more than {self.limits.max_values:,} values",
                             "a spec needs far fewer; use 'repeat' and blocks instead of writing layers out (or "
                             "raise LoadLimits.max_values)")
        if depth > self.limits.max_depth:  # also stops a mapping or list that contains itself
            raise _DataAbort(path, f"nesting deeper than {self.limits.max_depth} levels",
                             f"nest at most {self.limits.max_depth} levels (a spec needs far fewer)")
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            return self.integer(value, path)
        if isinstance(value, float):
            if not math.isfinite(value):
                self.fail(path, f"number {value} is not finite (infinite or NaN)",
                          "write a finite number such as 0.5 or 1e-5")
                return None
            return value
        if isinstance(value, str):
            self.characters += len(value)
            if self.characters > self.limits.max_bytes:
                raise _DataAbort(path, f"the data's text is larger than the {self.limits.max_bytes:,}-character cap",
                                 "a spec is small text (or raise LoadLimits.max_bytes)")
            return value
        if isinstance(value, dict):
            return self.mapping(value, path, depth)
        if isinstance(value, list):
            return [self.build(item, (*path, index), depth + 1) for index, item in enumerate(value)]
        if isinstance(value, tuple | set | frozenset):
            kind = "a tuple" if isinstance(value, tuple) else "a set"
            items = list(value) if isinstance(value, tuple) else sorted(value, key=repr)  # a set has no order
            self.fail(path, f"{kind} is not spec data: a spec holds lists", f"write it as a list: {_listed(items)}")
            return None
        self.fail(path, f"a value of type '{type(value).__name__}' is not spec data",
                  "use only dicts, lists, strings, numbers, True/False and None, as a YAML or JSON file would")
        return None

    def integer(self, value: int, path: SpecPath) -> int | None:
        # str() of a huge int is itself slow (and refused past 4,300 digits): estimate from the bit length
        small = value.bit_length() < 1000
        digits = len(str(abs(value))) if small else int(value.bit_length() * math.log10(2)) + 1
        if digits > self.limits.max_digits:
            text = f"number {cut(str(value), 24)}" if small else "a number"
            self.fail(path, f"{text} is absurdly large ({digits} digits)",
                      f"write a number with at most {self.limits.max_digits} digits")
            return None
        return value

    def mapping(self, value: dict[Any, Any], path: SpecPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, str | int):
                self.fail(path, f"mapping keys must be plain names, got the key {cut(repr(key), 40)}",
                          "write the key as a string")
                continue
            name = str(key)  # YAML reads the key 1 as an integer, and the file builder keeps its text
            if name in result:
                self.fail((*path, name), f"duplicate key {quoted(name)} (given both as a string and as a number)",
                          "keep only one of them")
                continue
            result[name] = self.build(item, (*path, name), depth + 1)
        return result


def _listed(items: list[Any]) -> str:
    """``[3, 8, 8]`` as a spec writes it (strings bare, as in YAML flow lists)."""
    text = ", ".join(str(item) if not isinstance(item, bool) else str(item).lower() for item in items)
    return f"[{shortened(text)}]"


def _check_expansion(root: yaml.Node, file: str, limits: LoadLimits) -> None:
    """Reject alias bombs and self-referencing aliases before building anything.

    Aliases make the composed graph share nodes, so its size once expanded is counted per distinct node
    (memoised) — a billion-laughs file costs microseconds here instead of gigabytes later.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node, depth: int = 0) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if depth > limits.max_depth:
            raise SpecError([Diagnostic(f"nesting deeper than {limits.max_depth} levels (through aliases)", (),
                                        _mark(file, node), f"nest at most {limits.max_depth} levels")])
        if key in active:
            raise SpecError([Diagnostic("an alias refers to the anchor that contains it (a structure without end)",
                                        (), _mark(file, node), "remove the alias, or point it at another anchor")])
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(value, depth + 1) for _, value in node.value)
        active.discard(key)
        sizes[key] = total
        return total

    total = size(root)
    if total <= limits.max_values:
        return
    path: SpecPath = ()
    culprit = root
    if isinstance(root, yaml.MappingNode) and root.value:
        key_node, culprit = max(root.value, key=lambda entry: sizes[id(entry[1])])
        path = (str(key_node.value),)
    if total > len(sizes):  # some nodes are reached more than once: aliases multiply the document
        raise SpecError([Diagnostic(f"the document expands to {total:,} values through aliases, more than the "
                                    f"{limits.max_values:,} allowed (an alias/anchor bomb)", path,
                                    _mark(file, culprit), "write the data out instead of nesting aliases of aliases")])
    raise SpecError([Diagnostic(f"the document holds {total:,} values, more than the {limits.max_values:,} allowed",
                                path, _mark(file, culprit), "a spec needs far fewer; use 'repeat' and blocks instead "
                                "of writing layers out (or raise LoadLimits.max_values)")])


def _mark(file: str, node: yaml.Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


_SYNTAX_FIXES = (
    ("expected ',' or '}'", "close the '{{' with '}}', or separate its entries with ','"),
    ("expected ',' or ']'", "close the '[' with ']', or separate its items with ','"),
    ("mapping values are not allowed", "quote a value that contains ': ', or check this line's indentation "
     "(an op with modifiers is written '- relu:' with the modifiers indented below it)"),
    ("cannot start any token", "quote the value"),
    ("found undefined alias", "define the anchor '&name' before using '*name'"),
    ("found unexpected end of stream", "close the quote"),
    ("found a tab character", "indent with spaces, not tabs"),
)


def _syntax_diagnostic(exc: yaml.MarkedYAMLError, file: str, text: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    location = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
    problem = exc.problem or exc.context or "invalid YAML"
    lines = text.splitlines()
    if mark and mark.line < len(lines) and lines[mark.line][mark.column:mark.column + 1] == "\t":
        return Diagnostic("YAML syntax: a tab character here; YAML indents with spaces only", (), location,
                          "replace the tab with spaces")
    if mark and mark.line < len(lines) and mark.column > 0 and \
            lines[mark.line][mark.column - 1:mark.column + 1] == "${" and "expected ','" in problem:
        return _unquoted_expression(lines[mark.line], mark.column - 1, Location(file, mark.line + 1, mark.column))
    if "found another document" in problem:
        return Diagnostic("YAML syntax: a second document starts here; a spec file holds one", (), location,
                          "remove the '---' line and what follows (or split the file in two)")
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
    expression = line[start:end + 1] if depth == 0 and end - start < MAX_SHOWN_CHARACTERS else "${...}"
    quote = "'" if '"' in expression else '"'
    return Diagnostic(f"YAML syntax: an unquoted {expression} inside '{{...}}' or '[...]': there YAML reads '{{' and "
                      "'}' as its own brackets", (), location,
                      f"quote the expression: {quote}{expression}{quote} (or write the mapping or list in block style, "
                      "one entry per line, where it needs no quotes)")
_LONG_QUOTE = re.compile(f"'([^']{{{MAX_SHOWN_CHARACTERS + 1},}})'")


_BOM = "\ufeff"
# What YAML 1.1/1.2 allow in a stream (PyYAML's Reader rejects the rest, reporting only an offset).
_UNPRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")  # as PyYAML counts lines


def _check_characters(text: str, file: str) -> None:
    """Reject characters YAML forbids (NUL, BEL, ...), each located at its line and column."""
    found = _UNPRINTABLE.finditer(text)
    diagnostics = []
    for match in found:
        line, column = _line_and_column(text, match.start())
        code = f"U+{ord(match.group()):04X}"
        kind = "control character" if ord(match.group()) < 0xA0 else "character"
        diagnostics.append(Diagnostic(f"the {kind} {code} cannot appear in a spec file (YAML and JSON text "
                                      "allow only tab, line breaks and printable characters)", (),
                                      Location(file, line, column), f"remove the {kind} {code} at line {line}, "
                                      f"column {column} (editors often show it as nothing or a box)"))
        if len(diagnostics) == MAX_SHOWN_DIAGNOSTICS:
            break
    if diagnostics:
        raise SpecError(diagnostics, omitted=sum(1 for _ in found))


def _line_and_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of ``offset``."""
    line, start = 1, 0
    for match in _LINE_BREAK.finditer(text, 0, offset):
        line, start = line + 1, match.end()
    return line, offset - start + 1


class _NonFinite(str):
    """Stands for JSON's NaN / Infinity while the JSON syntax is checked; the YAML pass locates them."""


def _check_json(text: str, file: str, limits: LoadLimits) -> list[tuple[SpecPath, str]]:
    """A ``.json`` file must be JSON, not merely YAML (no trailing commas, comments or unquoted keys).

    Returns the paths of NaN / Infinity constants. Integers too long to be sizes are left for the YAML
    pass, which reports them where they stand (converting them here would hit Python's 4,300-digit limit).
    """
    import json  # for .json files only: a YAML spec needs no json module (nor its regexes)

    def integer(digits: str) -> int:
        return 0 if len(digits.lstrip("-").lstrip("0")) > limits.max_digits else int(digits)

    try:
        data = json.loads(text, parse_constant=_NonFinite, parse_int=integer)
    except json.JSONDecodeError as exc:
        raise SpecError([Diagnostic(f"JSON syntax: {exc.msg}", (), Location(file, exc.lineno, exc.colno),
                                    _json_fix(exc.msg))]) from None
    except RecursionError:
        raise SpecError([Diagnostic("JSON: nesting too deep", (), Location(file, 1, 1),
                                    f"nest at most {limits.max_depth} levels")]) from None
    found: list[tuple[SpecPath, str]] = []
    pending: list[tuple[SpecPath, Any]] = [((), data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, _NonFinite):
            found.append((path, str(value)))
        elif isinstance(value, dict):
            pending.extend(((*path, key), item) for key, item in value.items())
        elif isinstance(value, list):
            pending.extend(((*path, index), item) for index, item in enumerate(value))
    return found


def _json_fix(message: str) -> str:
    if message.startswith("Expecting property name") or message.startswith("Expecting value"):
        return "remove a trailing comma, and quote every key and string with double quotes"
    if message.startswith("Expecting ',' delimiter"):
        return "separate items with ',' and close every '[' and '{'"
    return "fix the JSON syntax at this position"
