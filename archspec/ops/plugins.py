"""Plugins: ops, containers, blocks and torch layers from other installed packages.

A package declares an entry point in the group ``archspec.plugins`` naming one module; importing that module
registers its ops and containers with the same ``@register`` / ``@register_container`` decorators as the
built-ins (so they answer the same contract: shape, parameters, MACs, receptive field, builder, examples). The
module may also declare, as module attributes:

- ``ARCHSPEC_BLOCKS``: file names, inside the module's package, of block libraries (YAML, like
  ``archspec/blocks/*.yaml``);
- ``ARCHSPEC_LAYERS``: names of modules holding its ``nn.Module`` classes (importing only torch, as
  ``archspec/backend/layers/`` does), which the backend adds to the ``nn`` namespace of ``Op.build`` and the
  code generator copies into standalone source. Only the backend imports them, so ``check`` stays torch-free.

Entry points are scanned once per process, and only when needed: when a spec names something that is not a
built-in op or container (a block, a typo, a plugin's op), when a listing wants every op (``archspec list``,
``archspec schema``, :func:`archspec.ops.registry.all_ops`), or when the block library is read.

A broken plugin — its module fails to import, it registers a name that is taken, or a block file cannot be
read — is disabled with one warning on standard error naming the plugin and the problem; everything else keeps
working, and a spec that uses the plugin's names gets the usual located "unknown op" error, whose fix names the
broken plugin. An installed package should never stop ``archspec check`` on specs that do not use it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from importlib import import_module, resources

from archspec.errors import SpecError
from archspec.loading.source import Document
from archspec.loading.yaml_loader import load_text
from archspec.user_text import cut, escaped, quoted

GROUP = "archspec.plugins"


class PluginError(Exception):
    """A plugin cannot be loaded; the message says which and why."""


@dataclass
class Plugin:
    """One loaded plugin: its entry point's name, the module it names, the distribution that ships it, and what
    it brought."""

    name: str
    module: str
    distribution: str
    names: list[str] = field(default_factory=list)  # the ops and containers it registered
    blocks: list[Document] = field(default_factory=list)  # its block libraries, parsed, not yet validated
    layers: list[str] = field(default_factory=list)  # its modules of nn.Module classes

    @property
    def label(self) -> str:
        return f"plugin '{cut(self.name)}' ({cut(self.module)}, from {cut(self.distribution)})"


@dataclass
class _State:
    loaded: bool = False
    loading: Plugin | None = None  # the plugin whose module is being imported (names its registrations)
    plugins: list[Plugin] = field(default_factory=list)
    broken: dict[str, str] = field(default_factory=dict)  # plugin name → the warning it got


_STATE = _State()


def load_plugins() -> list[Plugin]:
    """Import every installed plugin once per process; the plugins that loaded."""
    if _STATE.loaded:
        return _STATE.plugins
    _STATE.loaded = True
    # Here, not at the top: package metadata is read only by the processes that look for plugins.
    from importlib.metadata import entry_points

    import archspec.ops.containers
    import archspec.ops.library  # noqa: F401  (built-ins first: a plugin may not take their names)

    for entry in sorted(entry_points(group=GROUP), key=lambda entry: (entry.name, entry.value)):
        distribution = entry.dist.name if entry.dist is not None else "an unknown distribution"
        plugin = Plugin(entry.name, entry.value, distribution)
        try:
            _load(plugin)
        except PluginError as error:
            disable(plugin, str(error))
        except Exception as error:  # a plugin's own bug: say so and go on without it, never a traceback
            disable(plugin, f"importing {cut(plugin.module)} failed: {type(error).__name__}: {cut(str(error))}")
        else:
            _STATE.plugins.append(plugin)
    return _STATE.plugins


def _load(plugin: Plugin) -> None:
    if ":" in plugin.module:
        raise PluginError(f"the entry point names {quoted(plugin.module)}; it must name a module (no ':attribute')")
    _STATE.loading = plugin
    try:
        module = import_module(plugin.module)
    finally:
        _STATE.loading = None
    files = _names(module, "ARCHSPEC_BLOCKS")
    plugin.layers = _names(module, "ARCHSPEC_LAYERS")
    package = module.__name__ if hasattr(module, "__path__") else module.__name__.rpartition(".")[0]
    try:
        plugin.blocks = [_block_file(plugin, package, file) for file in files]
    except PluginError as error:  # its ops are fine: only its blocks go (as when they fail validation)
        disable_blocks(plugin, str(error))


def _block_file(plugin: Plugin, package: str, file: str) -> Document:
    try:
        text = resources.files(package).joinpath(file).read_text(encoding="utf-8")
    except (OSError, ValueError) as error:
        raise PluginError(f"its block file {quoted(file)} cannot be read: {cut(str(error))}") from None
    try:
        return load_text(text, f"<plugin {plugin.name}>/{file}")
    except SpecError as error:  # located in the plugin's file: the warning shows where
        raise PluginError(f"its block file {quoted(file)} is not a valid spec file:\n{error}") from None


def _names(module: object, attribute: str) -> list[str]:
    value = getattr(module, attribute, ())
    if isinstance(value, str) or not all(isinstance(item, str) for item in value):
        raise PluginError(f"{attribute} must be a list of strings, got {cut(repr(value))}")
    return list(value)


def disable(plugin: Plugin, problem: str) -> None:
    """Remove what ``plugin`` registered and warn once, naming it."""
    from archspec.ops.registry import CONTAINERS, OPS

    for name in plugin.names:
        OPS.pop(name, None)
        CONTAINERS.pop(name, None)
    if plugin in _STATE.plugins:
        _STATE.plugins.remove(plugin)
    _warn(plugin, f"{plugin.label} is disabled: {problem}", "uninstall it or fix it (archspec runs without it)")


def disable_blocks(plugin: Plugin, problem: str) -> None:
    """Drop ``plugin``'s blocks (its ops stay: a spec may already use them) and warn once, naming it."""
    plugin.blocks = []
    _warn(plugin, f"the blocks of {plugin.label} are disabled: {problem}", "fix its block files")


