"""``codegen``: a spec's network as standalone PyTorch source (``graph`` is archspec.commands.graph)."""

from __future__ import annotations

import argparse
import sys

from archspec.commands.options import check_writable, write_failed
from archspec.commands.reports import analyse
from archspec.commands.shared import EXIT_OK
from archspec.user_text import file_name


def run_codegen(args: argparse.Namespace) -> int:
    from archspec.render.codegen import generate_source

    if args.output:
        check_writable("--output", args.output)
    _, network, _ = analyse(args.spec, args)
    source = generate_source(network)
    if args.output:
        from archspec.outputs import atomic_write

        try:
            atomic_write(args.output, lambda handle: handle.write(source.encode("utf-8")))
        except OSError as error:
            raise write_failed("--output", args.output, error) from None
        print(f"wrote {file_name(args.output)}", file=sys.stderr)
    else:
        print(source, end="")
    return EXIT_OK
