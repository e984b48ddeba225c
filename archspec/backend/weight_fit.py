"""Loading a state dict into a compiled module, with a readable report of what does not fit.

Strict (the default) loads only a state dict that fits exactly: every entry of the module present, no entry the
module lacks, every tensor dense and of the module's shape and element type. Anything else is a ``FILE: error:``
(:class:`SpecError`) that counts the problems by kind, then names each entry — with the closest name on the
other side where one looks like a rename — within :data:`~archspec.errors.MAX_SHOWN_DIAGNOSTICS` lines, so a
file of another network with thousands of keys gets a short report at a bounded cost (names are compared only
for the entries shown). A state dict whose keys all carry a prefix (``module.``, from ``DataParallel``) is told
so in one line.

Non-strict loads the entries whose name and shape fit (converting floating-point types), keeps the module's
own values for the rest and returns the same report as warnings; a file none of whose entries fit is still an
error (it is the wrong file). ``num_batches_tracked`` of a batch norm may be missing, as torch allows (older
state dicts lack it): the module keeps its own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from archspec.backend.weight_files import Weights, describe_tensor
from archspec.errors import MAX_SHOWN_DIAGNOSTICS, Diagnostic, SpecError
from archspec.user_text import quoted

_OPTIONAL = ".num_batches_tracked"  # torch fills it in when a state dict lacks it (BatchNorm's version 1)
_MAX_COMPARED = 5000  # names compared for one suggestion: a bounded cost for a file of any size
_SHOWN_KEYS = 3  # keys named in a line about a group of entries
_SHOWN_GROUPS = 6  # top-level names listed for weights of another network
_SIMILAR = 0.6  # difflib's ratio above which a name of the same shape reads as a rename


@dataclass(frozen=True)
class Hints:
    """How the caller's user relaxes strictness and changes params, for the fixes (the CLI's options or the
    API's arguments)."""

    relax: str = "--no-strict"
    params: str = "--set KEY=VALUE"


CLI_HINTS = Hints()
API_HINTS = Hints("strict=False", "overrides={...}")


@dataclass
class _Problem:
    """One kind of misfit: ``count`` entries, described by ``items`` (keys, or groups of them) one line each."""

    kind: str
    count: int
    items: list[Any]
    describe: Callable[[Any], tuple[str, str]]  # item -> (message, fix)


@dataclass
class _Sorted:
    """The entries of a state dict sorted against the module's: what loads, and each kind of misfit."""

    loadable: dict[str, Any]
    missing: list[str]
    unexpected: list[str]
    misshaped: list[str]
    mistyped: dict[tuple[Any, Any], list[str]]  # (the file's dtype, the module's) -> keys
    not_dense: list[str]


def load_state(model: Any, weights: Weights, strict: bool = True, hints: Hints = CLI_HINTS) -> list[Diagnostic]:
    """Load ``weights`` into ``model``; the warnings about what was not loaded (none when ``strict``).

    Raises:
        SpecError: when ``strict`` and any entry does not fit, or when no entry at all fits.
    """
    expected = model.state_dict()
    given = weights.state
    entries = _sort(expected, given, strict)
    problems = [problem for problem in _problems(entries, expected, weights, strict, hints) if problem.count]
    converted = [key for key, tensor in entries.loadable.items() if tensor is not given[key]]
    notes = _converted_note(weights, converted) if converted else []
    if not problems:
        # Every entry checked above; strict=False only lets a missing num_batches_tracked keep the module's own.
        _load(model, expected, entries.loadable)
        return notes
    prefix = _prefix_note(weights, list(expected), list(given))
    if prefix is None and expected and given and not set(expected) & set(given):
        raise SpecError([_nothing_in_common(weights, list(expected), list(given))])
    counts = _counts(problems, len(expected), len(given), weights.noun)
    if strict or not entries.loadable:
        summary = weights.error(
            f"the weights do not fit the module: {counts}"
            if strict
            else f"none of the {len(given):,} entries of {weights.noun} fit the module: {counts}",
            f"fix the entries listed below, or pass {hints.relax} to load those that fit and keep the module's "
            "own values for the rest"
            if strict
            else f"check that {weights.noun} holds the weights of the network the spec builds",
        )
        raise _report(summary, prefix, problems, weights)
    _load(model, expected, entries.loadable)
    summary = weights.error(
        f"loaded {len(entries.loadable):,} of the module's {len(expected):,} entries from {weights.noun}; {counts}",
        "the module keeps its own values for the entries not loaded",
        severity="warning",
    )
    shown = [prefix] if prefix else _shown(problems, "warning", weights)
    return [summary, *shown, *notes]


def _load(model: Any, expected: Any, loadable: dict[str, Any]) -> None:
    """``load_state_dict`` of the checked entries, read as the module's own version of each layer's state (its
    ``_metadata``): the entries are checked against this module, whatever version of torch wrote the file."""
    state = OrderedDict(loadable)
    state._metadata = getattr(expected, "_metadata", None)  # type: ignore[attr-defined]
    model.load_state_dict(state, strict=False)


