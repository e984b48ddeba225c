"""Hypothesis profiles for the property tests.

- ``ci`` (selected when the ``CI`` environment variable is set) and ``dev`` (otherwise): 60 examples per test,
  derandomized and without an example database, so every run tests the same examples and stays fast;
- ``explore`` (``HYPOTHESIS_PROFILE=explore``): 1000 fresh random examples per test, failures kept in the
  local database — for hunting bugs, not for CI.
"""

import os

from hypothesis import HealthCheck, settings

_DETERMINISTIC = {
    "max_examples": 60,
    "derandomize": True,
    "database": None,
    "deadline": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow],
}

settings.register_profile("ci", **_DETERMINISTIC)
settings.register_profile("dev", **_DETERMINISTIC)
settings.register_profile(
    "explore", max_examples=1000, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
