"""Shared set-up: ground-truth helpers importable from every test folder, and the slow-test policy.

Tests marked ``slow`` run in CI (``CI=true``) or with ``--runslow``; a plain local ``pytest`` stays fast.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow (CI always does)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow") or os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return
    skip = pytest.mark.skip(reason="slow: runs in CI, or locally with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
