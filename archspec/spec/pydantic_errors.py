"""Turn pydantic validation errors into located diagnostics with a concrete fix: which errors are reported (one per
spec path; a typo is one mistake, not an unknown and a missing key; a union says what each branch accepts) and
where. How each kind of error reads is :mod:`archspec.spec.error_wording`'s table."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from archspec.errors import Diagnostic, SpecPath, did_you_mean
from archspec.loading.source import SourceMap
from archspec.spec.error_wording import FieldError, fix, is_type_mismatch, message, wording
from archspec.spec.model_examples import fields_at
from archspec.spec.pydantic_paths import KEY_LABEL, spec_path
from archspec.user_text import describe_value

__all__ = ["NO_DATA", "diagnostics_from", "spec_loc"]

NO_DATA = object()  # diagnostics_from without the validated data: spec paths are guessed from loc's text


def diagnostics_from(
    error: ValidationError, model: type[BaseModel], base: SpecPath, source: SourceMap, data: Any = NO_DATA
) -> list[Diagnostic]:
    """One diagnostic per pydantic error, deduplicated by location (unions report each branch). ``data`` is what
    was validated: with it, every error is placed at its real key path whatever the keys' text (see
    :mod:`archspec.spec.pydantic_paths`)."""
    found: dict[SpecPath, Diagnostic] = {}
    entries = error.errors()
    trimmed = [spec_loc(entry, data) for entry in entries]
    # An unknown key that is a near miss of a missing one is one mistake (a typo), reported once.
    renamed = set()
    for entry, loc in zip(entries, trimmed, strict=True):
        if entry["type"] == "extra_forbidden" and loc:
            close = did_you_mean(str(loc[-1]), fields_at(model, loc[:-1]))
            if close:
                renamed.add((*loc[:-1], close.split("'")[1]))
    for entry, loc in zip(entries, trimmed, strict=True):
        path = (*base, *loc)
        if path in found:
            continue
        kind = entry["type"]
        if kind in ("extra_forbidden", "missing"):
            if kind == "missing" and loc in renamed:
                continue
            about = FieldError(entry, loc, model)
            found[path] = source.diagnostic(path, message(about), fix(about), key=kind == "extra_forbidden")
            continue
        if isinstance(entry.get("input"), list | dict) and any(
            len(other) > len(loc) and other[: len(loc)] == loc for other in trimmed
        ):
            continue  # a list or mapping with a bad element: the element's own error says what is wrong
        here = [e for e, other in zip(entries, trimmed, strict=True) if other == loc]
        # In a union (int, list or 'same'), a branch whose type fits but whose value does not (-1 < 0)
        # is the one the user meant; if no branch's type fits, say what each would accept.
        fitting = [e for e in here if not is_type_mismatch(e["type"])]
        about_the_key = entry["loc"][-1:] == (KEY_LABEL,) and bool(loc) and loc[-1] == entry.get("input")
        if fitting or len(here) == 1:
            about = FieldError(fitting[0] if fitting else entry, loc, model)
            found[path] = source.diagnostic(path, message(about), fix(about), key=about_the_key)
        else:
            found[path] = _union_diagnostic(here, loc, path, source, model)
    return list(found.values())


def _union_diagnostic(
    branches: list[dict[str, Any]], loc: SpecPath, path: SpecPath, source: SourceMap, model: type[BaseModel]
) -> Diagnostic:
    wanted: list[str] = []
    for entry in branches:
        text = wording(entry["type"]).accepts or f"one of {entry.get('ctx', {}).get('expected', '?')}"
        if text not in wanted:
            wanted.append(text)
    value = branches[0].get("input")
    literal = next((e for e in branches if e["type"] == "literal_error"), None)
    chosen = literal if literal is not None and isinstance(value, str) else branches[0]
    return source.diagnostic(
        path,
        f"expected {', '.join(wanted[:-1])} or {wanted[-1]}, got {describe_value(value)}",
        fix(FieldError(chosen, loc, model)),
    )


def spec_loc(entry: dict[str, Any], data: Any = NO_DATA) -> SpecPath:
    """The spec path of a pydantic error relative to the validated ``data``: read against the data where it is
    given, else guessed from the text of ``loc``."""
    if data is not NO_DATA:
        path = spec_path(entry, data)
        if path is not None:
            return path
    return _trim_union_branches(entry["loc"])


def _trim_union_branches(loc: Iterable[Any]) -> SpecPath:
    """pydantic names union branches in ``loc`` (``'int'``, ``'list[...]'``, ...); drop them (a guess: a key
    may read like a branch name, so :func:`spec_loc` reads ``loc`` against the data where it can)."""
    return tuple(part for part in loc if not (isinstance(part, str) and ("[" in part or part in _BRANCH_NAMES)))


_BRANCH_NAMES = {
    "int",
    "float",
    "bool",
    "str",
    "none",
    "literal['same','valid']",
    "function-after",
    "constrained-int",
    "constrained-float",
}
