"""The ``archspec`` command (DESIGN.md §4). Exit status: 0 ok, 1 invalid spec, 2 usage error (3: a bug
in archspec itself, reported without a traceback).

``check`` never imports torch; ``build`` imports it only to compile.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from archspec.errors import SpecError

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
FORMATS = ("table", "json", "markdown")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.run(args))
    except SpecError as error:
        print(str(error), file=sys.stderr)
        return EXIT_INVALID
    except _UsageError as error:
        print(f"archspec: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # a bug in archspec, not in the spec: say so without a traceback
        if os.environ.get("ARCHSPEC_DEBUG"):
            raise
        print(f"archspec: internal error: {type(error).__name__}: {error} (please report it; set "
              "ARCHSPEC_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


class _UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archspec", description="Network architectures as spec files: "
                                     "validated, analysed exactly without torch, compiled to PyTorch.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    build = commands.add_parser("build", help="validate, analyse and compile a spec; print its report")
    build.add_argument("spec", metavar="SPEC", help="a spec file, or a bundled spec's name (see 'archspec list')")
    _analysis_options(build)
    build.add_argument("--save", metavar="PATH", help="write weights and spec (torch.load(weights_only=True))")
    build.add_argument("--verify", action="store_true",
                       help="run one forward pass and check every static shape, the MACs and the counts")
    build.set_defaults(run=_build)

    check = commands.add_parser("check", help="validate and analyse without importing torch")
    check.add_argument("specs", metavar="SPEC", nargs="+")
    _analysis_options(check)
    check.add_argument("--quiet", "-q", action="store_true", help="print nothing for valid specs")
    check.set_defaults(run=_check)

    listing = commands.add_parser("list", help="list bundled specs, ops and built-in blocks")
    listing.add_argument("what", nargs="?", choices=("specs", "ops", "blocks", "all"), default="all")
    listing.set_defaults(run=_list)

    graph = commands.add_parser("graph", help="print the data flow as a Graphviz DOT or Mermaid diagram")
    graph.add_argument("spec", metavar="SPEC")
    graph.add_argument("--format", choices=("dot", "mermaid"), default="dot")
    _shape_options(graph)
    graph.set_defaults(run=_graph)

    codegen = commands.add_parser("codegen", help="print standalone PyTorch source (needs only torch)")
    codegen.add_argument("spec", metavar="SPEC")
    codegen.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    _shape_options(codegen)
    codegen.set_defaults(run=_codegen)

    schema = commands.add_parser("schema", help="print the JSON Schema of spec files (for editors)")
    schema.set_defaults(run=_schema)
    return parser


def _shape_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", metavar="C,H,W", help="input shape without batch (default: the spec's)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                        help="override a param (repeatable); VALUE is read as YAML")
    parser.add_argument("--max-nodes", type=int, default=1_000_000, metavar="N",
                        help="reject specs that expand to more modules than this")
    parser.set_defaults(batch=1, train=False)


def _analysis_options(parser: argparse.ArgumentParser) -> None:
    _shape_options(parser)
    parser.add_argument("--batch", type=int, default=1, metavar="N", help="batch size for shapes, MACs, memory")
    parser.add_argument("--train", action="store_true", help="analyse the training-mode graph")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--depth", type=int, metavar="N", help="table: show modules down to this depth")


def _overrides(pairs: list[str]) -> dict[str, Any]:
    from archspec.loading.yaml_loader import load_text

    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise _UsageError(f"--set expects KEY=VALUE, got {pair!r}")
        try:
            overrides[key.strip()] = load_text(text, "--set").data if text.strip() else None
        except SpecError as error:
            raise _UsageError(f"--set {key}: the value is not valid YAML ({error.diagnostics[0].message})") from None
    return overrides


def _input(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        values = [int(part) for part in text.replace("x", ",").split(",") if part.strip()]
    except ValueError:
        raise _UsageError(f"--input expects numbers like 3,224,224, got {text!r}") from None
    if not values:
        raise _UsageError("--input is empty")
    if min(values) < 1:
        raise _UsageError(f"--input sizes must be >= 1, got {text!r}")
    return values


def _analyse(source: str, args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """(spec, network, report) — the network is expanded once and shared by the report and the compiler."""
    from archspec.analysis.report import build_report
    from archspec.api import expand, load
    from archspec.ops.base import Context

    if args.batch < 1:
        raise _UsageError("--batch must be >= 1")
    spec = load(source, _overrides(args.overrides))
    shape = _input(args.input)
    if shape is not None and len(shape) != len(spec.input):
        raise _UsageError(f"--input {args.input} has {len(shape) - 1} spatial dims but {spec.name} is written for "
                          f"{len(spec.input) - 1} (input {list(spec.input)})")
    network = expand(spec, shape, batch=args.batch, train=args.train, max_nodes=args.max_nodes)
    return spec, network, build_report(network, args.batch, Context(batch=args.batch, train=args.train))


def _render(report: Any, args: argparse.Namespace) -> str:
    if args.format == "json":
        return json.dumps(report.to_dict(), indent=2)
    if args.format == "markdown":
        from archspec.render.markdown import render_markdown

        return render_markdown(report)
    from archspec.render.table import render_table

    return render_table(report, args.depth)


def _build(args: argparse.Namespace) -> int:
    spec, network, report = _analyse(args.spec, args)
    from archspec.api import compile
    from archspec.backend.verify import verify

    model = compile(network)
    print(_render(report, args))
    if args.verify:
        problems = verify(model, report)
        if problems:
            print("verify: the compiled module disagrees with the static report:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return EXIT_INVALID
        print(f"verify: {len(report.layers)} modules — shapes, parameters, buffers and MACs match a real "
              "forward pass", file=sys.stderr)
    if args.save:
        from archspec.checkpoint import save

        save(model, spec, args.save, _input(args.input))
        print(f"saved: {args.save}", file=sys.stderr)
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    failed: list[SpecError] = []
    for source in args.specs:
        try:
            _, _, report = _analyse(source, args)
        except SpecError as error:
            failed.append(error)
            continue
        if not args.quiet:
            print(_render(report, args))
    if failed:
        print("\n".join(str(error) for error in failed), file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    from archspec.blocks.library import builtin_blocks
    from archspec.loading.resolve import bundled_specs
    from archspec.ops.registry import all_ops

    if args.what in ("specs", "all"):
        print("Bundled specs (archspec build NAME):")
        for name in sorted(bundled_specs()):
            print(f"  {name}")
    if args.what in ("ops", "all"):
        print("Ops:")
        for name, op in sorted(all_ops().items()):
            fields = ", ".join(op.Args.model_fields)
            print(f"  {name:18} {op.describe()}" + (f"  [{fields}]" if fields else ""))
    if args.what in ("blocks", "all"):
        print("Built-in blocks:")
        for name, block in sorted(builtin_blocks().items()):
            params = ", ".join(f"{k}" if v == "required" else f"{k}={v}" for k, v in block.params.items())
            print(f"  {name:18} ({params})")
    return EXIT_OK


def _graph(args: argparse.Namespace) -> int:
    from archspec.render.graph import render_dot, render_mermaid

    _, network, _ = _analyse(args.spec, args)
    print(render_dot(network) if args.format == "dot" else render_mermaid(network), end="")
    return EXIT_OK


def _codegen(args: argparse.Namespace) -> int:
    from archspec.render.codegen import generate_source

    _, network, _ = _analyse(args.spec, args)
    source = generate_source(network)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(source)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        print(source, end="")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from archspec.spec.schema import spec_schema

    print(json.dumps(spec_schema(), indent=2))
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
