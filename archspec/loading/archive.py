"""Looking inside a ``torch.save`` archive without torch, at a bounded cost.

``torch.save`` writes a zip archive: ``NAME/data.pkl`` (the pickled structure: here the spec's text, its
overrides and input shape, and the state dict's keys) beside one member per tensor storage, all stored
uncompressed. A hostile or damaged file can claim anything, so every member is checked before anything reads
it: its size against a cap, its compression ratio against another (a 1 MB archive whose ``data.pkl``
inflates to 1 GiB is refused on its header, after reading nothing of it), and the total against the memory
available. Recognising a checkpoint reads only the first few kilobytes of ``data.pkl``.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from archspec.errors import SpecError
from archspec.loading.inputs import open_regular_file
from archspec.user_text import quoted

ZIP_SIGNATURE = b"PK\x03\x04"  # torch.save writes a zip archive
FORMAT = "archspec-checkpoint/1"
# data.pkl holds the spec (at most 1 MiB, the loader's cap) and the state dict's keys and tensor records (about
# 200 bytes a tensor): 64 MiB leaves room for some 300,000 tensors.
MAX_PICKLE_BYTES = 64 * 2**20
# torch.save stores every member uncompressed (ratio 1); a compressed member is foreign, and one that inflates
# more than this is a decompression bomb.
MAX_COMPRESSION_RATIO = 20
# The format marker is the pickle's first key: it lies in the first hundred bytes of data.pkl.
SNIFF_BYTES = 4096
_CHUNK = 1 << 20


class ArchiveError(Exception):
    """The archive is not what a checkpoint must be; ``message`` and ``fix`` become a ``FILE: error:``."""

    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class Contents:
    """What the archive's directory says it holds (checked against the caps)."""

    pickle: zipfile.ZipInfo
    total_bytes: int  # all members uncompressed: what reading the whole archive costs


def starts_like_archive(stream: BinaryIO) -> bool:
    """Whether the stream (at its start) begins with a zip signature; the position is restored."""
    start = stream.tell()
    try:
        return stream.read(len(ZIP_SIGNATURE)) == ZIP_SIGNATURE
    finally:
        stream.seek(start)


def inspect(stream: BinaryIO, max_total_bytes: int | None = None) -> Contents:
    """Check the archive's directory: one ``data.pkl``, every member within the caps.

    Args:
        stream: the archive, seekable.
        max_total_bytes: a cap on all members together (the memory available), or None.

    Raises:
        ArchiveError: naming what is wrong.
    """
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise ArchiveError("the archive is truncated or damaged (its directory cannot be read)", _SAVE_AGAIN) from None
    pickles = [
        info
        for info in members
        if info.filename == "data.pkl" or (info.filename.endswith("/data.pkl") and info.filename.count("/") == 1)
    ]
    if len(pickles) != 1:
        raise ArchiveError(
            f"the archive holds {len(pickles)} 'data.pkl' records; a torch.save file has one", _SAVE_AGAIN
        )
    for info in members:
        _check_member(info, MAX_PICKLE_BYTES if info is pickles[0] else None)
    total = sum(info.file_size for info in members)
    if max_total_bytes is not None and total > max_total_bytes:
        raise ArchiveError(
            f"reading the archive needs {total / 2**30:.2f} GiB but only "
            f"{max_total_bytes / 2**30:.2f} GiB of memory is available",
            "load it on a machine with more memory",
        )
    return Contents(pickles[0], total)


def read_member(stream: BinaryIO, info: zipfile.ZipInfo, max_bytes: int) -> bytes:
    """The first ``max_bytes`` bytes of the member ``info``, read in chunks (never more, whatever the member's
    header claims)."""
    _check_member(info, None)
    chunks: list[bytes] = []
    left = max_bytes
    try:
        with zipfile.ZipFile(stream) as archive, archive.open(info) as member:
            while left > 0:
                chunk = member.read(min(_CHUNK, left))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, NotImplementedError):
        raise ArchiveError("the archive is truncated or damaged (a record cannot be read)", _SAVE_AGAIN) from None
    return b"".join(chunks)


def is_checkpoint_stream(stream: BinaryIO) -> bool:
    """Whether the open file is an archspec checkpoint: a zip archive whose ``data.pkl`` names the format
    near its start. Reads the archive's directory and at most :data:`SNIFF_BYTES` of ``data.pkl``; leaves the
    stream at its start."""
    stream.seek(0)
    if not starts_like_archive(stream):
        return False
    try:
        contents = inspect(stream)
        return FORMAT.encode() in read_member(stream, contents.pickle, SNIFF_BYTES)
    except ArchiveError:
        return False
    finally:
        stream.seek(0)


def _check_member(info: zipfile.ZipInfo, max_bytes: int | None) -> None:
    """Refuse a member on its header: a decompression bomb first (the more telling name), then one too big."""
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
        raise ArchiveError(
            f"the archive's {quoted(info.filename)} inflates from {info.compress_size:,} to "
            f"{info.file_size:,} bytes (more than {MAX_COMPRESSION_RATIO} to 1): a decompression "
            "bomb, not a torch.save file",
            _SAVE_AGAIN,
        )
    if max_bytes is not None and info.file_size > max_bytes:
        raise ArchiveError(
            f"the archive's {quoted(info.filename)} is {info.file_size:,} bytes, more than the "
            f"{max_bytes:,} archspec reads of a checkpoint's pickle",
            _SAVE_AGAIN,
        )


_SAVE_AGAIN = "save the network again with 'archspec build SPEC --save PATH'"


def is_archive(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a regular file that starts like a zip archive (as a checkpoint does); False when
    nothing is there.

    Raises:
        SpecError: when the path is a directory, a pipe, a device or otherwise cannot be opened.
    """
    stream = open_regular_file(path)
    if stream is None:
        return False
    with stream:
        return stream.read(len(ZIP_SIGNATURE)) == ZIP_SIGNATURE


def is_checkpoint(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a file written by :func:`archspec.backend.checkpoint.save` (read without torch, and
    at a bounded cost: the archive's directory and the first kilobytes of its pickle, which name the format)."""
    try:
        stream = open_regular_file(path, checkpoint=True)
    except SpecError:
        return False
    if stream is None:
        return False
    with stream:
        return is_checkpoint_stream(stream)
