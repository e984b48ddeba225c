"""Fixtures every CLI test file shares."""

from __future__ import annotations

import pytest
from clitools import cli_runner

import archspec.api


@pytest.fixture
def cli(capsys):
    """``cli(*argv)`` runs archspec's ``main`` in this process and returns its exit status and output."""
    return cli_runner(capsys)


@pytest.fixture
def no_compile(monkeypatch):
    """Make compiling fail loudly: a usage error (a bad output path, say) must be found before the compile."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("compile must not run: the usage error must be found first")

    monkeypatch.setattr(archspec.api, "compile", refuse)
