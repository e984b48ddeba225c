"""Counting the work code does, instead of timing it: a count is the same on every machine at any load, so a test
can state an algorithm's cost exactly (at most N calls, or a ratio of counts at two sizes) and never flake.

``counted_calls`` counts function calls (Python functions and the C functions they call: cheap enough for a whole
``archspec.load``); ``counted_lines`` counts every Python line executed (loop iterations without calls too — dearer,
for small cases). With a ``limit``, the count stops the code as soon as it passes the limit, so a regression to a
runaway loop fails at once instead of hanging the suite. Timings belong in ``benchmarks/``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class TooMuchWork(BaseException):
    """Raised inside the measured code past the limit: a BaseException, so that no ``except Exception`` in the
    code under test can swallow it."""


@dataclass
class Work:
    calls: int = 0
    lines: int = 0


@contextmanager
def counted_calls(limit: int | None = None) -> Iterator[Work]:
    """Count the function calls made while the block runs (in this thread)."""
    work = Work()

    def profile(frame, event, arg):
        if event in ("call", "c_call"):
            work.calls += 1
            if limit is not None and work.calls > limit:
                sys.setprofile(None)
                raise TooMuchWork(f"more than {limit:,} calls")

    yield from _traced(sys.setprofile, sys.getprofile, profile, work)


@contextmanager
def counted_lines(limit: int | None = None) -> Iterator[Work]:
    """Count the Python lines executed while the block runs (in this thread), and the Python calls."""
    work = Work()

    def local(frame, event, arg):
        if event == "line":
            work.lines += 1
            if limit is not None and work.lines > limit:
                raise TooMuchWork(f"more than {limit:,} lines executed")
        return local

    def calls(frame, event, arg):
        work.calls += 1
        return local

    yield from _traced(sys.settrace, sys.gettrace, calls, work)


def _traced(install, current, hook, work: Work) -> Iterator[Work]:
    previous = current()
    install(hook)
    try:
        yield work
    except TooMuchWork as stopped:
        raise AssertionError(f"too much work: {stopped}") from None
    finally:
        install(previous)
