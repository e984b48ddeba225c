"""Standalone PyTorch source for a spec: a Python file that needs only torch.

The source is recorded, not written by hand: the backend's own build routine runs with stand-ins for
``torch.nn`` and :mod:`archspec.backend.modules` that turn every constructor call into text: a container is
written as the call of the module class it declares (``Concat([...], dim=1)``). The runtime classes come from
``archspec/backend/modules.py``, the one place they are defined, with its imports of archspec's constants
replaced by their values. So the generated module has the compiled
module's exact submodule paths and state-dict keys, and cannot drift from it.

Everything that comes from the spec — module names, string and number arguments, the spec's name and file
path — is written through ``repr`` (or escaped, inside the docstring), so no spec can put code in the file.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from archspec.backend.torch_backend import build_tree
from archspec.ir.graph import Network

_INDENT = "    "
# Containers nested inline before a deeper one moves into a function of its own. Python's parser refuses
# more than 200 nested brackets ("too many nested parentheses") and every container nests three — ``name(``,
# ``[`` and the ``(name, module)`` pair — so a network nested 64 deep cannot be one expression. A split-out
# function is called where the expression stood, so modules are still constructed in the same order (the
# same seed gives the same weights). No bundled spec nests deep enough to need it.
_INLINE_LEVELS = 12


class _Call:
    """A recorded constructor call, rendered as Python source."""

    def __init__(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]):
        self.name, self.args, self.kwargs = name, args, kwargs

    def render(self, depth: int, where: _Where) -> str:
        container = self.holds_calls()
        if container and where.level >= _INLINE_LEVELS:
            return where.split_out(self)
        inside = where.inside(container)
        parts = [_literal(a, depth + 1, inside) for a in self.args]
        parts += [f"{key}={_literal(value, depth + 1, inside)}" for key, value in self.kwargs.items()]
        flat = f"{self.name}({', '.join(parts)})"
        if "\n" not in flat and len(flat) <= 100:
            return flat
        inner = _INDENT * (depth + 1)
        return f"{self.name}(\n" + "".join(f"{inner}{part},\n" for part in parts) + f"{_INDENT * depth})"

    def holds_calls(self) -> bool:
        """Whether it builds other modules (a container or routing wrapper), as opposed to a leaf."""
        return any(_has_call(value) for value in (*self.args, *self.kwargs.values()))


@dataclass
class _Where:
    """Where rendering stands: the module path, how many containers deep inside the current function, and
    the functions split out so far (function name, module path, call), shared by every ``_Where``."""

    path: str = ""
    level: int = 0
    functions: list[tuple[str, str, _Call]] = field(default_factory=list)

    def inside(self, container: bool) -> _Where:
        return _Where(self.path, self.level + container, self.functions)

    def child(self, name: str) -> _Where:
        return _Where(f"{self.path}.{name}" if self.path else name, self.level, self.functions)

    def split_out(self, call: _Call) -> str:
        name = f"_build_part_{len(self.functions) + 1}"
        self.functions.append((name, self.path, call))
        return f"{name}()"


class _Recorder:
    """Stands in for a module namespace: ``recorder.Conv2d(...)`` records ``nn.Conv2d(...)``; the names in
    ``own`` (archspec's layer classes, copied into the file) are recorded without the prefix, and noted in
    ``used``."""

    def __init__(self, prefix: str, own: frozenset[str] = frozenset()):
        self._prefix, self._own, self.used = prefix, own, set()

    def __getattr__(self, name: str) -> Any:
        if name in self._own:
            self.used.add(name)
            return lambda *args, **kwargs: _Call(name, args, kwargs)
        return lambda *args, **kwargs: _Call(self._prefix + name, args, kwargs)


def _has_call(value: Any) -> bool:
    if isinstance(value, _Call):
        return True
    return isinstance(value, list | tuple) and any(_has_call(v) for v in value)


def _literal(value: Any, depth: int, where: _Where) -> str:
    """Python source for a recorded argument: spec-derived values only ever through ``repr``."""
    if isinstance(value, _Call):
        return value.render(depth, where)
    if isinstance(value, list):
        if not value:
            return "[]"
        inner = _INDENT * (depth + 1)
        return "[\n" + "".join(f"{inner}{_literal(v, depth + 1, where)},\n" for v in value) + f"{_INDENT * depth}]"
    if isinstance(value, tuple):
        if len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], _Call):  # (name, module)
            items = [repr(value[0]), _literal(value[1], depth, where.child(value[0]))]
        else:
            items = [_literal(v, depth, where) for v in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"  # repr gives inf or nan, which are no Python literals
    return repr(value)


def _in_docstring(text: str) -> str:
    r"""``text`` as it may stand inside a triple-quoted string: backslashes and double quotes escaped, and
    unprintable characters written as escapes — a spec file may be named ``a\xz.yaml``, or hold three
    double quotes in its name.

    >>> print(_in_docstring('a\\xz' + '"' * 3 + '.yaml' + chr(10)))
    a\\xz\"\"\".yaml\n
    """
    return "".join("\\" + c if c in '\\"' else c if c.isprintable() else repr(c)[1:-1] for c in text)


def _runtime_classes() -> str:
    """The container classes, from the backend's own source (which imports nothing of archspec's)."""
    source = resources.files("archspec.backend").joinpath("modules.py").read_text(encoding="utf-8")
    body = source.split('"""', 2)[2]  # drop the module docstring
    return body


