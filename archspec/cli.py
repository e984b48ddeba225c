"""The ``archspec`` command (DESIGN.md §4). Exit status: 0 ok, 1 invalid spec, 2 usage error, 3 a bug in
archspec itself (an internal error, or ``--verify`` finding the module disagreeing with the report),
reported without a traceback.

``check`` never imports torch; ``build`` imports it only to compile.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from archspec.errors import SpecError
from archspec.limits import DEFAULT_MAX_NODES
from archspec.loading.core_schema import INT, ascii_digits
from archspec.user_text import cut, escaped, file_name, quoted, shortened

# Every other import in this file is inside the command that needs it, on purpose: `import archspec.cli` (what
# every `archspec` process, editor and pre-commit hook pays for) costs argparse only, and `check` imports no
# torch, json, renderer or checkpoint reader it does not use (tests/cli/test_cli_startup.py, benchmarks/startup.py).

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
FORMATS = ("table", "json", "markdown")
STDIN = "-"  # SPEC: read the spec from standard input
STDIN_NAME = "<stdin>"  # ... and name it so in messages
SPEC_HELP = "a spec file, a bundled spec's name (see 'archspec list'), or '-' for standard input"
EXIT_STATUS_HELP = ("exit status: 0 ok, 1 invalid spec, 2 usage error, 3 a bug in archspec (an internal error, "
                    "or --verify finding a mismatch)")


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser(argv)
    args = parser.parse_args(argv)
    if args.version:
        from archspec.version import installed_version  # lazy: importlib.metadata, for --version only

        print(f"archspec {installed_version()}")
        return EXIT_OK
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return _run(args)
    except SpecError as error:
        print(str(error), file=sys.stderr)
        return EXIT_INVALID
    except _UsageError as error:
        print(f"archspec: error: {escaped(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # a bug in archspec, not in the spec: say so without a traceback
        if os.environ.get("ARCHSPEC_DEBUG"):
            raise
        print(f"archspec: internal error: {type(error).__name__}: {shortened(error, 500)} (please report it; set "
              "ARCHSPEC_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


class _UsageError(Exception):
    pass


def _run(args: argparse.Namespace) -> int:
    """The command; those that write files run where SIGTERM unwinds like Ctrl-C, so that an interrupted write
    leaves the old file and no temporary one (:func:`archspec.outputs.terminate_as_exit`)."""
    if args.command not in ("build", "codegen"):
        return int(args.run(args))
    from archspec.outputs import terminate_as_exit  # lazy: signal handling, for the writing commands only

    with terminate_as_exit():
        return int(args.run(args))


class _Parser(argparse.ArgumentParser):
    """argparse's parser, with the arguments its errors echo escaped and shortened like every message."""

    def error(self, message: str) -> Any:  # argparse's own signature says NoReturn; it exits
        super().error(shortened(message, 500))


