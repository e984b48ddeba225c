"""The argparse parsers of the commands, one builder each, in :data:`COMMANDS`; a command's parser names the
function that runs it (``args.run``: module and function name, imported only for the command that runs, so that
``archspec check`` does not import the code of build, graph and codegen)."""

from __future__ import annotations

import argparse
from typing import Any

from archspec.commands.options import positive_int, whole_number
from archspec.limits import DEFAULT_MAX_NODES

FORMATS = ("table", "json", "markdown")
EXPORT_FORMATS = ("onnx", "torchscript", "exported-program")  # archspec.backend.export.FORMATS (that imports torch)
SPEC_HELP = "a spec file, a bundled spec's name (see 'archspec list'), or '-' for standard input"
EXIT_STATUS_HELP = (
    "exit status: 0 ok, 1 invalid spec, 2 usage error, 3 a bug in archspec (an internal error, "
    "or --verify finding a mismatch)"
)


def add_build(commands: Any) -> None:
    build = commands.add_parser(
        "build", help="validate, analyse and compile a spec; print its report", epilog=EXIT_STATUS_HELP
    )
    build.add_argument(
        "spec", metavar="SPEC", help=f"{SPEC_HELP}; or a checkpoint written by --save, rebuilt with its weights"
    )
    _analysis_options(build, quiet="print no report (still compiles, verifies and saves); only errors")
    build.add_argument(
        "--save",
        metavar="PATH",
        help="write weights and spec (torch.load(weights_only=True); reload with archspec.load_checkpoint(PATH))",
    )
    build.add_argument(
        "--weights",
        metavar="FILE",
        help="load a state dict into the module: a .pth/.pt file (torch.save(model.state_dict(), FILE); read with "
        "torch.load(weights_only=True), one wrapper such as {'model': ...} unwrapped) or a .safetensors file",
    )
    build.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        help="with --weights: every entry must fit the module (the default); --no-strict loads the entries that "
        "fit, keeps the module's own values for the rest and lists them as warnings",
    )
    build.add_argument(
        "--verify",
        action="store_true",
        help="run one forward pass and check every static shape, the MACs and the counts; a "
        "mismatch is a bug in archspec and exits with status 3",
    )
    build.set_defaults(run=("archspec.commands.build", "run_build"))


def add_check(commands: Any) -> None:
    check = commands.add_parser("check", help="validate and analyse without importing torch", epilog=EXIT_STATUS_HELP)
    check.add_argument("specs", metavar="SPEC", nargs="+", help=SPEC_HELP)
    _analysis_options(check, quiet="print nothing for valid specs; only errors")
    check.add_argument(
        "--tile",
        metavar="N[,N...]",
        help="state the halo, stride and number of tiles of a tiled inference with tiles of N inputs per spatial "
        "dim (one size or one per dim), from the receptive field",
    )
    check.set_defaults(run=("archspec.commands.check", "run_check"))


def add_list(commands: Any) -> None:
    listing = commands.add_parser("list", help="list bundled specs, ops, containers and built-in blocks")
    listing.add_argument("what", nargs="?", choices=("specs", "ops", "containers", "blocks", "all"), default="all")
    listing.set_defaults(run=("archspec.commands.catalogue", "run_list"))


def add_graph(commands: Any) -> None:
    graph = commands.add_parser(
        "graph", help="print the data flow as a Graphviz DOT or Mermaid diagram, or draw it as SVG/PNG with Graphviz"
    )
    graph.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    graph.add_argument(
        "--format",
        choices=("dot", "mermaid", "svg", "png"),
        default="dot",
        help="svg and png run Graphviz's 'dot' (apt install graphviz / brew install graphviz)",
    )
    graph.add_argument(
        "--depth",
        type=positive_int,
        metavar="N",
        help="draw blocks at depth N or deeper as one box with their params, MACs and output shape "
        "(default: every op; mermaid: the largest depth under Mermaid's 500-edge limit)",
    )
    graph.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    _shape_options(graph)
    graph.set_defaults(run=("archspec.commands.graph", "run_graph"))


def add_codegen(commands: Any) -> None:
    codegen = commands.add_parser("codegen", help="print standalone PyTorch source (needs only torch)")
    codegen.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    codegen.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    _shape_options(codegen)
    codegen.set_defaults(run=("archspec.commands.exports", "run_codegen"))


def add_explain(commands: Any) -> None:
    explain = commands.add_parser(
        "explain",
        help="print the fully expanded spec (params substituted, blocks and repeats unrolled) as a spec file",
        epilog=EXIT_STATUS_HELP,
    )
    explain.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    explain.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    _shape_options(explain)
    explain.set_defaults(run=("archspec.commands.explain", "run_explain"))