def _layer_sources() -> dict[str, tuple[frozenset[str], str]]:
    """archspec's leaf module classes (archspec/backend/layers), read as text — importing them would import
    torch: per file, the classes it defines and its source without docstring and ``__future__`` import."""
    files = resources.files("archspec.backend").joinpath("layers")
    sources = {}
    for entry in sorted(files.iterdir(), key=lambda entry: entry.name):
        if not entry.name.endswith(".py") or entry.name == "__init__.py":
            continue
        source = entry.read_text(encoding="utf-8")
        tree = ast.parse(source)
        names = frozenset(node.name for node in tree.body if isinstance(node, ast.ClassDef))
        body = source.split('"""', 2)[2] if ast.get_docstring(tree) else source
        sources[entry.name] = (names, body.replace("from __future__ import annotations\n", ""))
    return sources | _plugin_layer_sources()


def _plugin_layer_sources() -> dict[str, tuple[frozenset[str], str]]:
    """The same, for the layer modules of installed plugins (read as text too, found without importing them)."""
    from importlib.util import find_spec

    from archspec.ops.plugins import layer_error, plugin_layer_modules

    sources = {}
    for plugin, module_name in plugin_layer_modules():
        try:
            found = find_spec(module_name)
            source = Path(found.origin).read_text(encoding="utf-8") if found and found.origin else None
        except (ImportError, OSError, ValueError) as error:
            raise layer_error(plugin, f"the source of {module_name} cannot be read: {error}") from None
        if source is None:
            raise layer_error(plugin, f"its layer module {module_name} is not installed")
        tree = ast.parse(source)
        names = frozenset(node.name for node in tree.body if isinstance(node, ast.ClassDef))
        body = source.split('"""', 2)[2] if ast.get_docstring(tree) else source
        sources[f"plugin:{module_name}"] = (names, body.replace("from __future__ import annotations\n", ""))
    return sources


def _used_layers(sources: dict[str, tuple[frozenset[str], str]], used: set[str]) -> str:
    """The source of the layer files that define a class the network uses, with the imports that the
    container classes' source already has left out."""
    present = {line for line in _runtime_classes().splitlines() if line.startswith(("import ", "from "))}
    parts = []
    for names, body in sources.values():
        if names & used:
            lines = [line for line in body.splitlines() if line not in present]
            parts.append("\n".join(lines).strip("\n"))
    return "".join(f"\n\n\n{part}" for part in parts)


def generate_source(network: Network) -> str:
    """Python source defining ``build_model()`` → an ``nn.Module`` equal in structure to ``archspec.compile``."""
    layers = _layer_sources()
    nn = _Recorder("nn.", frozenset().union(*(names for names, _ in layers.values())))
    tree = build_tree(network, nn, _Recorder(""))
    where = _Where()
    body = tree.render(1, where)
    functions = []
    for name, path, call in where.functions:  # grows while it runs: a split-out part may split out deeper ones
        part = call.render(1, _Where(path, 0, where.functions))
        functions.append(
            f'\n\ndef {name}() -> nn.Module:\n{_INDENT}"""Builds {_in_docstring(path)!s} (split out of '
            f'its parent to keep the source shallow)."""\n{_INDENT}return {part}\n'
        )
    doc = _in_docstring(f"{network.name}: generated by archspec from {network.file}. Needs only torch.")
    return (
        f'"""{doc}\n\nbuild_model() returns the network; its state dict matches archspec.compile\'s.\n"""\n'
        f"{_runtime_classes().lstrip()}{_used_layers(layers, nn.used)}\n\n"
        f"def build_model() -> nn.Module:\n{_INDENT}return {body}\n"
        + "".join(functions)
        + f'\n\nif __name__ == "__main__":\n{_INDENT}print(build_model())\n'
    )
