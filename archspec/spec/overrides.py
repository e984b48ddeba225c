"""Param values from outside the spec's own ``params``: a named scale of the spec's ``scales`` (``--scale``,
``load(..., scale=)``), then the overrides (``--set``, ``overrides=``), which win over the scale."""

from __future__ import annotations

from typing import Any

from archspec.errors import Diagnostic, did_you_mean
from archspec.loading.python_data import plain_data
from archspec.spec.model import REQUIRED, Spec
from archspec.user_text import listed, quoted


def apply_scale(spec: Spec, scales: dict[str, dict[str, Any]], scale: str | None) -> list[Diagnostic]:
    """Check every scale (each key a param of the spec), then set the chosen ``scale``'s values as params."""
    errors: list[Diagnostic] = []
    for name, values in scales.items():
        for key in values:
            if key not in spec.params:
                close = did_you_mean(key, spec.params)
                declare = f"declare {quoted(key)} under params (the spec's params: {listed(spec.params) or 'none'})"
                fix = f"{close} Or {declare}" if close else f"a scale sets params: {declare}"
                errors.append(
                    spec.source.diagnostic(
                        ("scales", name, key), f"scale '{name}' sets {quoted(key)}, which is not a param", fix
                    )
                )
    if scale is None:
        return errors
    if scale not in scales:
        close = did_you_mean(scale, scales)
        known = f"the spec's scales: {listed(scales)}" if scales else "declare 'scales: {NAME: {PARAM: VALUE}}'"
        fix = f"{close} ({known})" if close else known
        what = f"unknown scale {quoted(scale)}" + ("" if scales else ": the spec declares no scales")
        errors.append(spec.source.diagnostic(("scales",) if scales else (), what, fix, key=bool(scales)))
        return errors
    for key, value in scales[scale].items():
        value, problems = plain_data(value, spec.source, ("scales", scale, key))
        errors += problems
        if key in spec.params and not problems:
            spec.params[key] = value
    spec.scale = scale
    return errors


def apply_overrides(spec: Spec, overrides: dict[str, Any]) -> list[Diagnostic]:
    errors: list[Diagnostic] = []
    for key, value in overrides.items():
        if key not in spec.params:
            fix = did_you_mean(key, spec.params) or (
                f"known params: {listed(spec.params)}" if spec.params else "the spec declares no params"
            )
            errors.append(
                Diagnostic(
                    f"override {quoted(key)} does not name a param of the spec",
                    ("params", key),
                    spec.source.locate(("params",)),
                    fix,
                )
            )
            continue
        value, problems = plain_data(value, spec.source, ("params", key))  # as strict as the spec's own data
        if problems:
            errors += problems
            continue
        spec.params[key] = value
        spec.overrides[key] = value
    for key, value in spec.params.items():
        if value == REQUIRED:
            errors.append(
                spec.source.diagnostic(
                    ("params", key),
                    f"param '{key}' is required but has no value",
                    f"give it with --set {key}=VALUE or overrides={{'{key}': ...}}",
                )
            )
    return errors
