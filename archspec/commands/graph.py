"""``archspec graph``: the data flow as a Graphviz DOT or Mermaid diagram, or drawn as SVG/PNG by Graphviz."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys

from archspec.commands.options import check_writable, write_failed
from archspec.commands.reports import analyse
from archspec.commands.shared import EXIT_OK, UsageError
from archspec.user_text import file_name

DRAWN = ("svg", "png")  # the formats Graphviz's `dot` draws from the DOT text
INSTALL_DOT = (
    "apt install graphviz (Debian/Ubuntu), brew install graphviz (macOS), or see https://graphviz.org/download/"
)


def run_graph(args: argparse.Namespace) -> int:
    from archspec.render.graph import MERMAID_MAX_EDGES, render_dot, render_mermaid

    dot = None
    if args.format in DRAWN:
        dot = shutil.which("dot")  # looked for before the spec is read: a missing tool is said at once
        if dot is None:
            raise UsageError(f"--format {args.format} draws through Graphviz's 'dot', not found on PATH: {INSTALL_DOT}")
        if args.format == "png" and args.output is None and sys.stdout.isatty():
            raise UsageError(f"--format {args.format} writes a binary image: give --output FILE (or redirect stdout)")
    if args.output:
        check_writable("--output", args.output)
    _, network, report = analyse(args.spec, args)
    layers = {row.path: row for row in report.layers}
    if args.format == "mermaid":
        text = render_mermaid(network, args.depth, layers)
        edges = text.count(" --> ")
        if edges >= MERMAID_MAX_EDGES:  # only with an explicit --depth: without one it collapses far enough
            print(
                f"archspec: warning: --depth {args.depth} draws {edges} edges and Mermaid draws fewer than "
                f"{MERMAID_MAX_EDGES} by default: try a smaller --depth, or leave it out to collapse automatically",
                file=sys.stderr,
            )
    else:
        text = render_dot(network, args.depth, layers)
    data = text.encode("utf-8") if dot is None else _draw(dot, text.encode("utf-8"), args.format)
    if args.output:
        from archspec.outputs import atomic_write

        try:
            atomic_write(args.output, lambda handle: handle.write(data))
        except OSError as error:
            raise write_failed("--output", args.output, error) from None
        print(f"wrote {file_name(args.output)}", file=sys.stderr)
    elif dot is None:
        print(text, end="")  # text, through sys.stdout as it is (in-process callers may have replaced it)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return EXIT_OK


def _draw(dot: str, source: bytes, form: str) -> bytes:
    try:
        done = subprocess.run([dot, f"-T{form}"], input=source, capture_output=True, check=False, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UsageError(f"--format {form}: cannot run {dot}: {error}") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"--format {form}: {dot} failed (status {done.returncode}): {' '.join(reason[:3])}")
    return done.stdout
