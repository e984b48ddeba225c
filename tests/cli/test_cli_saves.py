"""No lost files: ``build --save`` and ``codegen -o`` write a temporary file beside the target, fsync it and
rename it over the target. Eight processes saving to one path at once leave one whole checkpoint, a reader
during the writes only ever sees a whole one, an interrupt (SIGINT, SIGTERM) in the middle of a save leaves
the old file byte for byte, and a disk that fills up half-way leaves it too — with no temporary file behind.

The interrupt comes from inside the saving process, at a chosen point of torch's own archive writer (after its
first tensor record), as a real signal: the same point with or without archspec's atomic writer, so the test
means the same thing for both.
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import pytest
import torch
from clitools import cli_runner, subprocess_env, write_spec

import archspec

# 2048 inputs → $width outputs: 16 MiB of weights, so that a save takes long enough for writers to overlap.
WIDE = "archspec: 1\nname: wide\ninput: [2048]\nparams: {width: 2048}\nlayers:\n  - linear: {out: $width}\n"
WRITERS = 8
# Runs `archspec ARGS`. With ARCHSPEC_TEST_GO set, torch.save first creates the file ARCHSPEC_TEST_READY and
# waits for the file ARCHSPEC_TEST_GO (so that all writers start together); with ARCHSPEC_TEST_SIGNAL set, the
# process signals itself after torch writes its first tensor.
HARNESS = textwrap.dedent("""
    import os, signal, sys, time
    import torch.serialization as serialization
    from archspec.cli import main

    real_save = serialization._save
    go = os.environ.get("ARCHSPEC_TEST_GO")
    interrupt = os.environ.get("ARCHSPEC_TEST_SIGNAL")

    class Interrupting:
        def __init__(self, writer):
            self.writer = writer

        def __getattr__(self, name):
            return getattr(self.writer, name)

        def write_record(self, name, data, size):
            self.writer.write_record(name, data, size)
            if name.startswith("data/"):
                os.kill(os.getpid(), getattr(signal, interrupt))
                time.sleep(5)  # the signal arrives here

    def save(obj, zip_file, *args, **kwargs):
        if go:
            open(os.environ["ARCHSPEC_TEST_READY"], "w").close()
        while go and not os.path.exists(go):
            time.sleep(0.001)
        return real_save(obj, Interrupting(zip_file) if interrupt else zip_file, *args, **kwargs)

    serialization._save = save
    sys.exit(main(sys.argv[1:]))
""")


@pytest.fixture
def cli(capsys):
    return cli_runner(capsys)


def start(args: list[str], cwd, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", HARNESS, *args],
        cwd=cwd,
        env={**subprocess_env(), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def whole_checkpoint(data: bytes) -> int:
    """The width saved in a complete, consistent checkpoint (fails on a partial or mixed one). The archive and
    every record's checksum are checked before torch reads it: torch.load, given a torn file that does not
    start like an archive, tries its legacy format and can spin for minutes."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
    payload = torch.load(io.BytesIO(data), weights_only=True)
    width = payload["overrides"]["width"]
    assert payload["state_dict"]["0.weight"].shape == (width, 2048)
    assert payload["state_dict"]["0.bias"].shape == (width,)
    return width


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder, *expected: str) -> list[str]:
    return sorted(set(os.listdir(folder)) - set(expected))


