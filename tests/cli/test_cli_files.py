"""Paths the operating system refuses, and files that are not files, through every command and API function.

Reading (SPEC, a checkpoint): a name too long, a loop of symbolic links, a link to nothing, a directory, a
named pipe (opening one waits for a writer, for ever) and a device are each one ``FILE: error: what — fix``
with exit status 1 from ``check``, ``build``, ``graph`` and ``codegen``, and a SpecError from
``archspec.load``, ``archspec.analyze`` and ``archspec.load_checkpoint`` — never a traceback, exit 3 or a
blocked process. Writing (``--save``, ``codegen -o``): the same paths, ``/proc``, ``/sys`` and a full disk
(``/dev/full``) are usage errors (exit 2) naming the option and the path.

Commands that could block on a pipe run as real processes with a timeout, so that a regression fails
instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from clitools import cli_runner, run_cli, subprocess_env, write_spec

import archspec
import archspec.api
from archspec.user_text import shortened

SPEC = "archspec: 1\nname: tiny\ninput: [2, 4, 4]\nlayers:\n  - conv: {out: 3, kernel: 1}\n  - relu\n"
READERS = [["check"], ["build"], ["graph"], ["codegen"], ["explain"]]
LONG_NAME = "n" * 300  # one name over the 255 bytes a Linux file system allows
BLOCKING_LIMIT_S = 60  # a process that blocks on a pipe is stopped here, and the test fails


@pytest.fixture
def cli(capsys):
    return cli_runner(capsys)


@pytest.fixture
def no_compile(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("compile must not run: the output path is checked first")

    monkeypatch.setattr(archspec.api, "compile", refuse)


def api(code: str, cwd: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
    """Python ``code`` (with archspec imported) as a real process that prints a SpecError and exits 1."""
    program = (
        "import sys, archspec\ntry:\n"
        + "".join(f"    {line}\n" for line in code.splitlines())
        + "except archspec.SpecError as error:\n    print(error, file=sys.stderr)\n    sys.exit(1)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=subprocess_env(),
        timeout=BLOCKING_LIMIT_S,
        check=False,
    )


# -- reading -------------------------------------------------------------------------------------------------


def refused(kind: str, path: str) -> str:
    """The message for ``path`` of ``kind``, as a spec (what check, build, graph and codegen say); a name too
    long, which names no file, is shortened like any user text."""
    path = shortened(path) if kind == "long" else path
    return {
        "long": f"{path}: error: the path is longer than the operating system allows — use a shorter path (at "
        "most 255 bytes for each name in it on most file systems)\n",
        "loop": f"{path}: error: the path goes round a loop of symbolic links — point the link at a real file\n",
        "dangling": f"{path}: error: is a symbolic link to 'nowhere.yaml', which does not exist — point the link "
        "at an existing file, or give the file's own path\n",
        "pipe": f"{path}: error: is not a regular file (a pipe or a device) — save the spec to a file, or pass '-' "
        "to read it from standard input\n",
    }[kind]


def make(kind: str, folder) -> str:
    """A path of ``kind`` in ``folder`` (relative to it, as a user would type it there)."""
    if kind == "long":
        return LONG_NAME + ".yaml"
    if kind == "long-argument":  # past the 4,096 bytes a whole Linux path may take
        return "n" * 5000
    if kind == "long-target":  # a short link to a name the file system refuses
        os.symlink(LONG_NAME, folder / "long.yaml")
        return "long.yaml"
    if kind == "loop":
        os.symlink("loop.yaml", folder / "loop.yaml")
        return "loop.yaml"
    if kind == "dangling":
        os.symlink("nowhere.yaml", folder / "link.yaml")
        return "link.yaml"
    os.mkfifo(folder / "pipe.yaml")
    return "pipe.yaml"


@pytest.mark.parametrize("command", READERS, ids=[c[0] for c in READERS])
@pytest.mark.parametrize("kind", ["long", "long-argument", "long-target", "loop", "dangling", "pipe"])
def test_a_path_that_is_no_readable_file_is_one_located_error_in_every_command(command, kind, tmp_path):
    path = make(kind, tmp_path)
    result = run_cli(*command, path, cwd=tmp_path, timeout=BLOCKING_LIMIT_S)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr == refused("long" if kind.startswith("long") else kind, path)


@pytest.mark.parametrize("kind", ["long", "loop", "dangling", "pipe"])
@pytest.mark.parametrize("call", ["archspec.load(PATH)", "archspec.analyze(PATH)", "archspec.load_checkpoint(PATH)"])
def test_the_api_raises_a_spec_error_for_the_same_paths(call, kind, tmp_path):
    path = make(kind, tmp_path)
    result = api(call.replace("PATH", repr(path)), tmp_path)
    assert result.returncode == 1, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.split(" — ")[0] == refused(kind, path).split(" — ")[0]  # the fixes say what each one loads


@pytest.mark.parametrize("what", ["directory", "/dev/zero", "pipe"])
def test_load_checkpoint_refuses_what_is_not_a_file_without_opening_it(what, tmp_path):
    path = {"directory": str(tmp_path), "/dev/zero": "/dev/zero", "pipe": str(tmp_path / "pipe.pt")}[what]
    if what == "pipe":
        os.mkfifo(path)
    result = api(f"archspec.load_checkpoint({path!r})", tmp_path)
    assert result.returncode == 1, result.stderr
    reason = "is a directory, not a checkpoint" if what == "directory" else "is not a regular file (a pipe or a device)"
    assert result.stderr == f"{path}: error: {reason} — give the file that 'archspec build --save' wrote\n"


def test_build_refuses_a_pipe_named_like_a_checkpoint_without_blocking(tmp_path):
    """``build`` looks for a checkpoint before reading a spec: that look passes the same guard."""
    os.mkfifo(tmp_path / "weights.pt")
    result = run_cli("build", "weights.pt", cwd=tmp_path, timeout=BLOCKING_LIMIT_S)
    assert result.returncode == 1
    assert result.stderr == refused("pipe", "weights.pt")


def test_a_file_swapped_for_a_pipe_after_the_check_is_refused_through_its_descriptor(tmp_path):
    """The path is checked, then opened without waiting (O_NONBLOCK) and checked again: a pipe that takes the
    file's place in between cannot block the open. (Here os.stat is made to describe a regular file.)"""
    os.mkfifo(tmp_path / "swapped.yaml")
    write_spec(tmp_path, SPEC)
    result = api(
        "import os\nstat = os.stat\n"
        "os.stat = lambda p, *a: stat('spec.yaml' if os.fspath(p) == 'swapped.yaml' else p, *a)\n"
        "archspec.load('swapped.yaml')",
        tmp_path,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr == refused("pipe", "swapped.yaml")


# -- writing -------------------------------------------------------------------------------------------------

OUTPUTS = [("build", "--save"), ("codegen", "--output"), ("explain", "--output")]


def output_path(kind: str, folder) -> str:
    if kind == "long":
        return str(folder / (LONG_NAME + ".out"))
    if kind == "loop":
        os.symlink("loop.out", folder / "loop.out")
        return str(folder / "loop.out")
    return kind


@pytest.mark.parametrize(("command", "option"), OUTPUTS)
@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("long", "the path is longer than the operating system allows; use a shorter name"),
        ("loop", "the path goes round a loop of symbolic links"),
        ("/proc/archspec-test.out", "cannot create a file in /proc: No such file or directory"),
        ("/sys/archspec-test.out", "permission denied"),
    ],
)
def test_an_output_the_system_refuses_is_a_usage_error_before_compiling(
    cli, tmp_path, no_compile, command, option, kind, reason
):
    path = output_path(kind, tmp_path)
    code, out, err = cli(command, "lenet5", option, path)
    assert (code, out) == (2, ""), err
    assert err == f"archspec: error: {option} {path}: {reason}\n"


