"""Shared set-up: make the ground-truth helpers in ``tests/truth.py`` importable from every test folder."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
