"""Budgets every entry point shares (``check``, ``build``, ``graph``, ``codegen`` and the Python API), kept in
a module that imports nothing so that the command line can read them before it loads anything heavy.
"""

from __future__ import annotations

# The most modules a spec may expand to unless the caller asks for more (``--max-nodes N``, ``max_nodes=N``).
# Real networks stay far below it: the largest bundled spec (resnet152) has 669 modules, and deep published
# networks (ResNet-1001, EfficientNet-B7, 100-layer transformers) a few thousand. A five-line spec can ask
# for any number (``repeat: 999990``), and each module costs about 10 µs and 1 KB to analyse, a row to
# render and a torch module to build: at 1,000,000 modules that was 17 s and 1.4 GB for ``check`` and over
# 3.4 GB for ``build``. At this budget the worst case costs about 1 s and 125 MB for ``check --quiet``,
# 3 s with the table and 6 s and 850 MB for ``build`` (README, Limits); larger networks remain one option away.
DEFAULT_MAX_NODES = 100_000
