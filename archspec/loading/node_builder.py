"""Composed YAML nodes into plain Python data, recording where every value and key stands and enforcing the
load limits: only the standard tags, no duplicate keys, bounded alias expansion, depth and value count."""

from __future__ import annotations

from typing import Any

import yaml

from archspec.errors import Diagnostic, Location, SpecError, SpecPath
from archspec.loading import core_schema
from archspec.loading.core_schema import TAG as _TAG
from archspec.loading.core_schema import ScalarError
from archspec.loading.load_limits import LoadLimits
from archspec.loading.source import SourceMap
from archspec.user_text import quoted

_PLAIN_TAGS = {_TAG + kind for kind in ("str", "int", "float", "bool", "null", "seq", "map", "merge")}


class NodeBuilder:
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
        tag = "!!" + node.tag[len(_TAG) :] if node.tag.startswith(_TAG) else node.tag
        self.fail(
            node,
            path,
            f"YAML tag {quoted(tag)} is not allowed: a spec holds only plain data, nothing is constructed or imported",
            "remove the tag and write the value as plain YAML",
        )

    def build(self, node: yaml.Node, path: SpecPath, depth: int = 0) -> Any:
        self.count += 1
        if self.count > self.limits.max_values:
            raise BuildAbort(
                node,
                path,
                f"document expands to more than {self.limits.max_values:,} values "
                "(an alias/anchor bomb or a runaway file)",
                "write the spec out without aliases of aliases",
            )
        if depth > self.limits.max_depth:
            raise BuildAbort(
                node,
                path,
                f"nesting deeper than {self.limits.max_depth} levels",
                f"nest at most {self.limits.max_depth} levels (a spec needs far fewer)",
            )
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
        raise BuildAbort(node, path, "unsupported YAML node", None)  # pragma: no cover - PyYAML has no others

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
                self.fail(
                    key_node,
                    (*path, key),
                    f"duplicate key {quoted(key)} (first given at line {first.line + 1}, column {first.column + 1})",
                    "keep only one of them",
                )
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
        kind = node.tag[len(_TAG) :] if node.tag.startswith(_TAG) else None
        if kind not in ("str", "int", "float", "bool", "null"):
            self.forbidden_tag(node, path)
            return None
        try:
            return core_schema.construct(kind, node.value, self.limits.max_digits)
        except ScalarError as error:
            self.fail(node, path, error.message, error.fix)
            return None


class BuildAbort(Exception):
    def __init__(self, node: yaml.Node, path: SpecPath, message: str, fix: str | None):
        super().__init__(message)
        self.node, self.path, self.message, self.fix = node, path, message, fix


def check_expansion(root: yaml.Node, file: str, limits: LoadLimits) -> None:
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
            raise SpecError(
                [
                    Diagnostic(
                        f"nesting deeper than {limits.max_depth} levels (through aliases)",
                        (),
                        _mark(file, node),
                        f"nest at most {limits.max_depth} levels",
                    )
                ]
            )
        if key in active:
            raise SpecError(
                [
                    Diagnostic(
                        "an alias refers to the anchor that contains it (a structure without end)",
                        (),
                        _mark(file, node),
                        "remove the alias, or point it at another anchor",
                    )
                ]
            )
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
        raise SpecError(
            [
                Diagnostic(
                    f"the document expands to {total:,} values through aliases, more than the "
                    f"{limits.max_values:,} allowed (an alias/anchor bomb)",
                    path,
                    _mark(file, culprit),
                    "write the data out instead of nesting aliases of aliases",
                )
            ]
        )
    raise SpecError(
        [
            Diagnostic(
                f"the document holds {total:,} values, more than the {limits.max_values:,} allowed",
                path,
                _mark(file, culprit),
                "a spec needs far fewer; use 'repeat' and blocks instead "
                "of writing layers out (or raise LoadLimits.max_values)",
            )
        ]
    )


def _mark(file: str, node: yaml.Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)
