"""``--verify`` catches disagreements: a deliberately wrong report, or a tampered module, must be reported —
by :func:`archspec.backend.verify.verify` and by ``archspec build --verify``, which exits 3 (a mismatch is a bug
in archspec, not an invalid spec)."""

from __future__ import annotations

import copy

import pytest
import torch
from clitools import cli_runner

import archspec
import archspec.analysis.report
import archspec.api
from archspec.backend.verify import verify

EXIT_INTERNAL = 3


@pytest.fixture
def cli(capsys):
    return cli_runner(capsys)


@pytest.fixture(scope="module")
def lenet():
    return archspec.compile("lenet5"), archspec.analyze("lenet5")


def test_an_honest_report_has_no_problems(lenet):
    model, report = lenet
    assert verify(model, report) == []


def wrong_shape(report):
    wrong = copy.deepcopy(report)
    wrong.layer("c3").output_shape = [1, 16, 9, 9]
    return wrong


def wrong_counts(report):
    wrong = copy.deepcopy(report)
    wrong.totals.macs += 1
    wrong.totals.params -= 1
    wrong.totals.buffers += 2
    return wrong


def test_a_wrong_shape_is_reported(lenet):
    model, report = lenet
    assert verify(model, wrong_shape(report)) == ["c3: static shape [1, 16, 9, 9], measured [1, 16, 10, 10]"]


def test_wrong_totals_are_reported(lenet):
    model, report = lenet
    problems = verify(model, wrong_counts(report))
    assert f"MACs: static {report.totals.macs + 1}, measured {report.totals.macs} (FlopCounterMode / 2)" in problems
    assert f"parameters: static {report.totals.params - 1}, measured {report.totals.params}" in problems
    assert f"buffers: static 2, measured {report.totals.buffers}" in problems


def test_a_module_missing_from_the_report_is_reported(lenet):
    model, report = lenet
    partial = copy.deepcopy(report)
    partial.layers = [row for row in partial.layers if row.path != "s2"]
    assert verify(model, partial) == ["s2: in the compiled module but not in the report"]


def test_an_extra_submodule_is_reported(lenet):
    _, report = lenet
    model = archspec.compile("lenet5")
    model.add_module("spare", torch.nn.Identity())  # registered, never run: absent from the report
    assert verify(model, report) == ["spare: in the compiled module but not in the report"]


def test_a_reported_layer_the_module_lacks_is_reported(lenet):
    model, report = lenet
    extra = copy.deepcopy(report)
    ghost = copy.deepcopy(extra.layer("c1"))
    ghost.path = "ghost"
    extra.layers.append(ghost)
    assert verify(model, extra) == ["ghost: in the report but not in the compiled module"]


def test_a_layer_that_does_not_run_is_reported(lenet):
    _, report = lenet
    model = archspec.compile("lenet5")

    def bypass_c3(x):  # the same computation, but c3's module is never called
        for name, child in model.named_children():
            x = torch.nn.functional.conv2d(x, child.weight, child.bias) if name == "c3" else child(x)
        return x

    model.forward = bypass_c3
    problems = verify(model, report)
    assert problems == [f"c3: static shape {report.layer('c3').output_shape}, but it did not run in the forward pass"]


# -- through the CLI: exit 3 ----------------------------------------------------------------------------------


def test_cli_reports_a_wrong_report_with_exit_3(cli, monkeypatch):
    honest = archspec.analysis.report.build_report
    monkeypatch.setattr(archspec.analysis.report, "build_report", lambda *a, **k: wrong_shape(honest(*a, **k)))
    code, _, err = cli("build", "lenet5", "--verify", "-q")
    assert code == EXIT_INTERNAL
    assert "a bug in archspec" in err
    assert "c3: static shape [1, 16, 9, 9], measured [1, 16, 10, 10]" in err
    assert "Traceback" not in err


def test_cli_reports_a_tampered_module_with_exit_3(cli, monkeypatch):
    honest = archspec.api.compile

    def tampered(*args, **kwargs):
        model = honest(*args, **kwargs)
        model.add_module("spare", torch.nn.Identity())
        return model

    monkeypatch.setattr(archspec.api, "compile", tampered)
    code, _, err = cli("build", "lenet5", "--verify")
    assert code == EXIT_INTERNAL
    assert "spare: in the compiled module but not in the report" in err


def test_help_documents_exit_status_3(capsys):
    from archspec.cli import main

    with pytest.raises(SystemExit):
        main(["build", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "a mismatch is a bug in archspec and exits with status 3" in text
    assert "3 a bug in archspec" in text
