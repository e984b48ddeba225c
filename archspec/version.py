"""What ``archspec --version`` prints, found without importing torch (or anything heavy)."""

from __future__ import annotations

# The fallback where no package metadata is installed (a source checkout on PYTHONPATH); ``archspec.__version__``
# re-exports it, and a test keeps it equal to pyproject.toml's version. Here rather than in archspec/__init__.py
# so that this bottom layer never imports the package root (which names the whole API).
__version__ = "0.1.0"


def installed_version() -> str:
    """The installed distribution's version (package metadata), else :data:`__version__` (a source
    checkout on ``PYTHONPATH`` that was never installed).

    >>> installed_version().count(".") >= 2
    True
    """
    # Imported here, not at the top: importlib.metadata costs more than the rest of `archspec check` imports,
    # and only `--version` needs it (tests/cli/test_cli_startup.py).
    from importlib import metadata

    try:
        return metadata.version("archspec")
    except metadata.PackageNotFoundError:
        return __version__