@pytest.mark.slow
def test_parallel_saves_and_a_reader_never_meet_a_partial_file(tmp_path, cli):
    """Eight processes save different checkpoints to one path (through a symbolic link) at the same moment
    while this process reads it: every read is one whole checkpoint, the last one standing is whole, the link
    is kept, the file keeps its permissions, and no temporary file remains."""
    spec = write_spec(tmp_path, WIDE, "wide.yaml")
    real, link = tmp_path / "real.pt", tmp_path / "link.pt"
    assert cli("build", str(spec), "--set", "width=1", "--save", str(real), "-q")[0] == 0
    real.chmod(0o640)
    link.symlink_to("real.pt")
    go, ready = tmp_path / "go", [tmp_path / f"ready{k}" for k in range(WRITERS)]
    writers = [
        start(
            ["build", str(spec), "--set", f"width={2048 + k}", "--save", str(link), "-q"],
            tmp_path,
            ARCHSPEC_TEST_GO=str(go),
            ARCHSPEC_TEST_READY=str(ready[k]),
        )
        for k in range(WRITERS)
    ]
    while not all(flag.exists() for flag in ready):  # imported and compiled: each waits at torch.save
        assert all(writer.poll() is None for writer in writers), [w.stderr.read() for w in writers if w.poll()]
        time.sleep(0.05)
    go.touch()
    seen = set()
    while any(writer.poll() is None for writer in writers):
        seen.add(whole_checkpoint(link.read_bytes()))
    for writer in writers:
        assert writer.returncode == 0, writer.stderr.read()
    final = whole_checkpoint(link.read_bytes())
    assert final in range(2048, 2048 + WRITERS)
    assert seen <= {1, *range(2048, 2048 + WRITERS)} and len(seen) >= 1
    assert link.is_symlink() and os.readlink(link) == "real.pt"
    assert real.stat().st_mode & 0o777 == 0o640
    assert leftovers(tmp_path, "wide.yaml", "real.pt", "link.pt", go.name, *(flag.name for flag in ready)) == []
    assert archspec.load_checkpoint(link).get_submodule("0").out_features == final


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_an_interrupted_save_leaves_the_old_file_and_no_temporary_file(tmp_path, cli, signal_name):
    spec = write_spec(tmp_path, WIDE, "wide.yaml")
    path = tmp_path / "wide.pt"
    assert cli("build", str(spec), "--set", "width=1", "--save", str(path), "-q")[0] == 0
    before = digest(path)
    saver = start(
        ["build", str(spec), "--set", "width=4096", "--save", str(path), "-q"],
        tmp_path,
        ARCHSPEC_TEST_SIGNAL=signal_name,
    )
    _, err = saver.communicate(timeout=120)
    assert saver.returncode == 128 + getattr(signal, signal_name), err
    assert "saved" not in err
    assert digest(path) == before  # (digests: pytest would diff 16 MiB of bytes for minutes)
    assert leftovers(tmp_path, "wide.yaml", "wide.pt") == []
    assert archspec.load_checkpoint(path).get_submodule("0").out_features == 1


def test_a_disk_that_fills_up_half_way_leaves_the_old_output(tmp_path, cli, monkeypatch):
    """``codegen -o`` over an existing file: the write fails half-way (no space left); the old file stays
    whole, the error is a usage error naming the path, and the temporary file is gone."""
    out = tmp_path / "net.py"
    out.write_text("# the previous version\n")
    real_write = os.write
    budget = [2000]

    def write_until_full(descriptor: int, data) -> int:
        if budget[0] <= 0:
            raise OSError(28, "No space left on device")
        written = real_write(descriptor, bytes(data)[: budget[0]])
        budget[0] -= written
        return written

    monkeypatch.setattr(os, "write", write_until_full)
    code, _, err = cli("codegen", "lenet5", "-o", str(out))
    monkeypatch.undo()
    assert code == 2, err
    assert err == f"archspec: error: --output {out}: cannot write the file: No space left on device\n"
    assert out.read_text() == "# the previous version\n"
    assert leftovers(tmp_path, "net.py") == []


def test_codegen_output_keeps_the_permissions_of_the_file_it_replaces(tmp_path, cli):
    out = tmp_path / "net.py"
    out.write_text("# old\n")
    out.chmod(0o600)
    first_inode = out.stat().st_ino
    assert cli("codegen", "lenet5", "-o", str(out))[0] == 0
    assert out.read_text().startswith('"""')
    assert out.stat().st_mode & 0o777 == 0o600
    assert out.stat().st_ino != first_inode  # replaced by a rename, not rewritten in place
