"""Specs the static analysis accepts but that cannot be built (issue 4): before torch allocates anything,
``archspec.compile`` (and so ``archspec build``) compares the module's parameter and buffer bytes with the
memory available, and ``--verify`` its activation bytes too — refusing with a located error that says how
many GiB are needed and available. ``check`` keeps analysing huge specs: that is legitimate.

The memory available is patched in most tests, so they do not depend on the machine (and never allocate).
"""

from __future__ import annotations

import re

import pytest
from errortools import assert_located_error, assert_located_report

import archspec
from archspec.backend import memory
from archspec.cli import main

GIB = 2**30
HUGE_LINEAR = "archspec: 1\nname: huge_linear\ninput: [100000]\nlayers:\n  - flatten\n  - linear: {out: 100000}\n"
WIDEST_CONV = "archspec: 1\nname: widest_conv\ninput: [1, 1]\nlayers:\n  - conv: {out: 2147483647, kernel: 1}\n"
SMALL = "archspec: 1\nname: small\ninput: [3, 16, 16]\nlayers:\n  - conv: {out: 8, kernel: 3}\n  - relu\n"


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def available(monkeypatch):
    """Set the memory the backend believes is available (bytes); torch must never be asked to build."""

    def set_available(amount: int | None) -> None:
        monkeypatch.setattr(memory, "available_bytes", lambda: amount)

    return set_available


@pytest.fixture
def no_build(monkeypatch):
    """Fail the test if the backend gets as far as building modules."""
    import archspec.backend.torch_backend as backend

    def refuse(*args, **kwargs):
        raise AssertionError("torch was asked to build a module that cannot fit")

    monkeypatch.setattr(backend, "build_tree", refuse)


def test_huge_linear_is_refused_before_torch_allocates(tmp_path, available, no_build):
    path = write(tmp_path, "huge.yaml", HUGE_LINEAR)
    available(16 * GIB)
    with pytest.raises(archspec.SpecError) as info:
        archspec.compile(path)
    assert_located_error(info.value, path)
    diagnostic = info.value.diagnostics[0]
    assert diagnostic.path == ("layers", 1)  # the linear layer holds the 40 GB
    assert (diagnostic.location.line, diagnostic.location.column) == (6, 5)
    assert "need 37.25 GiB but only 16.00 GiB is available" in diagnostic.message
    assert "module '1' (linear, 37.25 GiB)" in diagnostic.message
    assert "archspec check" in diagnostic.fix


def test_widest_conv_is_refused(tmp_path, available, no_build):
    path = write(tmp_path, "conv.yaml", WIDEST_CONV)
    available(8 * GIB)
    with pytest.raises(archspec.SpecError, match=r"need 16\.00 GiB but only 8\.00 GiB") as info:
        archspec.compile(path)
    assert_located_error(info.value, path)


def test_build_prints_one_located_line_and_exits_1(tmp_path, available, no_build, capsys):
    path = write(tmp_path, "huge.yaml", HUGE_LINEAR)
    available(16 * GIB)
    assert main(["build", path]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert_located_report(err, path)
    assert "internal error" not in err


def test_check_still_analyses_huge_specs(tmp_path, capsys):
    path = write(tmp_path, "huge.yaml", HUGE_LINEAR)
    assert main(["check", "--format", "json", path]) == 0
    assert '"param_bytes": 40000400000' in capsys.readouterr().out


def test_what_fits_is_built(tmp_path, available):
    path = write(tmp_path, "small.yaml", SMALL)
    available(1 * GIB)
    assert sum(p.numel() for p in archspec.compile(path).parameters()) == 8 * 3 * 9 + 8


def test_unknown_memory_does_not_block_building(tmp_path, available):
    """Where the platform does not report its memory, nothing is refused."""
    path = write(tmp_path, "small.yaml", SMALL)
    available(None)
    archspec.compile(path)


def test_the_margin_leaves_a_tenth_to_the_rest(tmp_path, available, no_build):
    """A module needing 95% of what is available is refused: torch and the interpreter need room too."""
    path = write(tmp_path, "huge.yaml", HUGE_LINEAR)
    available(int(40_000_400_000 / 0.95))
    with pytest.raises(archspec.SpecError, match=r"need 37\.25 GiB"):
        archspec.compile(path)


def test_verify_refuses_activations_that_do_not_fit(tmp_path, available, capsys):
    """``build --verify`` also needs the forward pass's activations (the input and every leaf's output)."""
    wide = "archspec: 1\nname: wide\ninput: [1, 4096, 4096]\nlayers:\n  - conv: {out: 64, kernel: 1}\n  - relu\n"
    path = write(tmp_path, "wide.yaml", wide)
    report = archspec.analyze(path)
    available(report.totals.param_bytes + 2**20)  # the module fits; 8 GiB of activations do not
    assert main(["build", "--verify", path]) == 1
    err = capsys.readouterr().err
    assert_located_report(err, path)
    assert re.search(r"activations .* need 8\.06 GiB but only 0\.00 GiB is available", err), err
    assert "module '0' (conv, 4.00 GiB)" in err


def test_allocation_failure_inside_torch_becomes_a_located_error(tmp_path, monkeypatch):
    """If torch's allocator fails anyway (another process took the memory meanwhile), say so the same way."""
    import archspec.backend.torch_backend as backend

    def fail(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory")

    monkeypatch.setattr(backend, "build_tree", fail)
    path = write(tmp_path, "small.yaml", SMALL)
    with pytest.raises(archspec.SpecError, match="torch could not allocate it") as info:
        archspec.compile(path)
    assert_located_error(info.value, path)


def test_other_runtime_errors_are_not_disguised(monkeypatch, tmp_path):
    import archspec.backend.torch_backend as backend

    def fail(*args, **kwargs):
        raise RuntimeError("something else")

    monkeypatch.setattr(backend, "build_tree", fail)
    with pytest.raises(RuntimeError, match="something else"):
        archspec.compile(write(tmp_path, "small.yaml", SMALL))


def test_errors_inside_bundled_blocks_point_at_the_users_call(tmp_path, available, no_build):
    spec = (
        "archspec: 1\nname: wide_blocks\ninput: [3, 8, 8]\nlayers:\n  - conv: {out: 64, kernel: 1}\n"
        "  - vgg_block: {convs: 1, out: 2000000000}\n"
    )
    path = write(tmp_path, "blocks.yaml", spec)
    available(1 * GIB)
    with pytest.raises(archspec.SpecError) as info:
        archspec.compile(path)
    assert_located_error(info.value, path)
    assert info.value.diagnostics[0].path == ("layers", 1)


def test_available_memory_is_read_on_linux():
    import sys

    amount = memory.available_bytes()
    if sys.platform.startswith("linux"):
        assert amount is not None and amount > 0


def test_address_space_limit_lowers_what_is_available(monkeypatch):
    """``ulimit -v`` makes torch fail long before MemAvailable runs out: it counts too."""
    resource = pytest.importorskip("resource")
    monkeypatch.setattr(resource, "getrlimit", lambda kind: (10 * GIB, resource.RLIM_INFINITY))
    headroom = memory._address_space_headroom()
    assert headroom is not None and headroom < 10 * GIB
    assert memory.available_bytes() <= headroom
