"""Every file archspec writes (``build --save``, ``codegen -o``) is written here, atomically: into a new
temporary file in the same directory, flushed to disk (``fsync``), then renamed over the target. Readers see
the old file or the new one, never part of either; of concurrent writers one wins whole; an error, a full
disk or an interrupt (Ctrl-C) leaves the old file untouched and removes the temporary file.

The new file keeps the old one's permission bits (a new one gets the usual ``0o666`` less the umask). A
symbolic link is followed, so the file it points at is replaced and the link kept. A target that is not a
regular file — ``/dev/null``, a terminal, a pipe another process reads — cannot be replaced and is written
as a stream.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import threading
from collections.abc import Callable, Iterator
from typing import Any

from archspec.user_text import file_name

TEMPORARY_SUFFIX = ".archspec-tmp"
_NAME_KEPT = 100  # of the target's name in the temporary file's, which must stay under the 255-byte limit
_ATTEMPTS = 100

# What the operating system's refusals mean for a path to write.
_REASONS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENAMETOOLONG: "the path is longer than the operating system allows; use a shorter name",
    errno.ELOOP: "the path goes round a loop of symbolic links",
    errno.ENOTDIR: "a part of the path is a file, not a directory",
    errno.ENXIO: "is a named pipe that no process is reading",
}


class OutputError(OSError):
    """A file cannot be written; ``str()`` says why, in words (the CLI prints it as a usage error)."""

    def __init__(self, path: str, reason: str, code: int | None = None):
        super().__init__(code, reason, path)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def check_writable(path: str | os.PathLike[str]) -> None:
    """Fail now, before anything slow runs, if :func:`atomic_write` could not write ``path``: by creating
    (and removing) a temporary file where the real one will be created.

    Raises:
        OutputError: saying what is wrong with the path.
    """
    name = os.fspath(path)
    status = _stat(name)
    if status is not None and not stat.S_ISREG(status.st_mode):
        if not os.access(name, os.W_OK):
            raise OutputError(name, "permission denied", errno.EACCES)
        return  # a device or a pipe: written as a stream (opening a pipe to test it would end its reader's input)
    target = _target(name)
    folder = _folder(target)
    if not os.path.exists(folder):
        raise OutputError(name, f"the directory {file_name(folder)} does not exist", errno.ENOENT)
    if not os.path.isdir(folder):
        raise OutputError(name, f"{file_name(folder)} is not a directory", errno.ENOTDIR)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(name, "permission denied", errno.EACCES)
    descriptor, temporary = _create_temporary(folder, target, name)
    try:
        os.close(descriptor)
    finally:
        _remove(temporary)


def atomic_write(path: str | os.PathLike[str], write: Callable[[Any], None]) -> None:
    """Write ``path`` by calling ``write(handle)`` on a binary handle (``write(bytes)`` and ``flush()``).

    Raises:
        OutputError: when the file cannot be written (an ``OSError``); the old file, if any, is untouched.
        Whatever ``write`` raises, after removing the temporary file.
    """
    name = os.fspath(path)
    status = _stat(name)
    if status is not None and not stat.S_ISREG(status.st_mode):
        # By the name given: /dev/stdout, say, names a pipe through a link no path resolution can follow.
        _write_stream(name, name, write)
        return
    target = _target(name)
    folder = _folder(target)
    descriptor, temporary = _create_temporary(folder, target, name)
    try:
        try:
            if status is not None:
                _keep_mode(descriptor, status)
            _write_all(descriptor, name, write)
            try:
                os.fsync(descriptor)
            except OSError as error:
                raise _output_error(name, error) from None
        finally:
            os.close(descriptor)
        try:
            os.replace(temporary, target)
        except OSError as error:
            raise _output_error(name, error) from None
    except BaseException:  # an error or an interrupt: the old file stays, the temporary one goes
        _remove(temporary)
        raise
    _sync_directory(folder)


@contextlib.contextmanager
def terminate_as_exit() -> Iterator[None]:
    """While the block runs, SIGTERM (``kill``, a CI timeout) ends the process like Ctrl-C does, by unwinding
    (``SystemExit(143)``): a file being written is then left as it was and its temporary file removed, instead
    of the process dying between the two. The ``archspec`` command runs in it. Only in the main thread, and
    only where nothing else has claimed the signal."""

    def terminate(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    installed = (
        threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    )
    if installed:
        signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        if installed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


class _Sink:
    """An unbuffered binary handle on a descriptor that remembers the OSError a write met, so that the caller
    can report it even if ``write``'s own code (torch's archive writer) replaces it with a vaguer error."""

    def __init__(self, descriptor: int):
        self.descriptor = descriptor
        self.error: OSError | None = None

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        try:
            while view:
                view = view[os.write(self.descriptor, view) :]
        except OSError as error:
            self.error = error
            raise
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered."""

    def writable(self) -> bool:
        return True