def quiet(command: str) -> list[str]:
    return ["-q"] if command == "build" else []


@pytest.mark.parametrize(("command", "option"), OUTPUTS)
@pytest.mark.parametrize(
    ("device", "code", "reason"),
    [
        ("/dev/full", 2, "cannot write the file: No space left on device"),
        ("/dev/null", 0, None),
        ("/dev/stdout", 0, None),
    ],
)
def test_a_device_is_written_as_a_stream_and_a_full_disk_is_a_usage_error(cli, command, option, device, code, reason):
    """A device cannot be replaced by a rename (as root, that would put a regular file at /dev/null): it is
    opened by its name and written like a pipe — /dev/stdout, here a pipe, through a link that names no path —
    and what the write meets is reported."""
    if device == "/dev/stdout":  # a real process, whose standard output is a pipe
        run = subprocess.run(
            [sys.executable, "-m", "archspec.cli", command, "lenet5", option, device, *quiet(command)],
            capture_output=True,
            env=subprocess_env(),
            timeout=120,
            check=False,
        )
        result, err = run.returncode, run.stderr.decode()
        starts = {"codegen": b'"""lenet5: generated by archspec', "explain": b"# archspec explain lenet5"}
        assert run.stdout.startswith(starts.get(command, b"PK\x03\x04"))
    else:
        result, _, err = cli(command, "lenet5", option, device, *quiet(command))
        assert os.path.exists(device) and not os.path.isfile(device)
    assert result == code, err
    assert err == (
        f"archspec: error: {option} {device}: {reason}\n"
        if reason
        else ""
        if command == "build"
        else f"wrote {device}\n"
    )
