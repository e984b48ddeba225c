"""The ``archspec`` command (DESIGN.md §4). Exit status: 0 ok, 1 invalid spec, 2 usage error, 3 a bug in
archspec itself (an internal error, or ``--verify`` finding the module disagreeing with the report),
reported without a traceback.

``check`` never imports torch; ``build`` imports it only to compile.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from archspec.commands.parsers import COMMANDS, EXIT_STATUS_HELP
from archspec.commands.shared import EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, EXIT_USAGE, UsageError
from archspec.errors import SpecError
from archspec.user_text import escaped, shortened


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
    except UsageError as error:
        print(f"archspec: error: {escaped(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # a bug in archspec, not in the spec: say so without a traceback
        if os.environ.get("ARCHSPEC_DEBUG"):
            raise
        print(
            f"archspec: internal error: {type(error).__name__}: {shortened(error, 500)} (please report it; set "
            "ARCHSPEC_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _run(args: argparse.Namespace) -> int:
    """The command; those that write files run where SIGTERM unwinds like Ctrl-C, so that an interrupted write
    leaves the old file and no temporary one (:func:`archspec.outputs.terminate_as_exit`)."""
    module, function = args.run
    command = getattr(importlib.import_module(module), function)
    if args.command not in ("build", "codegen", "explain", "export"):
        return int(command(args))
    from archspec.outputs import terminate_as_exit  # lazy: signal handling, for the writing commands only

    with terminate_as_exit():
        return int(command(args))


class _Parser(argparse.ArgumentParser):
    """argparse's parser, with the arguments its errors echo escaped and shortened like every message."""

    def error(self, message: str) -> Any:  # argparse's own signature says NoReturn; it exits
        super().error(shortened(message, 500))


def _parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The command line's parser. When the first argument names a command, only that command's parser is built:
    nothing else can be parsed or shown then, and building all seven takes twice as long as building two
    (argparse looks up every parser's texts in the translation catalogues on disk). Help, usage errors and an
    unknown command build them all."""
    parser = _Parser(
        prog="archspec",
        description="Network architectures as spec files: "
        "validated, analysed exactly without torch, compiled to PyTorch.",
        epilog=EXIT_STATUS_HELP,
    )
    # Read only when asked for (not argparse's "version" action, which needs the text to build the parser).
    parser.add_argument("--version", action="store_true", help="print 'archspec X.Y.Z' and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, add_command in COMMANDS.items():
        if not argv or argv[0] not in COMMANDS or argv[0] == name:
            add_command(commands)
    return parser


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
