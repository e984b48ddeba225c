"""``build`` refuses a module that cannot fit in memory before importing torch (issue 9): the check needs only
the static figures, while importing torch costs about 650 MB and 2 s. Run where torch cannot be imported at
all, ``build`` and ``archspec.compile`` still give the located out-of-memory error."""

from __future__ import annotations

import json
import subprocess
import sys

from clitools import position, subprocess_env, write_spec
from test_cli_torch_free import BLOCKER

# 10**12 float32 weights: 3.6 TiB, more than any machine has.
HUGE = "archspec: 1\nname: huge\ninput: [1000000]\nlayers:\n  - flatten\n  - linear: {out: 1000000}\n"

PROBE = (
    BLOCKER
    + """
import contextlib
import io

import archspec
from archspec.cli import main

err = io.StringIO()
with contextlib.redirect_stderr(err):
    code = main(["build", sys.argv[1]])
try:
    archspec.compile(sys.argv[1])
    api = "no error"
except archspec.SpecError as error:
    api = str(error)
print(json.dumps({"code": code, "stderr": err.getvalue(), "api": api, "attempts": _NoTorch.attempts,
                  "loaded": sorted(m for m in sys.modules if m.split(".")[0] == "torch")}))
"""
)


def test_build_refuses_an_unallocatable_module_without_importing_torch(tmp_path):
    path = write_spec(tmp_path, HUGE)
    result = subprocess.run(
        [sys.executable, "-c", "import json\n" + PROBE, str(path)],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout)
    line, column = position(HUGE, "linear")
    located = f"{path}:{line}:{column}: error: layers[1]: the module's parameters and buffers need 3725.29 GiB but "
    assert run["code"] == 1, run["stderr"]
    assert run["stderr"].startswith(located) and run["stderr"].count("\n") == 1
    assert run["api"].startswith(located)
    assert run["attempts"] == []
    assert run["loaded"] == []
