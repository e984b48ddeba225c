"""Parse layer-list entries: ``- relu`` or ``- conv: {...}`` with the modifiers beside the op key."""

from __future__ import annotations

import re
from typing import Any

from archspec.errors import Diagnostic, SpecPath, did_you_mean
from archspec.loading.source import SourceMap
from archspec.ops.containers import CONTAINERS, RESERVED_IDS
from archspec.ops.registry import all_ops, resolve_name
from archspec.spec.expressions import is_expression
from archspec.spec.model import INLINE_GROUP, NAME_PATTERN, Item, is_module_name
from archspec.user_text import cut, describe_value, quoted

MODIFIERS = ("name", "repeat", "first", "id", "from", "if", "inline")
_NAME = re.compile(NAME_PATTERN)


class ItemParser:
    """Collects every problem in a layer list instead of stopping at the first."""

    def __init__(self, source: SourceMap):
        self.source = source
        self.errors: list[Diagnostic] = []

    def error(self, path: SpecPath, message: str, fix: str | None = None, key: bool = False) -> None:
        self.errors.append(self.source.diagnostic(path, message, fix, key))

    def parse_list(self, raw: Any, path: SpecPath) -> list[Item]:
        if not isinstance(raw, list):
            self.error(path, f"expected a list of layers, got {describe_value(raw)}", "write one '- op' per line")
            return []
        if not raw:
            self.error(path, "the layer list is empty", "add at least one layer")
        items = [self.parse_item(entry, (*path, index)) for index, entry in enumerate(raw)]
        return [item for item in items if item is not None]

    def parse_item(self, raw: Any, path: SpecPath) -> Item | None:
        if isinstance(raw, str):
            if not _NAME.fullmatch(raw):
                self.error(path, f"{quoted(raw)} is not an op name", "write an op name such as 'relu'")
                return None
            resolve_name(raw)
            return Item(op=raw, args={}, path=path)
        if not isinstance(raw, dict):
            self.error(
                path,
                f"a layer must be an op name or a mapping, got {describe_value(raw)}",
                "write '- relu' or '- conv: {out: 64, kernel: 3}'",
            )
            return None
        op_keys = [key for key in raw if key not in MODIFIERS]
        if len(op_keys) > 1:
            op_keys = self.misspelt_modifiers(op_keys, path)
        if not op_keys:
            self.error(path, "this item has modifiers but no op", "add the op key, e.g. 'conv: {...}'")
            return None
        if len(op_keys) > 1:
            self.error(
                (*path, op_keys[1]),
                f"one item holds two ops: {quoted(op_keys[0])} and {quoted(op_keys[1])}",
                "put each op in its own list item (start the second with '- ')",
                key=True,
            )
            return None
        op = op_keys[0]
        item = Item(op=op, args=raw[op], path=path)
        resolve_name(op)  # a plugin's container must be known before its items are parsed
        if op in CONTAINERS:
            if not self.parse_container(item):
                return None
        elif item.args is None:
            item.args = {}
        elif not isinstance(item.args, dict):
            self.error(
                (*path, op),
                f"the arguments of {quoted(op)} must be a mapping, got {describe_value(item.args)}",
                f"write '{cut(op)}: {{name: value, ...}}'",
            )
            return None
        self.parse_modifiers(raw, item)
        return item

    def misspelt_modifiers(self, op_keys: list[str], path: SpecPath) -> list[str]:
        """Beside an op, a key like 'repaet' is a misspelt modifier rather than a second op: say so."""
        known = {*all_ops(), *CONTAINERS}
        misspelt = {key: did_you_mean(key, MODIFIERS) for key in op_keys if key not in known}
        misspelt = {key: fix for key, fix in misspelt.items() if fix}
        if len(op_keys) - len(misspelt) != 1:
            return op_keys
        for key, fix in misspelt.items():
            self.error((*path, key), f"unknown modifier {quoted(key)}", fix, key=True)
        return [key for key in op_keys if key not in misspelt]

    def parse_container(self, item: Item) -> bool:
        """Split a container's value into its children (or branches) and its own arguments, as its declared
        syntax says (:class:`archspec.ops.containers.base.Syntax`)."""
        syntax, path = CONTAINERS[item.op].syntax, item.op_path
        value = {} if item.args is None else item.args
        key = syntax.children_key
        if key is None:
            item.children, item.args = self.parse_list(value, path), {}
            return True
        if not isinstance(value, dict):
            self.error(
                path,
                f"'{item.op}' takes a mapping, got {describe_value(value)}",
                f"write '{item.op}: {{{syntax.example}}}'",
            )
            return False
        item.args = {name: v for name, v in value.items() if name != key}
        if not syntax.branched:
            if key not in value:
                self.error(path, f"'{item.op}' needs '{key}'", f"add '{key}: [...]'", key=True)
                return False
            item.children = self.parse_list(value[key], (*path, key))
            return True
        return self.parse_branches(item, value.get(key, []), (*path, key))

    def parse_branches(self, item: Item, branches: Any, path: SpecPath) -> bool:
        """Branches: a list of item lists (named 0, 1, ...) or a mapping of them; an empty one is the identity."""
        if isinstance(branches, dict):
            named = list(branches.items())
        elif isinstance(branches, list):
            named = [(str(index), branch) for index, branch in enumerate(branches)]
        else:
            self.error(
                path,
                f"'{path[-1]}' must be a list of layer lists or a mapping of them, got {describe_value(branches)}",
                f"write '{path[-1]}: [[...], [...]]'",
            )
            return False
        item.branches = []
        for name, branch in named:
            branch_path = (*path, name if isinstance(branches, dict) else int(name))
            if isinstance(branches, dict) and not _NAME.fullmatch(str(name)):
                self.error(
                    branch_path,
                    f"branch name {quoted(name)} is not a valid module name",
                    "use letters, digits and '_'",
                    key=True,
                )
            if branch is None or branch == []:
                item.branches.append((str(name), []))
                continue
            item.branches.append((str(name), self.parse_list(branch, branch_path)))
        return True

    def parse_modifiers(self, raw: dict[str, Any], item: Item) -> None:
        path = item.path
        if "name" in raw:
            item.name = raw["name"]
            # digits are a position: a block whose module is an nn.Sequential in torchvision (Conv2dNormActivation)
            # names its children 0, 1, 2
            if not (isinstance(item.name, str) and (is_module_name(item.name) or is_expression(item.name))):
                self.error(
                    (*path, "name"),
                    f"name {describe_value(item.name)} is not a valid module name",
                    "use letters, digits and '_' (no dots), not starting with a digit, or digits alone (a position)",
                )
        if "repeat" in raw:
            item.repeat = raw["repeat"]
            if not _is_count(item.repeat):
                self.error(
                    (*path, "repeat"),
                    f"repeat must be a whole number >= 1, got {describe_value(item.repeat)}",
                    "write e.g. 'repeat: 3'",
                )
        if "first" in raw:
            if not isinstance(raw["first"], dict):
                self.error(
                    (*path, "first"),
                    f"'first' must be a mapping of arguments, got {describe_value(raw['first'])}",
                    "write 'first: {stride: 2}'",
                )
            elif "repeat" not in raw:
                self.error(
                    (*path, "first"),
                    "'first' only makes sense with 'repeat'",
                    "add 'repeat: N' or merge these arguments into the op's",
                    key=True,
                )
            else:
                item.first = raw["first"]
        if "id" in raw:
            item.id = raw["id"]
            if not (isinstance(item.id, str) and _NAME.fullmatch(item.id)):
                self.error(
                    (*path, "id"),
                    f"id {describe_value(item.id)} is not a valid identifier",
                    "use letters, digits and '_'",
                )
            elif item.id in RESERVED_IDS:
                self.error(
                    (*path, "id"),
                    f"id '{item.id}' is reserved ({', '.join(RESERVED_IDS)} name the "
                    "previous output and the list's input in 'from')",
                    "choose another id",
                )
        if "from" in raw:
            sources = raw["from"] if isinstance(raw["from"], list) else [raw["from"]]
            if not sources or not all(isinstance(s, str) for s in sources):
                self.error(
                    (*path, "from"),
                    f"'from' must name earlier ids, got {describe_value(raw['from'])}",
                    "write 'from: some_id' or 'from: [a, b]'",
                )
            else:
                item.inputs = sources
        if "inline" in raw:
            self.parse_inline(raw, item)
        if "if" in raw:
            item.condition = raw["if"]
            if not (isinstance(item.condition, bool) or is_expression(item.condition)):
                self.error(
                    (*path, "if"),
                    f"'if' must be true/false or an expression, got {describe_value(item.condition)}",
                    "write e.g. 'if: ${stride > 1}'",
                )

    def parse_inline(self, raw: dict[str, Any], item: Item) -> None:
        """``inline: true`` (the item adds no module level) or ``inline: group`` (a repeat's copies register on
        the enclosing module, each one a module named by ``name``, which may read the copy's index ``copy``)."""
        path, value = (*item.path, "inline"), raw["inline"]
        if value is not True and value is not False and value != INLINE_GROUP:
            self.error(
                path,
                f"inline must be true, false or '{INLINE_GROUP}', got {describe_value(value)}",
                "write 'inline: true' (no module level for this item) or 'inline: group' (a repeat's "
                "copies without their group)",
            )
        elif value == INLINE_GROUP and "repeat" not in raw:
            self.error(
                path,
                f"'inline: {INLINE_GROUP}' only makes sense with 'repeat'",
                "write 'inline: true' to inline the item itself, or add 'repeat: N'",
            )
        elif value is True and "name" in raw:
            self.error(
                path,
                "an inlined item adds no module, so its 'name' would name nothing",
                "remove 'name' (its children keep theirs), or 'inline: group' to name each copy of a repeat",
                key=True,
            )
        elif value is True and item.op in CONTAINERS and CONTAINERS[item.op].produces_side_output:
            self.error(
                path,
                f"a '{item.op}' cannot be inlined: its module holds its side output",
                "remove 'inline', or inline the items inside it",
            )
        else:
            item.inline = value or None


def _is_count(value: Any) -> bool:
    if is_expression(value):
        return True
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1
