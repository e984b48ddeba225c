"""An example archspec plugin. archspec imports this module (the entry point in pyproject.toml names it)
the first time a spec names something that is not built-in, or a listing wants everything.

Importing it registers the op (``ops.py``, torch-free like archspec's own ops); the two names below tell
archspec where its block library and its torch module classes are.
"""

from archspec_plugin_example import ops  # noqa: F401  (importing registers `hard_gate`)

# Block libraries, file names inside this package (shipped as package data).
ARCHSPEC_BLOCKS = ["blocks.yaml"]
# Modules of nn.Module classes (importing only torch): the backend imports them to build, `archspec codegen`
# copies their source. `archspec check` never imports them, so it stays torch-free with the plugin installed.
ARCHSPEC_LAYERS = ["archspec_plugin_example.layers"]
