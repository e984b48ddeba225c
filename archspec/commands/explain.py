"""``archspec explain``: the fully expanded spec — params substituted, blocks and repeats unrolled, every argument
with the value it took — written as a spec file that analyses to the same numbers and compiles to a module with the
same paths and classes (:mod:`archspec.render.explain`). Torch-free, like ``check``."""

from __future__ import annotations

import argparse
import sys

from archspec.commands.options import check_writable, write_failed
from archspec.commands.reports import analyse
from archspec.commands.shared import EXIT_OK, STDIN, STDIN_NAME
from archspec.user_text import file_name


def run_explain(args: argparse.Namespace) -> int:
    from archspec.render.explain import render_explained

    if args.output:
        check_writable("--output", args.output)
    _, network, _ = analyse(args.spec, args)
    text = render_explained(network, _header(args, network.input))
    if args.output:
        from archspec.outputs import atomic_write

        try:
            atomic_write(args.output, lambda handle: handle.write(text.encode("utf-8")))
        except OSError as error:
            raise write_failed("--output", args.output, error) from None
        print(f"wrote {file_name(args.output)}", file=sys.stderr)
    else:
        print(text, end="")
    return EXIT_OK


def _header(args: argparse.Namespace, shape: tuple[int, ...]) -> str:
    """Where the explained spec came from, as its first comment lines (user text escaped: one line each)."""
    source = STDIN_NAME if args.spec == STDIN else args.spec
    lines = [f"archspec explain {file_name(source)}: the spec expanded for the input {list(shape)}."]
    lines += [f"--scale {file_name(args.scale)}"] if args.scale is not None else []
    lines += [f"--set {file_name(pair)}" for pair in args.overrides]
    lines.append("Params are substituted, blocks and repeats unrolled; each block below is one expansion of a block.")
    return "\n".join(lines)
