"""Safe YAML/JSON loading that remembers where every value came from.

PyYAML composes the text into a node graph (the C parser when available); we construct plain Python data
from the nodes ourselves, so that:

* only the standard scalar, sequence and mapping tags are accepted — no tag can construct an object;
* scalars follow the YAML 1.2 core schema (``1e-5`` is a float, ``yes`` is a string, ``1:30`` is text);
* duplicate mapping keys are errors instead of silently keeping the last one;
* alias expansion, nesting depth and file size are bounded, so a hostile file fails fast in little memory.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml

from archspec.errors import Diagnostic, Location, SpecError, SpecPath
from archspec.loading.source import Document, SourceMap

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TAG = "tag:yaml.org,2002:"


@dataclass(frozen=True)
class LoadLimits:
    """Caps that keep hostile input cheap to reject."""

    max_bytes: int = 4 * 1024 * 1024
    max_values: int = 200_000
    max_depth: int = 100


class _CoreSchemaLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Resolves plain scalars by the YAML 1.2 core schema instead of PyYAML's YAML 1.1 rules."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {}


_RESOLVERS = [
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("merge", r"^<<$", "<"),
]
for _kind, _pattern, _first in _RESOLVERS:
    _CoreSchemaLoader.add_implicit_resolver(_TAG + _kind, re.compile(_pattern), list(_first))


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

    def build(self, node: yaml.Node, path: SpecPath, depth: int = 0) -> Any:
        self.count += 1
        if self.count > self.limits.max_values:
            raise _Abort(node, path, f"document expands to more than {self.limits.max_values:,} values "
                         "(an alias/anchor bomb or a runaway file)", "write the spec out without deep aliases")
        if depth > self.limits.max_depth:
            raise _Abort(node, path, f"nesting deeper than {self.limits.max_depth} levels",
                         "flatten the structure (or remove a self-referencing alias)")
        self.source.values.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _TAG + "seq":
                self.fail(node, path, f"YAML tag {node.tag!r} is not allowed", "remove the tag")
                return None
            return [self.build(item, (*path, index), depth + 1) for index, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != _TAG + "map":
                self.fail(node, path, f"YAML tag {node.tag!r} is not allowed", "remove the tag")
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
                self.fail(key_node, path, "mapping keys must be plain names", "quote the key or rename it")
                continue
            key = str(key_node.value)
            if key in seen:
                first = seen[key].start_mark
                self.fail(key_node, (*path, key), f"duplicate key {key!r} (first given at line {first.line + 1})",
                          "keep only one of them")
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
        tag, text = node.tag, node.value
        if tag == _TAG + "str":
            return text
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            return text.lower() == "true"
        if tag == _TAG + "int":
            try:
                return int(text, 0) if text.startswith(("0o", "0x")) else int(text)
            except ValueError:
                self.fail(node, path, f"{text!r} is not an integer", None)
                return None
        if tag == _TAG + "float":
            lowered = text.lower().lstrip("+")
            if lowered in (".inf", "-.inf", ".nan"):
                return {".inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}[lowered]
            return float(text)
        self.fail(node, path, f"YAML tag {tag!r} is not allowed", "specs hold only plain data; remove the tag")
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
        raise SpecError([Diagnostic(f"file is larger than {limits.max_bytes:,} bytes", (),
                                    Location(file, 1, 1), "split it or raise the size limit")])
    if file.endswith(".json"):
        text = text.replace("\t", " ")  # JSON allows tabs as whitespace where YAML does not; columns stay put
    try:
        root = yaml.compose(text, Loader=_CoreSchemaLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError([Diagnostic(f"YAML syntax: {problem}", (), location,
                                    "fix the syntax at this position")]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Diagnostic(f"YAML syntax: {exc}", (), Location(file, 1, 1), None)]) from None
    builder = _Builder(file, limits)
    if root is None:
        raise SpecError([Diagnostic("the file is empty", (), Location(file, 1, 1),
                                    "start with 'archspec: 1', 'name:', 'input:' and 'layers:'")])
    try:
        data = builder.build(root, ())
    except _Abort as abort:
        builder.fail(abort.node, abort.path, abort.message, abort.fix)
        raise SpecError(builder.errors) from None
    except RecursionError:
        raise SpecError([Diagnostic("structure nested too deeply", (), Location(file, 1, 1), None)]) from None
    if builder.errors:
        raise SpecError(builder.errors)
    return Document(data=data, source=builder.source, text=text)
