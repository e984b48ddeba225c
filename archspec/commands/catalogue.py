"""The commands that print what archspec itself offers, with no spec: ``list`` and ``schema``."""

from __future__ import annotations

import argparse

from archspec.commands.shared import EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    from archspec.render.listing import print_listing

    print_listing(args.what)
    return EXIT_OK


def run_schema(args: argparse.Namespace) -> int:
    import json

    from archspec.blocks.schema import spec_schema

    print(json.dumps(spec_schema(), indent=2))
    return EXIT_OK