def _sort(expected: dict[str, Any], given: dict[str, Any], strict: bool) -> _Sorted:
    entries = _Sorted(
        {},
        [key for key in expected if key not in given and not key.endswith(_OPTIONAL)],
        [key for key in given if key not in expected],
        [],
        {},
        [],
    )
    for key, want in expected.items():
        have = given.get(key)
        if have is None:
            continue
        if have.layout != torch.strided or have.is_quantized or have.is_meta:
            entries.not_dense.append(key)
        elif have.shape != want.shape:
            entries.misshaped.append(key)
        elif have.dtype == want.dtype:
            entries.loadable[key] = have
        elif not strict and have.is_floating_point() and want.is_floating_point():
            entries.loadable[key] = have.to(want.dtype)  # non-strict converts precision (a float16 file to float32)
        else:
            entries.mistyped.setdefault((have.dtype, want.dtype), []).append(key)
    return entries


def _problems(
    entries: _Sorted, expected: dict[str, Any], weights: Weights, strict: bool, hints: Hints
) -> list[_Problem]:
    given, noun = weights.state, weights.noun

    def missing(key: str) -> tuple[str, str]:
        close = _closest(key, entries.unexpected, expected[key], given)
        return (
            f"the module's {quoted(key)} ({describe_tensor(expected[key])}) is not in {noun}",
            f"did you mean {noun}'s {quoted(close)}?"
            if close
            else f"the spec builds it; {noun} was saved from another network or with other params ({hints.params})",
        )

    def unexpected(key: str) -> tuple[str, str]:
        close = _closest(key, entries.missing, given[key], expected)
        return (
            f"{noun}'s {quoted(key)} ({_describe(given[key])}) is not in the module the spec builds",
            f"did you mean the module's {quoted(close)}?"
            if close
            else "no entry of the module of its shape has a similar name; check that the spec is the network the "
            "weights are for",
        )

    def misshaped(key: str) -> tuple[str, str]:
        saved_with = f"build the network with the params the weights were saved with ({hints.params})"
        return (
            f"{quoted(key)} is {describe_tensor(given[key])} in {noun} but {describe_tensor(expected[key])} in the "
            "module",
            f"{saved_with}, or pass {hints.relax} to keep the module's own {quoted(key)}"
            if strict
            else f"the module keeps its own {quoted(key)}; to load it, {saved_with}",
        )

    def mistyped(group: tuple[Any, Any]) -> tuple[str, str]:
        keys = entries.mistyped[group]
        convert = "convert the tensors before saving (e.g. {k: v.float() for k, v in state.items()})"
        return (
            f"{_entries(keys)} {'holds' if len(keys) == 1 else 'hold'} {group[0]} in {noun}, {group[1]} in the module",
            f"{convert}, or pass {hints.relax}, which converts floating-point tensors"
            if strict
            else f"the module keeps its own values; to load them, {convert}",
        )

    def not_dense(key: str) -> tuple[str, str]:
        return (
            f"{quoted(key)} in {noun} is {_describe(given[key])}, not a dense tensor with data",
            "save dense tensors on the CPU (tensor.to_dense(), tensor.dequantize(), tensor.cpu())",
        )

    groups = entries.mistyped
    return [
        _Problem("missing", len(entries.missing), entries.missing, missing),
        _Problem("unexpected", len(entries.unexpected), entries.unexpected, unexpected),
        _Problem("of another shape", len(entries.misshaped), entries.misshaped, misshaped),
        _Problem("of another type", sum(map(len, groups.values())), list(groups), mistyped),
        _Problem("not dense", len(entries.not_dense), entries.not_dense, not_dense),
    ]


def _entries(keys: list[str]) -> str:
    """``'conv1.weight'``, or ``102 entries ('conv1.weight', 'bn1.weight', ...)``."""
    if len(keys) == 1:
        return quoted(keys[0])
    shown = ", ".join(quoted(key) for key in keys[:_SHOWN_KEYS])
    return f"{len(keys):,} entries ({shown}{', …' if len(keys) > _SHOWN_KEYS else ''})"


def _report(summary: Diagnostic, prefix: Diagnostic | None, problems: list[_Problem], weights: Weights) -> SpecError:
    if prefix is not None:
        # One line says it all: the per-entry lines would name every key twice, once on each side.
        return SpecError([summary, prefix])
    shown = _shown(problems, "error", weights)
    total = sum(len(problem.items) for problem in problems)
    return SpecError([summary, *shown], omitted=total - len(shown))


def _shown(problems: list[_Problem], severity: str, weights: Weights) -> list[Diagnostic]:
    """At most ``MAX_SHOWN_DIAGNOSTICS - 1`` entries (one line is the summary's), shared fairly by the kinds of
    problem, in order: a file of thousands of missing keys still shows the unexpected ones."""
    budget = MAX_SHOWN_DIAGNOSTICS - 1
    shares = [0] * len(problems)
    while budget and any(shares[index] < len(problem.items) for index, problem in enumerate(problems)):
        for index, problem in enumerate(problems):
            if budget and shares[index] < len(problem.items):
                shares[index] += 1
                budget -= 1
    lines = []
    for problem, share in zip(problems, shares, strict=True):
        for item in problem.items[:share]:
            message, fix = problem.describe(item)
            lines.append(weights.error(message, fix, severity))
    return lines


def _counts(problems: list[_Problem], expected: int, given: int, noun: str) -> str:
    """``3 of the module's 62 entries are not in the file, 2 of the file's 61 are not in the module, 1 is of
    another shape``."""
    parts = []
    for problem in problems:
        count = problem.count
        verb = "is" if count == 1 else "are"
        if problem.kind == "missing":
            parts.append(f"{count:,} of the module's {expected:,} entries {verb} not in {noun}")
        elif problem.kind == "unexpected":
            parts.append(f"{count:,} of {noun}'s {given:,} {verb} not in the module")
        else:
            parts.append(f"{count:,} {verb} {problem.kind}")
    return ", ".join(parts)


def _closest(key: str, candidates: list[str], tensor: Any, other: dict[str, Any]) -> str | None:
    """The candidate that looks like ``key`` renamed: a renamed entry keeps its shape, so only those of the same
    shape are considered (the first :data:`_MAX_COMPARED` of them), and the most similar name is the one if it
    is similar enough."""
    import difflib  # only for a report

    shape = getattr(tensor, "shape", None)
    alike = [name for name in candidates if getattr(other[name], "shape", None) == shape][:_MAX_COMPARED]
    close = difflib.get_close_matches(key, alike, n=1, cutoff=_SIMILAR)
    return close[0] if close else None


def _prefix_note(weights: Weights, expected: list[str], given: list[str]) -> Diagnostic | None:
    """When every key on one side is the other's with a prefix (``module.`` from DataParallel, ``model.`` from a
    Lightning module, ``backbone.``): one line that says which, and how to strip or add it."""
    noun = weights.noun
    for longer, shorter, side in ((given, expected, noun), (expected, given, "the module")):
        prefix = _common_prefix(longer)
        if not prefix:
            continue
        stripped = {key[len(prefix) :] for key in longer}
        matched = len(stripped & set(shorter))
        if matched * 2 < len(shorter) or not matched:
            continue
        if side == noun:
            fix = (
                f"strip it: state = {{k.removeprefix({prefix!r}): v for k, v in state.items()}}, then save or pass that"
            )
        else:
            fix = f"add it: state = {{{prefix!r} + k: v for k, v in state.items()}}, then save or pass that"
        return weights.error(
            f"every key of {side} starts with {quoted(prefix)}"
            + (" (as a DataParallel or DistributedDataParallel module's do)" if prefix == "module." else "")
            + f"; without it, {matched:,} of the {len(shorter):,} entries of "
            f"{'the module' if side == noun else noun} match",
            fix,
        )
    return None


def _nothing_in_common(weights: Weights, expected: list[str], given: list[str]) -> Diagnostic:
    """About weights of another network: one line naming the top-level groups of both, not a line per key."""
    return weights.error(
        f"no entry of {weights.noun} has a name the module has: its {len(given):,} entries are under "
        f"{_groups(given)}, the module's {len(expected):,} under {_groups(expected)}",
        f"check that {weights.noun} holds the weights of the network the spec builds; for one whose layers are "
        "registered in the same order under other names, archspec.load_weights_in_order(model, state) copies them "
        "by position",
    )


def _groups(keys: list[str]) -> str:
    """``'features', 'classifier'``: the distinct first parts of the keys, the first few."""
    firsts = list(dict.fromkeys(key.partition(".")[0] for key in keys))
    shown = ", ".join(quoted(first) for first in firsts[:_SHOWN_GROUPS])
    return shown + (f" and {len(firsts) - _SHOWN_GROUPS:,} more" if len(firsts) > _SHOWN_GROUPS else "")


def _common_prefix(keys: list[str]) -> str:
    """The dotted prefix (``module.``) that every key starts with, or ''."""
    if not keys:
        return ""
    first = keys[0].split(".")[0] + "."
    return first if len(keys[0]) > len(first) and all(key.startswith(first) for key in keys) else ""


def _converted_note(weights: Weights, converted: list[str]) -> list[Diagnostic]:
    kinds = sorted({str(weights.state[key].dtype) for key in converted})
    return [
        weights.error(
            f"converted {len(converted):,} floating-point tensors of {weights.noun} ({', '.join(kinds)}) to the "
            "module's types",
            "save the weights in the module's type to load them without conversion",
            severity="warning",
        )
    ]


def _describe(tensor: Any) -> str:
    """A tensor's shape and type, and what is unusual about it (sparse, quantized, on the meta device)."""
    text = describe_tensor(tensor)
    if tensor.layout != torch.strided:
        return f"{text}, {str(tensor.layout).removeprefix('torch.')}"
    if tensor.is_quantized:
        return f"{text}, quantized"
    if tensor.is_meta:
        return f"{text}, on the meta device"
    return text