def _parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The command line's parser. When the first argument names a command, only that command's parser is built:
    nothing else can be parsed or shown then, and building all seven takes twice as long as building two
    (argparse looks up every parser's texts in the translation catalogues on disk). Help, usage errors and an
    unknown command build them all."""
    parser = _Parser(prog="archspec", description="Network architectures as spec files: "
                                     "validated, analysed exactly without torch, compiled to PyTorch.",
                                     epilog=EXIT_STATUS_HELP)
    # Read only when asked for (not argparse's "version" action, which needs the text to build the parser).
    parser.add_argument("--version", action="store_true", help="print 'archspec X.Y.Z' and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, add_command in _COMMANDS.items():
        if not argv or argv[0] not in _COMMANDS or argv[0] == name:
            add_command(commands)
    return parser


def _add_build(commands: Any) -> None:
    build = commands.add_parser("build", help="validate, analyse and compile a spec; print its report",
                                epilog=EXIT_STATUS_HELP)
    build.add_argument("spec", metavar="SPEC", help=f"{SPEC_HELP}; or a checkpoint written by --save, rebuilt "
                       "with its weights")
    _analysis_options(build, quiet="print no report (still compiles, verifies and saves); only errors")
    build.add_argument("--save", metavar="PATH", help="write weights and spec (torch.load(weights_only=True); "
                       "reload with archspec.load_checkpoint(PATH))")
    build.add_argument("--verify", action="store_true",
                       help="run one forward pass and check every static shape, the MACs and the counts; a "
                       "mismatch is a bug in archspec and exits with status 3")
    build.set_defaults(run=_build)


def _add_check(commands: Any) -> None:
    check = commands.add_parser("check", help="validate and analyse without importing torch",
                                epilog=EXIT_STATUS_HELP)
    check.add_argument("specs", metavar="SPEC", nargs="+", help=SPEC_HELP)
    _analysis_options(check, quiet="print nothing for valid specs; only errors")
    check.set_defaults(run=_check)


def _add_list(commands: Any) -> None:
    listing = commands.add_parser("list", help="list bundled specs, ops, containers and built-in blocks")
    listing.add_argument("what", nargs="?", choices=("specs", "ops", "containers", "blocks", "all"), default="all")
    listing.set_defaults(run=_list)


def _add_graph(commands: Any) -> None:
    graph = commands.add_parser("graph", help="print the data flow as a Graphviz DOT or Mermaid diagram")
    graph.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    graph.add_argument("--format", choices=("dot", "mermaid"), default="dot")
    _shape_options(graph)
    graph.set_defaults(run=_graph)


def _add_codegen(commands: Any) -> None:
    codegen = commands.add_parser("codegen", help="print standalone PyTorch source (needs only torch)")
    codegen.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    codegen.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    _shape_options(codegen)
    codegen.set_defaults(run=_codegen)


def _add_schema(commands: Any) -> None:
    schema = commands.add_parser("schema", help="print the JSON Schema of spec files (for editors)")
    schema.set_defaults(run=_schema)


def _shape_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", metavar="C,H,W", help="input shape without batch (default: the spec's)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                        help="override a param (repeatable); VALUE is read as YAML")
    parser.add_argument("--max-nodes", type=_positive_int, default=DEFAULT_MAX_NODES, metavar="N",
                        help=f"reject specs that expand to more modules than this (default {DEFAULT_MAX_NODES:,})")
    parser.set_defaults(batch=1, train=False)


def _analysis_options(parser: argparse.ArgumentParser, quiet: str) -> None:
    """The options ``check`` and ``build`` share; ``quiet`` says what --quiet means for the command."""
    _shape_options(parser)
    parser.add_argument("--batch", type=_whole_number, default=1, metavar="N",
                        help="batch size for shapes, MACs, memory")
    parser.add_argument("--train", action="store_true", help="analyse the training-mode graph")
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="json: one report object, or an array of them for several specs")
    parser.add_argument("--depth", type=_whole_number, metavar="N", help="table and markdown: show modules down to "
                        "this depth (1: top-level modules; 0: totals only); JSON always lists every module")
    parser.add_argument("--quiet", "-q", action="store_true", help=quiet)


def _check_analysis_options(args: argparse.Namespace) -> None:
    """Usage errors in the shared options, found before any spec is read (or anything slow runs)."""
    from archspec.spec.model import MAX_DIMENSION  # lazy: pydantic

    if not 1 <= args.batch <= MAX_DIMENSION:
        raise _UsageError(f"--batch must be from 1 to {MAX_DIMENSION:,} (a size, like every size), got {args.batch}")
    if args.depth is not None:
        if args.depth < 0:
            raise _UsageError(f"--depth must be >= 0 (0: totals only), got {args.depth}")
        if args.format == "json":
            raise _UsageError("--depth applies to the table and markdown formats; the JSON report lists every "
                              "module")


def _check_writable(option: str, path: str) -> None:
    """A file that ``option`` is to write must be creatable: say so now rather than after compiling."""
    from archspec.outputs import OutputError, check_writable  # lazy: for --save/--output only

    try:
        check_writable(path)
    except OutputError as error:
        raise _UsageError(f"{option} {file_name(path)}: {error}") from None


def _write_failed(option: str, path: str, error: OSError) -> _UsageError:
    from archspec.outputs import OutputError  # lazy: for --save/--output only

    reason = str(error) if isinstance(error, OutputError) else f"cannot write the file: {error.strerror or error}"
    return _UsageError(f"{option} {file_name(path)}: {reason}")


def _overrides(pairs: list[str]) -> dict[str, Any]:
    from archspec.loading.yaml_loader import load_text  # lazy: yaml

    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise _UsageError(f"--set expects KEY=VALUE, got {quoted(pair)}")
        try:
            overrides[key.strip()] = load_text(text, "--set").data if text.strip() else None
        except SpecError as error:
            first = error.diagnostics[0]
            if first.message.startswith("YAML syntax"):
                raise _UsageError(f"--set {cut(key)}: the value is not valid YAML ({first.message})") from None
            raise _UsageError(f"--set {cut(key)}: {first.message}" + (f" — {first.fix}" if first.fix else "")) from None
    return overrides


def _input(text: str | None) -> list[int] | None:
    from archspec.spec.model import MAX_DIMENSION  # lazy: pydantic

    if text is None:
        return None
    parts = [part.strip() for part in text.replace("x", ",").split(",") if part.strip()]
    if not all(_DIGITS.fullmatch(part) for part in parts):
        written = ascii_digits(text)
        fits = written is not None and _ASCII_INPUT.fullmatch(written)
        hint = f" (numbers are ASCII digits 0-9: write {written})" if fits else ""
        raise _UsageError(f"--input expects numbers like 3,224,224, got {quoted(text)}{hint}")
    values = [int(part) for part in parts]
    if not values:
        raise _UsageError("--input is empty")
    if not all(1 <= value <= MAX_DIMENSION for value in values):
        raise _UsageError(f"--input sizes must be from 1 to {MAX_DIMENSION:,}, got {quoted(text)}")
    return values


# Python's int() also reads other scripts' digits, full-width digits and '_' between digits ('１', '1_6'): numbers on
# the command line are ASCII digits, as in a spec.
_DIGITS = re.compile(r"[0-9]+")
_ASCII_INPUT = re.compile(r"[0-9]+(?:\s*[,x]\s*[0-9]+)*")


def _whole_number(text: str) -> int:
    """argparse type for whole numbers written in ASCII digits (with an optional sign); a bad value is a usage
    error (exit 2) with argparse's own message."""
    stripped = text.strip()
    if not _DIGITS.fullmatch(stripped.removeprefix("-").removeprefix("+")):
        written = ascii_digits(text)
        hint = f" (numbers are ASCII digits 0-9: write {written})" if written and INT.fullmatch(written) else ""
        raise argparse.ArgumentTypeError(f"expected a whole number, got {quoted(text)}{hint}")
    return int(stripped)


def _positive_int(text: str) -> int:
    """argparse type for counts: a bad value is a usage error (exit 2) with argparse's own message."""
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _load(source: str, args: argparse.Namespace) -> Any:
    """The validated spec named by SPEC (``-``: standard input), with the --set overrides applied."""
    from archspec.loading.resolve import load_document, load_stream  # lazy: yaml
    from archspec.spec.validate import validate  # lazy: pydantic

    overrides = _overrides(args.overrides)
    document = load_stream(sys.stdin.buffer, STDIN_NAME) if source == STDIN else load_document(source)
    return validate(document, overrides, override_origin="--set")


def _analyse(source: str, args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """(spec, network, report) — the network is expanded once and shared by the report and the compiler."""
    spec = _load(source, args)
    return (spec, *_analyse_spec(spec, _input(args.input), args))


def _analyse_spec(spec: Any, shape: list[int] | None, args: argparse.Namespace) -> tuple[Any, Any]:
    """(network, report) of a loaded spec for the input ``shape`` (None: the spec's own)."""
    from archspec.analysis.report import build_report  # lazy: pydantic
    from archspec.api import expand  # lazy: the whole API
    from archspec.ops.base import Context  # lazy: pydantic

    if shape is not None and len(shape) != len(spec.input):
        raise _UsageError(f"--input {args.input} has {len(shape) - 1} spatial dims but {spec.name} is written for "
                          f"{len(spec.input) - 1} (input {list(spec.input)})")
    network = expand(spec, shape, batch=args.batch, train=args.train, max_nodes=args.max_nodes)
    return network, build_report(network, args.batch, Context(batch=args.batch, train=args.train))


def _render(reports: list[Any], args: argparse.Namespace, several: bool) -> str:
    """The reports in ``args.format``; JSON is one document: an object, or an array when ``several`` specs
    were asked for (whether or not all of them are valid)."""
    if args.format == "json":
        import json  # here: the table that check prints by default needs no json module (nor its regexes)

        documents = [report.to_dict() for report in reports]
        # Strict JSON: a NaN or an infinity in a report is a bug, better raised than printed as invalid JSON.
        return json.dumps(documents if several else documents[0], indent=2, allow_nan=False)
    if args.format == "markdown":
        from archspec.render.markdown import render_markdown  # lazy: one renderer each

        return "\n".join(render_markdown(report, args.depth) for report in reports)
    from archspec.render.table import render_table  # lazy: one renderer each

    return "\n\n".join(render_table(report, args.depth) for report in reports)


def _note(args: argparse.Namespace, text: str) -> None:
    """A progress note on standard error (silenced by --quiet)."""
    if not args.quiet:
        print(text, file=sys.stderr)


def _build(args: argparse.Namespace) -> int:
    _check_analysis_options(args)
    if args.save:
        _check_writable("--save", args.save)
    checkpoint = _checkpoint(args)
    if checkpoint is None:
        spec, network, report = _analyse(args.spec, args)
        shape = _input(args.input)
    else:
        spec, shape = checkpoint.spec, checkpoint.input_shape
        network, report = _analyse_spec(spec, shape, args)
    from archspec.api import compile  # lazy: the whole API
    from archspec.backend.verify import verify  # lazy: torch

    model = compile(network)
    if checkpoint is not None:
        from archspec.backend.checkpoint import load_weights  # lazy: torch

        load_weights(model, checkpoint)
    if not args.quiet:
        print(_render([report], args, several=False))
    if args.verify:
        problems = verify(model, report)
        if problems:
            print("verify: the compiled module disagrees with the static report — a bug in archspec, please "
                  "report it:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return EXIT_INTERNAL
        _note(args, f"verify: {len(report.layers)} modules — shapes, parameters, buffers and MACs match a real "
              "forward pass")
    if args.save:
        from archspec.backend.checkpoint import save  # lazy: torch

        try:
            save(model, spec, args.save, shape, spec_file=checkpoint.spec_file if checkpoint else None)
        except OSError as error:
            raise _write_failed("--save", args.save, error) from None
        _note(args, f"saved: {file_name(args.save)}")
    return EXIT_OK


def _checkpoint(args: argparse.Namespace) -> Any:
    """The checkpoint that SPEC names (build reads one to rebuild the module with its weights), else None.

    Any zip archive is read as a checkpoint, so that a damaged or foreign one gets a checkpoint's messages; the
    path goes through the same guards as a spec's (a pipe or a device is refused, never opened to wait)."""
    from archspec.loading.archive import is_archive  # lazy: for build only

    if args.spec == STDIN or not is_archive(args.spec):
        return None
    if args.overrides or args.input:
        raise _UsageError(f"{args.spec} is a checkpoint: its params and input shape are saved with its weights, "
                          "so --set and --input cannot change them")
    from archspec.backend.checkpoint import read_checkpoint  # lazy: torch

    return read_checkpoint(args.spec)


def _check(args: argparse.Namespace) -> int:
    _check_analysis_options(args)
    if args.specs.count(STDIN) > 1:
        raise _UsageError("'-' (standard input) can be given only once")
    reports: list[Any] = []
    failed: list[SpecError] = []
    for source in args.specs:
        try:
            reports.append(_analyse(source, args)[2])
        except SpecError as error:
            failed.append(error)
    if reports and not args.quiet:
        print(_render(reports, args, several=len(args.specs) > 1))
    if failed:
        print("\n".join(str(error) for error in failed), file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    from archspec.render.listing import print_listing  # lazy: the registries

    print_listing(args.what)
    return EXIT_OK


def _graph(args: argparse.Namespace) -> int:
    from archspec.render.graph import render_dot, render_mermaid  # lazy: one renderer each

    _, network, _ = _analyse(args.spec, args)
    print(render_dot(network) if args.format == "dot" else render_mermaid(network), end="")
    return EXIT_OK


def _codegen(args: argparse.Namespace) -> int:
    from archspec.render.codegen import generate_source  # lazy: one renderer each

    if args.output:
        _check_writable("--output", args.output)
    _, network, _ = _analyse(args.spec, args)
    source = generate_source(network)
    if args.output:
        from archspec.outputs import atomic_write  # lazy: for --output only

        try:
            atomic_write(args.output, lambda handle: handle.write(source.encode("utf-8")))
        except OSError as error:
            raise _write_failed("--output", args.output, error) from None
        print(f"wrote {file_name(args.output)}", file=sys.stderr)
    else:
        print(source, end="")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    import json  # lazy: json, for this command only

    from archspec.spec.schema import spec_schema  # lazy: pydantic's schema generation

    print(json.dumps(spec_schema(), indent=2))
    return EXIT_OK


# In the order `archspec --help` lists them.
_COMMANDS = {"build": _add_build, "check": _add_check, "list": _add_list, "graph": _add_graph,
             "codegen": _add_codegen, "schema": _add_schema}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
