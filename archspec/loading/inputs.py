"""Opening the files a user names — specs and checkpoints — through one set of guards, for every command and
every API function.

A path may name something that is not a file to read: a directory, a named pipe (opening it waits for a
writer, for ever), a device (``/dev/zero`` never ends; opening some devices has side effects), a socket, a
loop of symbolic links, or a name the operating system refuses (``ENAMETOOLONG``). Each is a located
``FILE: error: what — fix`` (:class:`SpecError`), never a traceback or a blocked process. The file is
checked before it is opened, opened without waiting (``O_NONBLOCK``) and checked again through the open
descriptor, so a file swapped for a pipe in between cannot block either.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from archspec.errors import Diagnostic, Location, SpecError
from archspec.user_text import quoted, shortened

SPEC_SUFFIXES = (".yaml", ".yml", ".json")
NOT_REGULAR = "is not a regular file (a pipe or a device)"
# What the operating system's refusals mean for a path the user typed, and how to fix it.
_PATH_ERRORS: dict[int, tuple[str, str]] = {
    errno.ENAMETOOLONG: (
        "the path is longer than the operating system allows",
        "use a shorter path (at most 255 bytes for each name in it on most file systems)",
    ),
    errno.ELOOP: ("the path goes round a loop of symbolic links", "point the link at a real file"),
    errno.EACCES: ("permission denied", "check the permissions of the file and of the directories above it"),
    errno.EPERM: ("permission denied", "check the permissions of the file and of the directories above it"),
    errno.ENOTDIR: ("a part of the path is a file, not a directory", "check the path"),
}


def path_error(path: str, error: OSError) -> SpecError:
    """The located error for an ``OSError`` raised by stat-ing, opening or reading ``path``."""
    message, fix = _PATH_ERRORS.get(
        error.errno or 0, (f"cannot read the file: {error.strerror or error}", "check the path and its permissions")
    )
    # A name too long names no file: shortened like any other user text, not shown whole.
    shown = shortened(path) if error.errno == errno.ENAMETOOLONG else path
    return SpecError([Diagnostic(message, (), Location(shown), fix)])


def open_regular_file(source: str | os.PathLike[str], checkpoint: bool = False) -> BinaryIO | None:
    """``source`` opened for reading in binary, or None when nothing exists there (the caller may try a
    bundled spec's name, or say that the file is missing).

    Args:
        source: the path the user gave.
        checkpoint: whether a checkpoint is wanted rather than a spec (the fixes differ: a spec may come
            from standard input, a checkpoint not).

    Raises:
        SpecError: ``FILE: error:`` when the path is a directory, not a regular file, a dangling or looping
            symbolic link, too long, or cannot be opened.
    """
    path = os.fspath(source)
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return _missing(path)
    except OSError as error:
        raise path_error(path, error) from None
    _require_regular(path, status, checkpoint)
    try:
        # O_NONBLOCK: should a pipe have taken the file's place since the stat, opening it returns at once.
        descriptor = os.open(
            path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
        )
    except FileNotFoundError:
        return _missing(path)
    except OSError as error:
        raise path_error(path, error) from None
    try:
        _require_regular(path, os.fstat(descriptor), checkpoint)
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _missing(path: str) -> None:
    """Nothing at ``path`` — unless it is a symbolic link to nothing, which deserves its own message."""
    try:
        target = os.readlink(path)
    except OSError:
        return None
    raise SpecError(
        [
            Diagnostic(
                f"is a symbolic link to {quoted(target)}, which does not exist",
                (),
                Location(path),
                "point the link at an existing file, or give the file's own path",
            )
        ]
    )


def _require_regular(path: str, status: os.stat_result, checkpoint: bool) -> None:
    if stat.S_ISDIR(status.st_mode) and checkpoint:
        raise SpecError(
            [
                Diagnostic(
                    "is a directory, not a checkpoint",
                    (),
                    Location(path),
                    "give the file that 'archspec build --save' wrote",
                )
            ]
        )
    if stat.S_ISDIR(status.st_mode):
        try:
            inside = sorted(entry.name for entry in Path(path).iterdir() if entry.name.endswith(SPEC_SUFFIXES))[:5]
        except OSError:
            inside = []
        raise SpecError(
            [
                Diagnostic(
                    "is a directory, not a spec file",
                    (),
                    Location(path),
                    f"name a spec file in it ({', '.join(inside)})"
                    if inside
                    else "name a .yaml, .yml or .json spec file",
                )
            ]
        )
    if not stat.S_ISREG(status.st_mode):
        # A FIFO or a device would block or never end; standard input has its own name.
        fix = (
            "give the file that 'archspec build --save' wrote"
            if checkpoint
            else "save the spec to a file, or pass '-' to read it from standard input"
        )
        raise SpecError([Diagnostic(NOT_REGULAR, (), Location(path), fix)])
