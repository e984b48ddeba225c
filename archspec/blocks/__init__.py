"""Built-in blocks, written in the spec language itself (``*.yaml`` beside this file)."""
