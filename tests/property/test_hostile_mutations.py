"""Bundled specs, mutated the way hostile or careless text does: explicit tags on their scalars, keys that read like
pydantic's location labels, numbers in other scripts' digits or with '_'. Every mutant is either a located SpecError
(every problem at FILE:LINE:COL with a fix) or a valid spec whose report equals the unmutated one — never a crash,
never a silently different network. Torch-free: the reports are static analyses.

The expected meaning of each mutant is YAML 1.2's (https://yaml.org/spec/1.2.2/#1032-tag-resolution), written out
here independently of archspec's loader: a tag a scalar already has changes nothing; ``!!bool`` and ``!!null`` take
only their own words; a number written in other digits, or with '_', is no number.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar

import yaml
from hypothesis import given, note
from hypothesis import strategies as st

import archspec
from archspec.errors import SpecError
from archspec.loading.resolve import bundled_specs
from archspec.loading.yaml_loader import load_text
from archspec.spec.validate import validate

FILE = "mutant.yaml"
SPECS = sorted(bundled_specs())
MODIFIERS = {"name", "repeat", "first", "id", "from", "if"}
# pydantic names union branches so, and marks an error in a mapping's key with '[key]'.
LABEL_KEYS = ["int", "str", "bool", "none", "float", "[key]", "a[0]", "list[int]", "function-after", "x]["]
DIGITS = {"arabic-indic": "٠١٢٣٤٥٦٧٨٩", "full-width": "０１２３４５６７８９", "devanagari": "०१२३४५६७८९"}
# YAML 1.2 core schema words for the types whose tags take words (independent of archspec's resolver).
BOOL_WORDS = {"true", "True", "TRUE", "false", "False", "FALSE"}
NULL_WORDS = {"~", "null", "Null", "NULL", ""}
ASCII_INT = re.compile(r"[-+]?[0-9]+")


@dataclass(frozen=True)
class Site:
    """A plain scalar value of the spec text: where it is, and what it means unmutated."""

    start: int
    end: int
    line: int
    column: int
    value: Any
    path: tuple


def outcome(text: str) -> dict | SpecError:
    try:
        return meaning(archspec.analyze(validate(load_text(text, FILE))).to_dict())
    except SpecError as error:
        return error


def meaning(report: Any) -> Any:
    """A report without where each module was written (a mutant's added line moves the ones below it)."""
    if isinstance(report, dict):
        return {key: meaning(value) for key, value in report.items() if key != "source"}
    if isinstance(report, list):
        return [meaning(value) for value in report]
    return report


@functools.cache
def original(name: str) -> tuple[str, dict, list[Site], list[tuple[Any, tuple]]]:
    """The spec's text, its report, its plain scalar values and the mappings a key may be added to."""
    text = resources.files("archspec.specs").joinpath(bundled_specs()[name]).read_text(encoding="utf-8")
    data = load_text(text, FILE).data
    sites: list[Site] = []
    mappings: list[tuple[Any, tuple]] = []

    def walk(node: yaml.Node, path: tuple, value: Any) -> None:
        if isinstance(node, yaml.ScalarNode):
            if node.style is None and node.tag == "tag:yaml.org,2002:" + _kind(value):
                sites.append(
                    Site(
                        node.start_mark.index,
                        node.end_mark.index,
                        node.start_mark.line + 1,
                        node.start_mark.column + 1,
                        value,
                        path,
                    )
                )
        elif isinstance(node, yaml.SequenceNode):
            for index, child in enumerate(node.value):
                walk(child, (*path, index), value[index])
        elif isinstance(node, yaml.MappingNode):
            if _takes_keys(path, value):
                mappings.append((node, path))
            for key, child in node.value:
                walk(child, (*path, key.value), value[key.value])

    # The Python composer (marks index characters) with the core schema's resolution of archspec's loader.
    walk(yaml.compose(text, Loader=_CoreComposer), (), data)
    return text, outcome(text), sites, mappings


class _CoreComposer(yaml.SafeLoader):
    yaml_implicit_resolvers: ClassVar[dict] = {}


for _tag, _pattern, _first in [
    ("bool", r"(?:true|True|TRUE|false|False|FALSE)\Z", "tTfF"),
    ("int", r"(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z", "-+0123456789"),
    ("float", r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)\Z", "-+0123456789."),
    ("null", r"(?:~|null|Null|NULL|)\Z", ["~", "n", "N", ""]),
]:
    _CoreComposer.add_implicit_resolver("tag:yaml.org,2002:" + _tag, re.compile(_pattern), list(_first))


def _kind(value: Any) -> str:
    return {bool: "bool", int: "int", float: "float", type(None): "null", str: "str"}.get(type(value), "?")


def _takes_keys(path: tuple, value: dict) -> bool:
    """The top level, a block definition, a params mapping, or an op's arguments (not an item's own mapping)."""
    if path in ((),) or (len(path) == 2 and path[0] == "blocks") or (path and path[-1] == "params"):
        return True
    return len(path) >= 2 and isinstance(path[-2], int) and path[-1] not in MODIFIERS


def assert_located_error(error: SpecError, file: str) -> None:
    """Every problem at FILE:LINE:COL of the mutant, with a fix; the report is one line per problem."""
    assert error.diagnostics
    for diagnostic in error.diagnostics:
        location = diagnostic.location
        assert location is not None and location.file == file and location.line >= 1 and location.column >= 1, (
            diagnostic
        )
        assert diagnostic.message and diagnostic.fix, diagnostic
    assert len(str(error).splitlines()) == min(len(error.diagnostics), 50) + (len(error.diagnostics) > 50)


def located_or_unchanged(result: dict | SpecError, report: dict) -> None:
    if isinstance(result, SpecError):
        assert_located_error(result, FILE)
    else:
        assert result == report, "a valid mutant must mean what the spec meant"


def _note_mutant(text: str, start: int) -> None:
    line = text.count("\n", 0, start)
    note("\n".join(text.splitlines()[max(0, line - 2) : line + 3]))


@given(st.sampled_from(SPECS), st.data(), st.sampled_from(["int", "float", "bool", "null", "str"]))
def test_explicit_tags(name, data, tag):
    text, report, sites, _ = original(name)
    site = data.draw(st.sampled_from(sites))
    mutant = f"{text[: site.start]}!!{tag} {text[site.start :]}"
    _note_mutant(mutant, site.start)
    result = outcome(mutant)
    written = text[site.start : site.end]
    if tag == _kind(site.value):
        assert result == report, "a scalar's own tag changes nothing"
    elif (
        (tag == "bool" and written not in BOOL_WORDS)
        or (tag == "null" and written not in NULL_WORDS)
        or (tag == "int" and not ASCII_INT.fullmatch(written) and not written.startswith(("0x", "0o")))
    ):
        assert isinstance(result, SpecError), "YAML 1.2 defines no such value of the tag"
        assert_located_error(result, FILE)
        assert (result.diagnostics[0].location.line, result.diagnostics[0].location.column) == (site.line, site.column)
    else:
        located_or_unchanged(result, report)


@given(st.sampled_from(SPECS), st.data(), st.sampled_from(sorted(DIGITS)), st.booleans())
def test_numbers_in_other_digits_or_with_underscores(name, data, script, underscore):
    text, report, sites, _ = original(name)
    numbers = [
        site
        for site in sites
        if _kind(site.value) in ("int", "float")
        and re.search(r"[0-9]{2}" if underscore else r"[0-9]", text[site.start : site.end])
    ]
    site = data.draw(st.sampled_from(numbers))
    written = text[site.start : site.end]
    if underscore:  # '1_000' for '1000': Python's int() reads it, YAML 1.2 and JSON do not
        at = data.draw(st.integers(1, len(written) - 1).filter(lambda i: written[i - 1 : i + 1].isdigit()))
        changed = f"{written[:at]}_{written[at:]}"
    else:
        changed = "".join(DIGITS[script][int(char)] if char.isdigit() else char for char in written)
    quoted = data.draw(st.sampled_from([changed, f'!!{_kind(site.value)} "{changed}"']))
    mutant = text[: site.start] + quoted + text[site.end :]
    _note_mutant(mutant, site.start)
    result = outcome(mutant)
    if quoted.startswith("!!"):  # YAML 1.2 has no such int or float: refused where it stands
        assert isinstance(result, SpecError), "a number in other digits, or with '_', was read as a number"
        assert (result.diagnostics[0].location.line, result.diagnostics[0].location.column) == (site.line, site.column)
    elif not isinstance(result, SpecError):  # plain, it is text: valid only as a param that nothing reads as a number
        # (or a value of a scale the report did not choose: a scale is a named set of param values)
        assert ("params" in site.path or "scales" in site.path) and result == report
    if isinstance(result, SpecError):
        assert_located_error(result, FILE)


@given(st.sampled_from(SPECS), st.data(), st.sampled_from(LABEL_KEYS))
def test_keys_named_like_pydantic_labels(name, data, key):
    text, report, _, mappings = original(name)
    node, path = data.draw(st.sampled_from(mappings))
    if node.flow_style:
        at = node.start_mark.index + 1
        mutant = f'{text[:at]}"{key}": 1{", " if node.value else ""}{text[at:]}'
    else:
        first = node.value[0][0].start_mark
        mutant = f'{text[: first.index]}"{key}": 1\n{" " * first.column}{text[first.index :]}'
    note(f"key {key!r} added at {path}")
    result = outcome(mutant)
    if isinstance(result, SpecError):
        assert_located_error(result, FILE)
        assert any(d.path == (*path, key) for d in result.diagnostics), f"no diagnostic at the key itself: {result}"
    else:
        assert path[-1] == "params" and result == report  # a param of that name, which nothing reads
