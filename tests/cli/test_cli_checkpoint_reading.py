"""Reading a checkpoint costs what the checkpoint is worth: an archive whose ``data.pkl`` inflates a thousand
times over is refused on its directory, before a byte of it is inflated, by ``check``, ``build`` and
``archspec.load_checkpoint`` alike (bytes counted, not timed); and a rebuilt checkpoint's report names the
checkpoint the user gave, not the path of the spec saved in it."""

from __future__ import annotations

import pickle
import zipfile

import pytest
import torch
from clitools import cli_runner, write_spec

import archspec
from archspec.cli import main

SMALL = "archspec: 1\nname: small\ninput: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3}\n  - relu\n"
BOMB_BYTES = 80 * 2**20  # what data.pkl inflates to; the archive itself is some 80 kB


@pytest.fixture
def cli(capsys):
    return cli_runner(capsys)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    """A zip archive shaped like a checkpoint whose data.pkl starts with the format marker and inflates to
    80 MiB of padding (deflated, 1,000 to 1)."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.pt"
    start = pickle.dumps({"format": "archspec-checkpoint/1", "spec": "x"}, protocol=2)[:-1]
    info = zipfile.ZipInfo("bomb/data.pkl")
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", compresslevel=1) as archive, archive.open(info, "w", force_zip64=True) as member:
        member.write(start)
        block = bytes(2**20)
        for _ in range(BOMB_BYTES // len(block)):
            member.write(block)
    assert path.stat().st_size < BOMB_BYTES / 500
    return path


def bomb_message(path) -> str:
    info = zipfile.ZipFile(path).getinfo("bomb/data.pkl")
    return (
        f"{path}: error: the archive's 'bomb/data.pkl' inflates from {info.compress_size:,} to "
        f"{info.file_size:,} bytes (more than 20 to 1): a decompression bomb, not a torch.save file — save the "
        "network again with 'archspec build SPEC --save PATH'\n"
    )


@pytest.fixture
def inflated(monkeypatch):
    """Counts the bytes read out of zip members through :mod:`zipfile`, and the calls of ``torch.load``."""
    counts = {"bytes": 0, "torch.load": 0}
    real_open = zipfile.ZipFile.open

    def counting_open(self, name, mode="r", *args, **kwargs):
        member = real_open(self, name, mode, *args, **kwargs)
        if mode == "r":
            real_read = member.read

            def read(size=-1):
                data = real_read(size)
                counts["bytes"] += len(data)
                return data

            member.read = read
        return member

    real_load = torch.load

    def counting_load(*args, **kwargs):
        counts["torch.load"] += 1
        return real_load(*args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)
    monkeypatch.setattr(torch, "load", counting_load)
    return counts


def test_check_refuses_an_inflating_archive_without_inflating_it(bomb, inflated, capsys):
    assert main(["check", str(bomb)]) == 1
    assert capsys.readouterr().err.startswith(f"{bomb}: error: the file is a zip archive")
    assert inflated["bytes"] == 0


@pytest.mark.parametrize("reader", ["build", "load_checkpoint"])
def test_build_and_load_checkpoint_refuse_it_before_torch_reads_it(bomb, inflated, capsys, reader):
    expected = bomb_message(bomb)
    if reader == "build":
        assert main(["build", str(bomb)]) == 1
        err = capsys.readouterr().err
    else:
        with pytest.raises(archspec.SpecError) as info:
            archspec.load_checkpoint(bomb)
        err = str(info.value) + "\n"
    assert err == expected
    assert inflated == {"bytes": 0, "torch.load": 0}


def test_recognising_a_real_checkpoint_reads_only_the_start_of_its_pickle(tmp_path, inflated, cli):
    """``check`` names a checkpoint from the first 4 KiB of its data.pkl, however many tensors it holds."""
    spec = write_spec(tmp_path, SMALL.replace("kernel: 3}\n", "kernel: 1}\n    repeat: 100\n"))
    path = tmp_path / "small.pt"
    assert cli("build", str(spec), "--save", str(path), "-q")[0] == 0
    pickled = next(info.file_size for info in zipfile.ZipFile(path).infolist() if info.filename.endswith("data.pkl"))
    inflated["bytes"] = 0
    code, _, err = cli("check", str(path))
    assert code == 1 and "is an archspec checkpoint" in err
    assert pickled > 10_000  # 200 tensors' records
    assert inflated["bytes"] <= 4096


def test_the_report_of_a_rebuilt_checkpoint_names_the_checkpoint(tmp_path, cli):
    spec = write_spec(tmp_path, SMALL, "small.yaml")
    path, copy = tmp_path / "weights.pt", tmp_path / "copy.pt"
    assert cli("build", str(spec), "--save", str(path), "-q")[0] == 0
    code, out, err = cli("build", str(path), "--depth", "0")
    assert code == 0, err
    assert out.splitlines()[1] == f"small — {path}"
    assert str(spec) not in out
    assert cli("build", str(path), "--save", str(copy), "-q")[0] == 0
    assert torch.load(copy, weights_only=True)["spec_file"] == str(spec)  # where the spec came from, kept
