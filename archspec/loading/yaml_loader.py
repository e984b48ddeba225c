"""Safe YAML/JSON loading that remembers where every value came from.

PyYAML composes the text into a node graph (the C parser when available); we construct plain Python data
from the nodes ourselves, so that:

* only the standard scalar, sequence and mapping tags are accepted — no tag can construct an object;
* scalars follow the YAML 1.2 core schema (``1e-5`` is a float, ``yes`` is a string, ``1:30`` is text), and so
  does the text of an explicitly tagged scalar (``!!bool yes`` and ``!!int ٣٢`` are errors: see ``core_schema``);
* duplicate mapping keys are errors instead of silently keeping the last one;
* alias expansion, nesting depth, file size and number size are bounded, so a hostile file fails fast in
  little memory (nodes are composed by PyYAML's Python composer over the C parser's events, so nesting depth
  is checked while composing — the C composer recurses without a limit and crashes on ``[[[[...`` bombs);
* characters YAML forbids (control characters) are reported where they stand, and a leading byte-order mark
  (common from Windows editors) is accepted in YAML and JSON alike.
"""

from __future__ import annotations

import yaml

from archspec.errors import Diagnostic, Location, SpecError, SpecPath
from archspec.loading.load_limits import LoadLimits, too_large
from archspec.loading.node_builder import BuildAbort, NodeBuilder, check_expansion
from archspec.loading.source import Document
from archspec.loading.text_checks import BOM, check_characters, check_json
from archspec.loading.yaml_compose import TooDeep, compose
from archspec.loading.yaml_errors import (
    PARSER_NESTING_LIMIT,
    nested_too_deeply,
    parser_nesting_diagnostic,
    syntax_diagnostic,
    too_deep,
)

__all__ = ["LoadLimits", "load_text"]  # LoadLimits is imported from here by the API and by users


def load_text(text: str, file: str = "<string>", limits: LoadLimits | None = None) -> Document:
    """Parse YAML (or JSON, which YAML 1.2 contains) into a :class:`Document`.

    Raises:
        SpecError: on any syntax error, forbidden tag, duplicate key or exceeded limit.
    """
    limits = limits or LoadLimits()
    if len(text.encode("utf-8", "surrogatepass")) > limits.max_bytes:
        raise too_large(file, limits)
    text = text.removeprefix(BOM)  # no part of the spec; editors count columns without it
    check_characters(text, file)
    non_finite: list[tuple[SpecPath, str]] = []
    if file.endswith(".json"):
        non_finite = check_json(text, file, limits)
        text = text.replace("\t", " ")  # JSON allows tabs as whitespace where YAML does not; columns stay put
    try:
        root = compose(text, limits)
    except TooDeep as exc:
        raise SpecError([too_deep(file, exc.mark, limits)]) from None
    except yaml.MarkedYAMLError as exc:
        if PARSER_NESTING_LIMIT in str(exc.problem):
            raise SpecError([parser_nesting_diagnostic(exc, text, file, limits)]) from None
        raise SpecError([syntax_diagnostic(exc, file, text)]) from None
    except yaml.YAMLError as exc:
        raise SpecError(
            [Diagnostic(f"YAML syntax: {exc}", (), Location(file, 1, 1), "check that the file is YAML or JSON text")]
        ) from None
    except RecursionError:  # a max_depth raised past what Python's recursion allows the composer
        raise SpecError([nested_too_deeply(file, limits)]) from None
    builder = NodeBuilder(file, limits)
    if root is None:
        raise SpecError(
            [
                Diagnostic(
                    "the file is empty",
                    (),
                    Location(file, 1, 1),
                    "start with 'archspec: 1', 'name:', 'input:' and 'layers:'",
                )
            ]
        )
    check_expansion(root, file, limits)
    try:
        data = builder.build(root, ())
    except BuildAbort as abort:
        builder.fail(abort.node, abort.path, abort.message, abort.fix)
        raise SpecError(builder.errors) from None
    except RecursionError:
        raise SpecError([nested_too_deeply(file, limits)]) from None
    for path, name in non_finite:  # JSON's NaN / Infinity read as text in YAML: locate them by their path
        builder.errors.append(
            builder.source.diagnostic(
                path,
                f"number {name} is not finite (JSON's NaN and Infinity are not numbers a spec can use)",
                "write a finite number such as 0.5 or 1e-5",
            )
        )
    if builder.errors:
        raise SpecError(builder.errors)
    return Document(data=data, source=builder.source, text=text)
