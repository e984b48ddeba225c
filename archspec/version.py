"""What ``archspec --version`` prints, found without importing torch (or anything heavy)."""

from __future__ import annotations


def installed_version() -> str:
    """The installed distribution's version (package metadata), else ``archspec.__version__`` (a source
    checkout on ``PYTHONPATH`` that was never installed).

    >>> installed_version().count(".") >= 2
    True
    """
    from importlib import metadata

    try:
        return metadata.version("archspec")
    except metadata.PackageNotFoundError:
        import archspec

        return archspec.__version__
