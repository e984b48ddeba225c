"""The torch backend: the only part of archspec that imports torch (lazily, on first use)."""
