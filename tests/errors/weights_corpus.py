"""The weights files of the error corpus: files given to ``archspec build SPEC --weights FILE`` that cannot be
loaded into :data:`SPEC`'s module. Each is built here, from a real state dict of that module with one thing
broken (or from another program's output), when the tests run (weight files stay out of git, and a file written
by the torch in use is the honest test); its golden message, ``corpus/4NN_weights_NAME.expected``, says what
``archspec build spec.yaml --weights FILE`` must print. ``python tests/errors/weights_corpus.py FOLDER`` writes
them into FOLDER to look at.

No file here runs code when archspec reads it; one (400) would, if it were unpickled without ``weights_only``:
it asks for ``os.system('touch PWNED')``, so a test that reads it in an empty directory sees at once whether
anything executed.
"""

from __future__ import annotations

import argparse
import io
import os
import pickle
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

SENTINEL = "PWNED"  # the file the code in 400 would create, in the current directory
SPEC = """archspec: 1
name: tiny
input: [2, 4, 4]
params: {classes: 3}
layers:
  - conv: {out: 4, kernel: 1}
  - batchnorm
  - relu
  - global_avgpool
  - flatten
  - linear: {out: $classes}
"""


class _RunsCode:
    """Pickles as a call of ``os.system``: what a hostile weights file hides in its ``data.pkl``."""

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        return os.system, (f"touch {SENTINEL}",)


def state_dict(classes: int = 3) -> dict[str, Any]:
    """The state dict of SPEC's module (with ``classes`` outputs), with seeded values."""
    import torch

    import archspec
    from archspec.loading.yaml_loader import load_text
    from archspec.spec.validate import validate

    torch.manual_seed(0)
    spec = validate(load_text(SPEC, "spec.yaml"), {"classes": classes})
    return archspec.compile(spec).state_dict()


def _saved(payload: Any) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def _changed(change: Callable[[dict[str, Any]], Any]) -> Callable[[], bytes]:
    """A case: the real state dict, changed in place by ``change`` (or replaced by what it returns)."""

    def build() -> bytes:
        state = dict(state_dict())
        result = change(state)
        return _saved(state if result is None else result)

    return build


def _with_pickle(archive: bytes, pickled: bytes, compress: int = zipfile.ZIP_STORED) -> bytes:
    """``archive`` with its ``data.pkl`` replaced by ``pickled`` (the other records kept)."""
    source = zipfile.ZipFile(io.BytesIO(archive))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = pickled if info.filename.endswith("/data.pkl") else source.read(info)
            target.writestr(info.filename, data, compress_type=compress if data is pickled else zipfile.ZIP_STORED)
    return out.getvalue()


def _pickle_runs_code() -> bytes:
    return _with_pickle(_saved(state_dict()), pickle.dumps({"0.weight": _RunsCode()}, protocol=2))


def _pickle_bomb() -> bytes:
    start = pickle.dumps({"0.weight": 0}, protocol=2)[:-1]
    return _with_pickle(_saved(state_dict()), start + b"\x00" * (16 * 2**20), compress=zipfile.ZIP_DEFLATED)


def _whole_module() -> bytes:
    import torch

    return _saved(torch.nn.Linear(2, 3))


def _truncated() -> bytes:
    whole = _saved(state_dict())
    return whole[: len(whole) // 2]


def _torchscript() -> bytes:
    import warnings

    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings():  # torch.jit is deprecated; files it wrote are still around
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.script(torch.nn.Linear(2, 3)), buffer)
    return buffer.getvalue()


def _safetensors_truncated() -> bytes:
    from safetensors.torch import save

    whole = save({key: tensor.contiguous() for key, tensor in state_dict().items()})
    return whole[: len(whole) - 20]


def _safetensors_bad_header() -> bytes:
    header = b'{"0.weight": {"dtype": "F32", "shape": [4, 2, 1, 1], "data_offsets": [0, 999]}}'
    return struct.pack("<Q", len(header)) + header + b"\x00" * 32


