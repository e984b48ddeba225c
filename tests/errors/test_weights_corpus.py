"""Weights files that cannot be loaded (built by ``weights_corpus``, goldens in ``corpus/4NN_weights_*.expected``):
``archspec build spec.yaml --weights FILE`` exits 1 with exactly the golden message — ``FILE: error: what — fix``
lines about the weights file, never a traceback, never torch's advice to unpickle with ``weights_only=False`` —
and ``archspec.compile(spec, weights=FILE)`` raises one SpecError with the same text. Nothing in a file runs:
each is read in an empty directory that must stay empty (400 asks for ``touch PWNED``)."""

from __future__ import annotations

import pytest
from errortools import CORPUS, PLACEHOLDER, assert_file_report, check_golden, run_cli
from weights_corpus import CASES as BUILDERS
from weights_corpus import SENTINEL, file_name, write_all

import archspec
from archspec.cli import main

STEMS = sorted(BUILDERS)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Corpus name → the weights file, written once for this module (beside spec.yaml)."""
    return write_all(tmp_path_factory.mktemp("weights_corpus"))


def golden(stem: str, path) -> str:
    return (CORPUS / f"{stem}.expected").read_text(encoding="utf-8").replace(PLACEHOLDER, str(path))


@pytest.mark.parametrize("stem", STEMS)
def test_build_prints_the_golden_message(stem, files, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    path = str(files[stem])
    code = main(["build", str(files[stem].with_name("spec.yaml")), "--weights", path, "-q"])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert out == ""
    assert_file_report(err, path)
    assert "weights_only" not in err  # torch's advice, which would run the pickle: never passed on
    check_golden(CORPUS / file_name(stem), err, path)
    assert list(tmp_path.iterdir()) == [], "reading a weights file created a file"


@pytest.mark.parametrize("stem", STEMS)
def test_compile_raises_a_spec_error_with_the_same_message(stem, files, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    path = files[stem]
    with pytest.raises(archspec.SpecError) as info:
        archspec.compile(path.with_name("spec.yaml"), weights=path)
    # The API's fixes name its own argument where the CLI's name the option.
    expected = golden(stem, path).replace("--no-strict", "strict=False").replace("--set KEY=VALUE", "overrides={...}")
    assert str(info.value) + "\n" == expected
    assert all(d.location is not None and d.location.file == str(path) for d in info.value.diagnostics)
    assert all(d.fix for d in info.value.diagnostics)
    assert not (tmp_path / SENTINEL).exists()


@pytest.mark.parametrize("number", ["400", "403", "415"])
def test_real_process_exit_status_and_message(number, files, tmp_path):
    stem = next(stem for stem in STEMS if stem.startswith(f"{number}_"))
    result = run_cli("build", str(files[stem].with_name("spec.yaml")), "--weights", str(files[stem]), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr == golden(stem, files[stem])
    assert list(tmp_path.iterdir()) == []
