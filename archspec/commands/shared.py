"""What every command shares: exit statuses, the usage error, and how standard input is named."""

from __future__ import annotations

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
STDIN = "-"  # SPEC: read the spec from standard input
STDIN_NAME = "<stdin>"  # ... and name it so in messages


class UsageError(Exception):
    """A command line that cannot be run as written (exit status 2), found before anything slow runs."""