def _write_all(descriptor: int, name: str, write: Callable[[Any], None]) -> None:
    sink = _Sink(descriptor)
    try:
        write(sink)
    except Exception as error:
        failure = sink.error or (error if isinstance(error, OSError) else None)
        if failure is None:
            raise
        raise _output_error(name, failure) from None


def _write_stream(target: str, name: str, write: Callable[[Any], None]) -> None:
    """A device or a pipe, written in place. A pipe with no reader is refused rather than waited on."""
    try:
        descriptor = os.open(target, os.O_WRONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        raise _output_error(name, error) from None
    try:
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        _write_all(descriptor, name, write)
    finally:
        os.close(descriptor)


def _create_temporary(folder: str, target: str, name: str) -> tuple[int, str]:
    """A new, empty file beside ``target``, created exclusively (``O_EXCL``: never someone else's file)."""
    base = os.path.basename(target)[:_NAME_KEPT]
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(_ATTEMPTS):
        temporary = os.path.join(folder, f".{base}.{os.urandom(4).hex()}{TEMPORARY_SUFFIX}")
        try:
            return os.open(temporary, flags, 0o666), temporary  # the umask applies, as for any new file
        except FileExistsError:
            continue
        except FileNotFoundError as error:
            reason = f"cannot create a file in {file_name(folder)}: {error.strerror}"
            raise OutputError(name, reason, error.errno) from None
        except OSError as error:
            raise _output_error(name, error) from None
    raise OutputError(name, f"cannot create a temporary file in {file_name(folder)}", errno.EEXIST)


def _target(name: str) -> str:
    """Where writing ``name`` lands: through a symbolic link to the file it names (replacing the link itself
    would cut it)."""
    return os.path.realpath(name) if os.path.islink(name) else name


def _folder(target: str) -> str:
    return os.path.dirname(target) or os.curdir


def _stat(name: str) -> os.stat_result | None:
    """The status of what ``name`` names (through links), None when it does not exist yet."""
    try:
        status = os.stat(name)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise _output_error(name, error) from None
    if stat.S_ISDIR(status.st_mode):
        raise OutputError(name, "is a directory; give a file name", errno.EISDIR)
    return status


def _keep_mode(descriptor: int, status: os.stat_result) -> None:
    """Give the new file the old one's permission bits, where the file system keeps any (FAT does not: the
    file is written all the same)."""
    if hasattr(os, "fchmod"):
        with contextlib.suppress(OSError):
            os.fchmod(descriptor, stat.S_IMODE(status.st_mode))


def _sync_directory(folder: str) -> None:
    """Make the rename itself durable. Not every system can open a directory; the file is renamed anyway."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _remove(temporary: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)


def _output_error(name: str, error: OSError) -> OutputError:
    reason = _REASONS.get(error.errno or 0, f"cannot write the file: {error.strerror or error}")
    return OutputError(name, reason, error.errno)
