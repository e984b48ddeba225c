"""Composing YAML text into PyYAML's node graph by the YAML 1.2 core schema, stopped at a nesting depth.

Nodes are composed by PyYAML's Python composer over the C parser's events (where PyYAML has the C parser), so
nesting depth is checked while composing — the C composer recurses without a limit and crashes on ``[[[[...``
bombs.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import yaml
from yaml.composer import Composer

from archspec.loading import core_schema
from archspec.loading.core_schema import TAG as _TAG
from archspec.loading.load_limits import LoadLimits

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CoreSchemaLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Resolves plain scalars by the YAML 1.2 core schema instead of PyYAML's YAML 1.1 rules."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {}


class TooDeep(Exception):
    def __init__(self, mark: Any):
        super().__init__("nesting too deep")
        self.mark = mark


class DepthLimitedLoader(Composer, _CoreSchemaLoader):  # type: ignore[misc]
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
                raise TooDeep(self.peek_event().start_mark)
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


def compose(text: str, limits: LoadLimits) -> yaml.Node | None:
    """The node graph of ``text``, stopped (``TooDeep``) past the nesting limit."""
    loader = DepthLimitedLoader(text)
    loader.max_depth = limits.max_depth
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()