def add_export(commands: Any) -> None:
    export = commands.add_parser(
        "export",
        help="write the compiled module as ONNX, TorchScript or a torch.export program, verified on a random input",
        epilog=EXIT_STATUS_HELP,
    )
    export.add_argument(
        "spec", metavar="SPEC", help=f"{SPEC_HELP}; or a checkpoint written by 'build --save', with its weights"
    )
    export.add_argument(
        "--format",
        choices=EXPORT_FORMATS,
        required=True,
        help="onnx: an .onnx file (needs onnx, onnxscript, onnxruntime); torchscript: torch.jit.load reads it; "
        "exported-program: torch.export.load reads it",
    )
    export.add_argument("--output", "-o", metavar="FILE", required=True, help="the file to write")
    _shape_options(export)
    export.add_argument(
        "--batch", type=whole_number, default=1, metavar="N", help="batch size of the exported input (default 1)"
    )
    export.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    export.set_defaults(run=("archspec.commands.export", "run_export"))


def add_schema(commands: Any) -> None:
    schema = commands.add_parser("schema", help="print the JSON Schema of spec files (for editors) or of reports")
    schema.add_argument(
        "what",
        nargs="?",
        choices=("spec", "report"),
        default="spec",
        help="spec: of spec files (the default); report: of the JSON report (check --format json)",
    )
    schema.set_defaults(run=("archspec.commands.catalogue", "run_schema"))


def add_sweep(commands: Any) -> None:
    sweep = commands.add_parser(
        "sweep",
        help="analyse every combination of param values, one row each (no torch)",
        epilog="exit status: 0 every combination valid, 1 some invalid (their rows carry the error), 2 usage error",
    )
    sweep.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    _shape_options(sweep)
    for action in sweep._actions:  # --set takes a list here: its help says so
        if action.dest == "overrides":
            action.metavar = "KEY=V1,V2"
            action.help = "the values of a param to sweep (repeatable: every combination), each read as YAML"
    sweep.add_argument("--batch", type=whole_number, default=1, metavar="N", help="batch size for shapes, MACs, memory")
    sweep.add_argument("--train", action="store_true", help="analyse the training-mode graph")
    sweep.add_argument("--format", choices=("table", "json", "csv"), default="table")
    sweep.add_argument("--jobs", "-j", type=positive_int, default=1, metavar="N", help="analyse in N processes")
    sweep.set_defaults(run=("archspec.commands.sweep", "run_sweep"), depth=None)


def add_diff(commands: Any) -> None:
    diff = commands.add_parser(
        "diff",
        help="compare two specs, or one spec under two --set-a/--set-b settings: totals and differing layers",
        epilog="exit status: 0 the reports agree, 1 they differ or a side is invalid, 2 usage error",
    )
    diff.add_argument("a", metavar="A", help=SPEC_HELP)
    diff.add_argument("b", metavar="B", nargs="?", help="the other spec (default: A again, with --set-b)")
    _shape_options(diff)
    for side in ("a", "b"):
        diff.add_argument(
            f"--set-{side}",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            dest=f"overrides_{side}",
            help=f"override a param of {side.upper()} only (repeatable; after --set, which applies to both)",
        )
    diff.add_argument("--batch", type=whole_number, default=1, metavar="N", help="batch size for shapes, MACs, memory")
    diff.add_argument("--train", action="store_true", help="analyse the training-mode graphs")
    diff.add_argument("--format", choices=("table", "json"), default="table")
    diff.add_argument(
        "--depth", type=whole_number, metavar="N", help="table: list differing modules down to this depth"
    )
    diff.set_defaults(run=("archspec.commands.diff", "run_diff"))


def _shape_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", metavar="C,H,W", help="input shape without batch (default: the spec's)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override a param (repeatable); VALUE is read as YAML",
    )
    parser.add_argument(
        "--scale",
        metavar="NAME",
        help="use one of the spec's named scales (its param values; a --set of the same param wins)",
    )
    parser.add_argument(
        "--max-nodes",
        type=positive_int,
        default=DEFAULT_MAX_NODES,
        metavar="N",
        help=f"reject specs that expand to more modules than this (default {DEFAULT_MAX_NODES:,})",
    )
    parser.set_defaults(batch=1, train=False)


def _analysis_options(parser: argparse.ArgumentParser, quiet: str) -> None:
    """The options ``check`` and ``build`` share; ``quiet`` says what --quiet means for the command."""
    _shape_options(parser)
    parser.add_argument(
        "--batch", type=whole_number, default=1, metavar="N", help="batch size for shapes, MACs, memory"
    )
    parser.add_argument("--train", action="store_true", help="analyse the training-mode graph")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="json: one report object, or an array of them for several specs",
    )
    parser.add_argument(
        "--depth",
        type=whole_number,
        metavar="N",
        help="table and markdown: show modules down to "
        "this depth (1: top-level modules; 0: totals only); JSON always lists every module",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help=quiet)


# In the order `archspec --help` lists them.
COMMANDS = {
    "build": add_build,
    "check": add_check,
    "list": add_list,
    "graph": add_graph,
    "codegen": add_codegen,
    "explain": add_explain,
    "export": add_export,
    "schema": add_schema,
    "sweep": add_sweep,
    "diff": add_diff,
}