def _foreign_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        target.writestr("model/weights.npy", b"\x93NUMPY")
    return out.getvalue()


def _renamed(state: dict[str, Any]) -> None:
    state["fc.weight"] = state.pop("5.weight")
    state["fc.bias"] = state.pop("5.bias")


def _misshaped(state: dict[str, Any]) -> None:
    other = state_dict(classes=10)
    state["5.weight"], state["5.bias"] = other["5.weight"], other["5.bias"]


def _float64(state: dict[str, Any]) -> dict[str, Any]:
    return {key: tensor.double() if tensor.is_floating_point() else tensor for key, tensor in state.items()}


def _extra(state: dict[str, Any]) -> None:
    import torch

    state["6.weight"] = torch.zeros(3, 3)


def _prefixed(state: dict[str, Any]) -> dict[str, Any]:
    return {f"module.{key}": tensor for key, tensor in state.items()}


def _other_network(state: dict[str, Any]) -> dict[str, Any]:
    import torch

    return {"features.0.weight": torch.zeros(8, 3, 3, 3), "classifier.weight": torch.zeros(10, 8)}


def _sparse(state: dict[str, Any]) -> None:
    state["5.weight"] = state["5.weight"].to_sparse()


def _no_state_dict(state: dict[str, Any]) -> dict[str, Any]:
    return {"epoch": 3, "lr": 0.1, "optimizer": {"state": {}}}


def _two_levels(state: dict[str, Any]) -> dict[str, Any]:
    return {"model": {"ema": dict(state)}, "epoch": 3}


def _with_namespace(state: dict[str, Any]) -> dict[str, Any]:
    return {"model": dict(state), "args": argparse.Namespace(lr=0.1)}


CASES: dict[str, Callable[[], bytes]] = {
    "400_weights_pickle_runs_code": _pickle_runs_code,
    "401_weights_whole_module": _whole_module,
    "402_weights_training_args_pickled": _changed(_with_namespace),
    "403_weights_truncated": _truncated,
    "404_weights_not_a_dict": _changed(lambda state: list(state.values())),
    "405_weights_wrapped_two_levels": _changed(_two_levels),
    "406_weights_no_state_dict": _changed(_no_state_dict),
    "407_weights_renamed": _changed(_renamed),
    "408_weights_misshaped": _changed(_misshaped),
    "409_weights_float64": _changed(_float64),
    "410_weights_unexpected_entry": _changed(_extra),
    "411_weights_dataparallel_prefix": _changed(_prefixed),
    "412_weights_other_network": _changed(_other_network),
    "413_weights_sparse": _changed(_sparse),
    "414_weights_torchscript": _torchscript,
    "415_weights_pickle_bomb": _pickle_bomb,
    "416_weights_spec_text": lambda: SPEC.encode(),
    "417_weights_random_bytes": lambda: bytes(range(7, 256)) * 4,
    "418_weights_empty": lambda: b"",
    "419_weights_safetensors_truncated": _safetensors_truncated,
    "420_weights_safetensors_bad_offsets": _safetensors_bad_header,
    "421_weights_foreign_zip": _foreign_zip,
}
# The name each case is written under: what users call such files.
SUFFIXES = {"416_weights_spec_text": ".yaml"}
SUFFIXES.update({stem: ".safetensors" for stem in CASES if "safetensors" in stem})


def file_name(stem: str) -> str:
    return f"{stem}{SUFFIXES.get(stem, '.pth')}"


def write_all(folder: Path) -> dict[str, Path]:
    """Every case written into ``folder`` (with ``spec.yaml``, the spec they are loaded into): name → path."""
    (folder / "spec.yaml").write_text(SPEC, encoding="utf-8")
    written = {}
    for stem, build in CASES.items():
        written[stem] = folder / file_name(stem)
        written[stem].write_bytes(build())
    return written


if __name__ == "__main__":
    import sys

    write_all(Path(sys.argv[1]))
