"""Checkpoints that are not what they claim (``corpus/2NN_checkpoint_*.pt``, written by ``checkpoint_corpus``):
``archspec build FILE`` exits 1 with exactly the golden message — ``FILE: error: what — fix`` in archspec's
words, or, for a saved spec that no longer validates, located in the checkpoint (never in the ``spec_file``
the checkpoint claims) — and ``archspec.load_checkpoint`` raises one SpecError with the same text. Nothing
in a checkpoint runs: each is read in an empty directory that must stay empty (230 asks for
``touch PWNED``)."""

from __future__ import annotations

import pytest
from checkpoint_corpus import CASES as BUILDERS
from checkpoint_corpus import SENTINEL, checkpoint_corpus_files
from errortools import PLACEHOLDER, UPDATE, assert_file_report, check_golden, golden_path, run_cli

import archspec
from archspec.cli import main

CASES = checkpoint_corpus_files()


def test_every_generated_checkpoint_is_in_the_corpus_with_a_golden():
    assert sorted(case.stem for case in CASES) == sorted(BUILDERS)
    if not UPDATE:
        assert all(golden_path(case).exists() for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_build_prints_the_golden_message(case, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    path = str(case)
    code = main(["build", path])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert out == ""
    assert_file_report(err, path)
    assert "weights_only" not in err  # torch's advice, which would run the pickle: never passed on
    check_golden(case, err, path)
    assert list(tmp_path.iterdir()) == [], "reading a checkpoint created a file"


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_load_checkpoint_raises_a_spec_error_with_the_same_message(case, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(archspec.SpecError) as info:
        archspec.load_checkpoint(case)
    assert str(info.value) + "\n" == golden_path(case).read_text(encoding="utf-8").replace(PLACEHOLDER, str(case))
    assert all(d.location is not None and d.location.file == str(case) for d in info.value.diagnostics)
    assert not (tmp_path / SENTINEL).exists()


def test_an_invalid_saved_spec_is_located_in_the_checkpoint_not_in_the_file_it_claims(capsys):
    case = next(case for case in CASES if case.stem.startswith("237_"))
    assert main(["build", str(case)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{case}:7:5: error: layers[1].reul: unknown op 'reul'")
    assert "elsewhere.yaml" not in err  # the spec_file the checkpoint claims


@pytest.mark.parametrize("number", ["230", "236", "238"])
def test_real_process_exit_status_and_message(number, tmp_path):
    case = next(case for case in CASES if case.stem.startswith(f"{number}_"))
    result = run_cli("build", str(case), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr == golden_path(case).read_text(encoding="utf-8").replace(PLACEHOLDER, str(case))
    assert list(tmp_path.iterdir()) == []
