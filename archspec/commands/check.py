"""``archspec check``: validate and analyse one or more specs without importing torch."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from archspec.commands.options import check_analysis_options
from archspec.commands.reports import analyse, render_reports
from archspec.commands.shared import EXIT_INVALID, EXIT_OK, STDIN, UsageError
from archspec.commands.tiles import add_tiling, tile_sizes
from archspec.errors import SpecError


def run_check(args: argparse.Namespace) -> int:
    check_analysis_options(args)
    if args.specs.count(STDIN) > 1:
        raise UsageError("'-' (standard input) can be given only once")
    tile = tile_sizes(args.tile)
    reports: list[Any] = []
    failed: list[SpecError] = []
    for source in args.specs:
        try:
            spec, network, report = analyse(source, args)
            if tile is not None:
                add_tiling(spec, network, report, tile, args)
            reports.append(report)
        except SpecError as error:
            failed.append(error)
    if reports and not args.quiet:
        print(render_reports(reports, args, several=len(args.specs) > 1))
    if failed:
        print("\n".join(str(error) for error in failed), file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK
