"""Refuse to build a module, or run one, that cannot fit in memory — before torch is asked to allocate it.

Asked for more than there is, torch either fails deep inside its allocator ("DefaultCPUAllocator: can't
allocate memory") or, with Linux overcommit, gets the memory and has the process killed when it first
touches it. The static report knows every byte a module holds, so archspec compares first and says which
layer is too big. The core stays torch-free: this module imports nothing from torch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from archspec.errors import Diagnostic, Location, SpecError, SpecPath

GIB = 2**30
# Leave a tenth of what is available to the interpreter, torch's own buffers and the rest of the system.
USABLE_FRACTION = 0.9


@dataclass(frozen=True)
class Culprit:
    """The layer an out-of-memory error points at: the one holding the most of what does not fit."""

    description: str  # e.g. "module 'fc1' (linear, 37.25 GiB)"
    path: SpecPath
    location: Location | None


def culprit_at(path: str, description: str, modules: Mapping[str, Any], file: str) -> Culprit:
    """The culprit ``path`` (an IR node or a report row, found in ``modules`` by path), located like every
    error: inside a bundled block, at the user's own call of the block — the innermost enclosing module whose
    location is in the user's ``file``."""
    anchor = modules[path]
    while anchor.location is not None and anchor.location.file != file and "." in path:
        path = path.rsplit(".", 1)[0]
        anchor = modules.get(path, anchor)
    return Culprit(description, anchor.spec_path, anchor.location)


def available_bytes() -> int | None:
    """Memory this process can still allocate, or None where the platform does not say.

    Linux: ``MemAvailable`` from ``/proc/meminfo`` (free memory plus what the kernel can reclaim), lowered
    to what a cgroup memory limit (containers) and an address-space limit (``ulimit -v``) leave. Elsewhere,
    the free physical pages, if ``os.sysconf`` knows them.
    """
    candidates = [
        value for value in (_mem_available(), _cgroup_headroom(), _address_space_headroom()) if value is not None
    ]
    if not candidates:
        candidates = [value for value in (_sysconf_available(),) if value is not None]
    return min(candidates) if candidates else None


def require_memory(needed: int, what: str, culprit: Culprit, available: int | None = None) -> None:
    """Raise a located :class:`SpecError` if ``needed`` bytes do not fit in the memory available.

    ``what`` says what needs them ("the module's parameters and buffers"). Nothing is checked where the
    platform does not report its memory."""
    available = available_bytes() if available is None else available
    if available is None or needed <= available * USABLE_FRACTION:
        return
    raise out_of_memory(needed, what, culprit, available)


def out_of_memory(needed: int, what: str, culprit: Culprit, available: int | None) -> SpecError:
    have = f"only {available / GIB:.2f} GiB is available" if available is not None else "torch could not allocate it"
    return SpecError(
        [
            Diagnostic(
                f"{what} need {needed / GIB:.2f} GiB but {have}; the largest part is {culprit.description}",
                culprit.path,
                culprit.location,
                "use smaller layers (fewer channels or features, a smaller input or batch), or run 'archspec check' to "
                "analyse the spec without building it",
            )
        ]
    )


def is_allocation_failure(error: BaseException) -> bool:
    """torch's CPU and CUDA allocators fail with RuntimeError subclasses that say so."""
    if isinstance(error, MemoryError):
        return True
    text = str(error)
    return isinstance(error, RuntimeError) and ("can't allocate memory" in text or "out of memory" in text.lower())


def _meminfo() -> Iterator[tuple[str, int]]:
    try:
        with open("/proc/meminfo", encoding="ascii") as lines:
            for line in lines:
                key, _, rest = line.partition(":")
                fields = rest.split()
                if fields and fields[0].isdigit():
                    yield key, int(fields[0]) * 1024  # reported in kB
    except OSError:
        return


def _mem_available() -> int | None:
    return next((value for key, value in _meminfo() if key == "MemAvailable"), None)


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as handle:
            text = handle.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # cgroup v2 writes "max" for no limit


def _cgroup_headroom() -> int | None:
    """Limit minus usage of this container's memory cgroup (v2, then v1); None without a limit."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        limit, usage = _read_int(limit_file), _read_int(usage_file)
        if limit is not None and usage is not None and limit < 2**60:  # v1 writes ~2**63 for no limit
            return max(limit - usage, 0)
    return None


def _address_space_headroom() -> int | None:
    """What ``ulimit -v`` (RLIMIT_AS) leaves above this process's current virtual size."""
    try:
        import resource  # here: POSIX only, so its absence can be caught
    except ImportError:  # not on Unix
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/status", encoding="ascii") as lines:
            size = next((int(line.split()[1]) * 1024 for line in lines if line.startswith("VmSize:")), None)
    except OSError:
        size = None
    return None if size is None else max(soft - size, 0)


def _sysconf_available() -> int | None:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