def _warn(plugin: Plugin, message: str, fix: str) -> None:
    _STATE.broken[plugin.name] = message
    # A problem may end in a SpecError's located lines (each escaped already): they follow the headline and fix.
    headline, _, details = message.partition("\n")
    details = f":\n{escaped(details, keep=chr(10))}" if details else ""
    print(f"archspec: warning: {escaped(headline.rstrip(':'))} — {fix}{details}", file=sys.stderr)


def claim(name: str, kind: str, taken_by: str | None) -> None:
    """Called by the registry for every name registered: a plugin's name must be free."""
    plugin = _STATE.loading
    if plugin is None:
        if taken_by is not None:
            raise RuntimeError(f"op or container {name!r} is registered twice")
        return
    if taken_by is not None:
        raise PluginError(f"it registers the {kind} {quoted(name)}, a name {taken_by} already has")
    plugin.names.append(name)


def origin(name: str) -> str:
    """Who registered op or container ``name``: 'built-in' or the plugin's label."""
    for plugin in [*_STATE.plugins, *([_STATE.loading] if _STATE.loading else [])]:
        if name in plugin.names:
            return plugin.label
    return "built-in"


def broken_plugins() -> dict[str, str]:
    """Each disabled plugin's warning, by plugin name."""
    return dict(_STATE.broken)


def plugin_block_documents() -> list[tuple[Plugin, Document]]:
    """Every loaded plugin's block files, parsed (validated by :mod:`archspec.blocks.library`)."""
    return [(plugin, document) for plugin in load_plugins() for document in plugin.blocks]


def plugin_layer_modules() -> list[tuple[Plugin, str]]:
    """The modules of nn.Module classes of every loaded plugin, with the plugin, for the backend and the code
    generator (which import them, or read their source: they are named here, never imported)."""
    return [(plugin, module) for plugin in load_plugins() for module in plugin.layers]


def layer_error(plugin: Plugin, problem: str) -> SpecError:
    """The error of a plugin whose layers cannot be used: its ops cannot be built (found only when building)."""
    from archspec.errors import Diagnostic

    return SpecError([Diagnostic(f"{plugin.label}: {problem}", fix="fix the plugin, or uninstall it")])
