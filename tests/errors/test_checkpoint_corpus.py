"""Checkpoints that are not what they claim (built by ``checkpoint_corpus``, goldens in
``corpus/2NN_checkpoint_*.expected``): ``archspec build FILE`` exits 1 with exactly the golden message —
``FILE: error: what — fix`` in archspec's words, or, for a saved spec that no longer validates, located in the
checkpoint (never in the ``spec_file`` the checkpoint claims) — and ``archspec.load_checkpoint`` raises one
SpecError with the same text. Nothing in a checkpoint runs: each is read in an empty directory that must stay
empty (230 asks for ``touch PWNED``)."""

from __future__ import annotations

import pytest
from checkpoint_corpus import CASES as BUILDERS
from checkpoint_corpus import SENTINEL, write_all
from errortools import CORPUS, PLACEHOLDER, assert_file_report, check_golden, run_cli

import archspec
from archspec.cli import main

STEMS = sorted(BUILDERS)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Corpus name → the checkpoint, written once for this module."""
    return write_all(tmp_path_factory.mktemp("checkpoint_corpus"))


def golden(stem: str, path) -> str:
    return (CORPUS / f"{stem}.expected").read_text(encoding="utf-8").replace(PLACEHOLDER, str(path))


def numbered(number: str) -> str:
    return next(stem for stem in STEMS if stem.startswith(f"{number}_"))


@pytest.mark.parametrize("stem", STEMS)
def test_build_prints_the_golden_message(stem, checkpoints, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    path = str(checkpoints[stem])
    code = main(["build", path])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert out == ""
    assert_file_report(err, path)
    assert "weights_only" not in err  # torch's advice, which would run the pickle: never passed on
    check_golden(CORPUS / f"{stem}.pt", err, path)
    assert list(tmp_path.iterdir()) == [], "reading a checkpoint created a file"


@pytest.mark.parametrize("stem", STEMS)
def test_load_checkpoint_raises_a_spec_error_with_the_same_message(stem, checkpoints, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    path = checkpoints[stem]
    with pytest.raises(archspec.SpecError) as info:
        archspec.load_checkpoint(path)
    assert str(info.value) + "\n" == golden(stem, path)
    assert all(d.location is not None and d.location.file == str(path) for d in info.value.diagnostics)
    assert not (tmp_path / SENTINEL).exists()


def test_an_invalid_saved_spec_is_located_in_the_checkpoint_not_in_the_file_it_claims(checkpoints, capsys):
    case = checkpoints[numbered("237")]
    assert main(["build", str(case)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{case}:7:5: error: layers[1].reul: unknown op 'reul'")
    assert "elsewhere.yaml" not in err  # the spec_file the checkpoint claims


@pytest.mark.parametrize("number", ["230", "236", "238"])
def test_real_process_exit_status_and_message(number, checkpoints, tmp_path):
    stem = numbered(number)
    result = run_cli("build", str(checkpoints[stem]), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr == golden(stem, checkpoints[stem])
    assert list(tmp_path.iterdir()) == []
