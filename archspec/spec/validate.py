"""Validation: loaded data → :class:`Spec`, collecting every independent problem of the file."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from archspec.errors import MAX_SHOWN_DIAGNOSTICS, Diagnostic, SpecError, SpecPath, did_you_mean
from archspec.loading.resolve import builtin_block_names
from archspec.loading.source import Document, SourceMap
from archspec.ops.containers import CONTAINERS
from archspec.ops.registry import loaded_ops, resolve_name
from archspec.spec.expressions import has_expression, referenced_names
from archspec.spec.items import ItemParser
from archspec.spec.model import (
    REQUIRED,
    SUPPORTED_VERSIONS,
    Block,
    Item,
    Spec,
    SpecModel,
    is_choice,
    is_class_name,
    walk_items,
)
from archspec.spec.overrides import apply_overrides, apply_scale
from archspec.spec.plugin_blocks import plugin_block_names, unknown_name_fix
from archspec.user_text import describe_value, listed, quoted


def validate(
    document: Document,
    overrides: dict[str, Any] | None = None,
    library: bool = False,
    override_origin: str = "overrides",
    scale: str | None = None,
) -> Spec:
    """Check a loaded document against spec format version 1. ``override_origin`` names where ``overrides``
    came from in later messages about them (the CLI's ``--set``). ``scale`` names one of the spec's ``scales``,
    whose param values apply before ``overrides`` (so an override of the same param wins).

    Raises:
        SpecError: with every problem found (structure, unknown ops, bad literal arguments, bad overrides).
    """
    data, source = document.data, document.source
    if not isinstance(data, dict):
        raise SpecError(
            [source.diagnostic((), f"a spec must be a mapping, got {describe_value(data)}", "start with 'archspec: 1'")]
        )
    version = data.get("archspec")
    if "archspec" in data and (type(version) is not int or version not in SUPPORTED_VERSIONS):
        known = ", ".join(map(str, SUPPORTED_VERSIONS))
        raise SpecError(
            [
                source.diagnostic(
                    ("archspec",),
                    f"unknown spec format version {describe_value(version)}; this archspec reads version {known}",
                    f"write 'archspec: {SUPPORTED_VERSIONS[-1]}' (or upgrade archspec for a newer format)",
                )
            ]
        )
    try:
        model = SpecModel.model_validate(data)
    except ValidationError as exc:
        # The error path's modules (wording tables, worked examples) load only when a spec is invalid.
        from archspec.spec.bounded_errors import bounded_diagnostics

        errors, omitted = bounded_diagnostics(exc, SpecModel, (), source, data)
        # Report layer problems too, so one run shows everything that is wrong.
        reported = {error.path for error in errors}
        layer_errors, layer_omitted = _layer_errors(data, document, library)
        raise SpecError(
            errors + [error for error in layer_errors if error.path not in reported], omitted + layer_omitted
        ) from None

    parser = ItemParser(source)
    blocks = {
        name: Block(
            name=name,
            params=dict(block.params),
            doc=block.doc,
            path=("blocks", name),
            layers=parser.parse_list(block.layers, ("blocks", name, "layers")),
            override=block.override,
            module=block.module,
            choices=dict(block.choices),
        )
        for name, block in model.blocks.items()
    }
    layers = parser.parse_list(model.layers, ("layers",))
    errors = list(parser.errors)
    spec = Spec(
        name=model.name,
        doc=model.doc,
        input=model.spec_input(),
        params=dict(model.params),
        blocks=blocks,
        layers=layers,
        source=source,
        text=document.text,
        override_origin=override_origin,
    )
    errors += _check_blocks(spec, library)
    name_errors, omitted = _check_names(spec, library)
    errors += name_errors
    errors += apply_scale(spec, dict(model.scales), scale)
    errors += apply_overrides(spec, overrides or {})
    errors += check_param_order(spec.params, ("params",), spec.source, "param '{}'")
    for block in spec.blocks.values():
        errors += check_param_order(
            block.params, (*block.path, "params"), spec.source, f"parameter '{{}}' of block '{block.name}'"
        )
    if errors:
        raise SpecError(errors, omitted)
    return spec


def _layer_errors(data: dict[str, Any], document: Document, library: bool) -> tuple[list[Diagnostic], int]:
    """The item and op-argument problems of a document whose top level is invalid (as far as they can be seen)."""
    parser = ItemParser(document.source)
    blocks: dict[str, Block] = {}
    raw_blocks = data.get("blocks")
    if isinstance(raw_blocks, dict):
        for name, block in raw_blocks.items():
            if isinstance(block, dict) and isinstance(block.get("layers"), list):
                params = block.get("params") if isinstance(block.get("params"), dict) else {}
                blocks[str(name)] = Block(
                    name=str(name),
                    params=dict(params),
                    path=("blocks", name),
                    layers=parser.parse_list(block["layers"], ("blocks", name, "layers")),
                )
    layers = parser.parse_list(data["layers"], ("layers",)) if isinstance(data.get("layers"), list) else []
    partial = Spec(name="", input=(), params={}, blocks=blocks, layers=layers, source=document.source)
    name_errors, omitted = _check_names(partial, library)
    return parser.errors + name_errors, omitted


def known_names(spec: Spec, library: bool = False) -> dict[str, str]:
    """Every name an item may use, with what it is (``library``: only ops, containers and the file's own blocks —
    the names checked before the other library files are read)."""
    names = {name: "op" for name in loaded_ops()}
    names.update({name: "container" for name in CONTAINERS})
    if not library:
        names.update({name: "block" for name in [*builtin_block_names(), *plugin_block_names()]})
    names.update({name: "block" for name in spec.blocks})
    return names


def _all_items(spec: Spec) -> list[Item]:
    items = walk_items(spec.layers)
    for block in spec.blocks.values():
        items.extend(walk_items(block.layers))
    return items


def _check_names(spec: Spec, library: bool = False) -> tuple[list[Diagnostic], int]:
    """Unknown ops get did-you-mean; literal arguments of primitive ops are checked now, not at expansion.

    Returns the diagnostics and how many further problems were counted but not described."""
    # First the names a library file sees (no built-in blocks): the library is read only if some item names none
    # of them. Most specs use no built-in block, and reading the library costs more than checking a small spec.
    names = known_names(spec, library=True)
    ops = loaded_ops()
    errors: list[Diagnostic] = []
    omitted = 0
    unknown: list[Item] = []
    for item in _all_items(spec):
        if item.op not in names:
            unknown.append(item)
            continue
        op = ops.get(item.op) or CONTAINERS.get(item.op)
        if op is None or not isinstance(item.args, dict):
            continue
        # What is written literally is checked now, beside the file's other errors; a key whose value is an
        # expression, or that 'first' overrides, waits for expansion (so do rules spanning several keys then).
        deferred = {key for key, value in item.args.items() if has_expression(value)} | set(item.first or {})
        literal = {key: value for key, value in item.args.items() if key not in deferred}
        try:
            op.Args.model_validate(literal)
        except ValidationError as exc:
            entries = [entry for entry in exc.errors() if not _deferred_error(entry, deferred)]
            if entries:
                from archspec.spec.bounded_errors import FirstErrors, bounded_diagnostics  # the error path only

                described, more = bounded_diagnostics(
                    FirstErrors(entries),
                    op.Args,  # type: ignore[arg-type]
                    item.op_path,
                    spec.source,
                    literal,
                )
                errors += described
                omitted += more
    if unknown:  # a library file may use the blocks of the others too (efficientnet.yaml uses mobilenet.yaml's)
        names = known_names(spec)
        unknown = [item for item in unknown if item.op not in names]
    # Only the first errors are shown (SpecError), so only the first unknown names get a did-you-mean search.
    misspelt = sorted(
        (
            spec.source.diagnostic(item.op_path, f"unknown op {quoted(item.op)}", unknown_name_fix(), key=True)
            for item in unknown
        ),
        key=_source_position,
    )
    for rank, diagnostic in enumerate(misspelt[:MAX_SHOWN_DIAGNOSTICS]):
        close = did_you_mean(str(diagnostic.path[-1]), names)
        if close:
            misspelt[rank] = replace(diagnostic, fix=close)
    return errors + misspelt, omitted


def _deferred_error(entry: Any, deferred: set[str]) -> bool:
    """A pydantic error that only the left-out (deferred) keys could cause: one of them missing, or a rule
    over the whole model."""
    loc = entry["loc"]
    return bool(deferred) and (not loc or (entry["type"] == "missing" and loc[0] in deferred))


def _source_position(diagnostic: Diagnostic) -> tuple[int, int]:
    location = diagnostic.location
    return (location.line, location.column) if location else (0, 0)


def _check_blocks(spec: Spec, library: bool = False) -> list[Diagnostic]:
    """A block may take the name of an op or a built-in block only by saying so (``override: true``), and never a
    container's (items of a container are parsed as the container's)."""
    errors: list[Diagnostic] = []
    resolve_name(*spec.blocks)  # a block may shadow a plugin's op only by saying so, as it may a built-in one
    taken = {name: "op" for name in loaded_ops()}
    if not library and spec.blocks:  # no blocks, nothing to check: the library is read only when needed
        taken.update({name: "block" for name in [*builtin_block_names(), *plugin_block_names()]})
    taken.update({name: "container" for name in CONTAINERS})
    for name, block in spec.blocks.items():
        kind = taken.get(name)
        if kind == "container":
            errors.append(
                spec.source.diagnostic(
                    block.path,
                    f"block '{name}' has the name of a built-in container, which a block cannot replace",
                    "rename the block",
                    key=True,
                )
            )
        elif kind is not None and not block.override:
            errors.append(
                spec.source.diagnostic(
                    block.path,
                    f"block '{name}' has the name of a built-in {kind}",
                    f"rename the block, or add 'override: true' to its definition to use "
                    f"it instead of the built-in {kind} in this spec",
                    key=True,
                )
            )
        elif kind is None and block.override:
            close = did_you_mean(name, [known for known, what in taken.items() if what != "container"])
            errors.append(
                spec.source.diagnostic(
                    (*block.path, "override"),
                    f"block '{name}' overrides nothing: no op or built-in block has its name",
                    close or "remove 'override: true'",
                    key=True,
                )
            )
        if block.module is not None and not is_class_name(block.module):
            errors.append(
                spec.source.diagnostic(
                    (*block.path, "module"),
                    f"module {quoted(block.module)} is not a Python class name",
                    "use ASCII letters, digits and '_', not "
                    "starting with a digit and not a Python keyword, e.g. "
                    "'module: MyBlock'",
                )
            )
        if name in block.params:
            errors.append(
                spec.source.diagnostic(
                    (*block.path, "params", name), f"parameter '{name}' shadows its own block", "rename it", key=True
                )
            )
        errors += _check_choices(spec, block)
    return errors


def _check_choices(spec: Spec, block: Block) -> list[Diagnostic]:
    """Every parameter given ``choices`` exists, and a default written as a value is one of its choices."""
    errors: list[Diagnostic] = []
    for key, allowed in block.choices.items():
        if key not in block.params:
            errors.append(
                spec.source.diagnostic(
                    (*block.path, "choices", key),
                    f"block '{block.name}' has no parameter '{key}' to give choices for",
                    did_you_mean(key, block.params) or f"its parameters: {listed(block.params) or 'none'}",
                    key=True,
                )
            )
            continue
        default = block.params[key]
        if default != REQUIRED and not has_expression(default) and not is_choice(default, allowed):
            errors.append(
                spec.source.diagnostic(
                    (*block.path, "params", key),
                    f"the default {describe_value(default)} of parameter '{key}' is not one of its choices "
                    f"({listed(map(str, allowed))})",
                    f"make the default one of them, or add it to 'choices: {{{key}: [...]}}'",
                )
            )
    return errors


def check_param_order(params: dict[str, Any], path: SpecPath, source: SourceMap, subject: str) -> list[Diagnostic]:
    """Params are evaluated in order, so each may use only those declared before it; a cycle has no value.

    ``subject`` names one of them in messages, ``{}`` standing for its name ("param '{}'").
    """
    order = list(params)
    position = {name: index for index, name in enumerate(order)}
    uses = {name: referenced_names(value) & position.keys() for name, value in params.items()}
    errors: list[Diagnostic] = []
    reported_cycles: list[set[str]] = []
    for name in order:
        later = sorted((used for used in uses[name] if position[used] >= position[name]), key=position.__getitem__)
        if not later:
            continue
        cycle = _cycle_through(name, uses)
        if cycle and set(cycle) in reported_cycles:
            continue  # one report per cycle, at its first member
        if cycle == [name, name]:
            message, fix = f"{subject.format(name)} uses itself", f"give '{name}' a value that does not use '{name}'"
        elif cycle:
            reported_cycles.append(set(cycle))
            message = (
                f"{subject.format(name)} is part of a cycle, {' → '.join(cycle)}: params may only use "
                "params declared before them"
            )
            fix = f"give one of {', '.join(repr(n) for n in cycle[:-1])} a value that does not use the others"
        else:
            shown = ", ".join(order) if len(order) <= 8 else ", ".join([*order[:8], "…"])
            message = (
                f"{subject.format(name)} uses '{later[0]}', which is declared after it; params may only use "
                f"params declared before them (the order here: {shown})"
            )
            fix = f"move '{later[0]}' above '{name}'"
        errors.append(source.diagnostic((*path, name), message, fix))
    return errors


def _cycle_through(start: str, uses: dict[str, set[str]]) -> list[str] | None:
    """A path of uses from ``start`` back to itself (``[a, b, a]``), or None."""
    trail: list[str] = [start]
    seen: set[str] = set()

    def search(name: str) -> bool:
        for used in sorted(uses[name]):
            if used == start:
                trail.append(start)
                return True
            if used not in seen:
                seen.add(used)
                trail.append(used)
                if search(used):
                    return True
                trail.pop()
        return False

    return trail if search(start) else None
