"""The checkpoints of the error corpus: files that claim to be what ``archspec build --save`` writes and are
not. Each is built here, from a real checkpoint of :data:`TINY` with one thing broken, when the tests run
(``*.pt`` files stay out of git, and a checkpoint written by the torch in use is the honest test); its golden
message, ``corpus/2NN_checkpoint_NAME.expected``, says what ``archspec build FILE`` must print.
``python tests/errors/checkpoint_corpus.py FOLDER`` writes them into FOLDER to look at.

No file here runs code when archspec reads it; one (230) would, if it were unpickled without
``weights_only``: it asks for ``os.system('touch PWNED')``, so a test that reads it in an empty directory sees
at once whether anything executed.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

SENTINEL = "PWNED"  # the file the code in 230 would create, in the current directory
TINY = """archspec: 1
name: tiny
input: [2, 4, 4]
params: {classes: 3}
layers:
  - conv: {out: 4, kernel: 1}
  - relu
  - global_avgpool
  - flatten
  - linear: {out: $classes}
"""
# A saved spec that no longer validates (as if written by another version): an unknown op on line 7.
BROKEN_SPEC = TINY.replace("  - relu\n", "  - reul\n")


class _RunsCode:
    """Pickles as a call of ``os.system``: what a hostile checkpoint hides in its ``data.pkl``."""

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        return os.system, (f"touch {SENTINEL}",)


def _payload() -> dict[str, Any]:
    """What ``archspec build specs/tiny.yaml --set classes=3 --save`` writes, read back."""
    import tempfile

    import torch

    import archspec
    from archspec.backend.checkpoint import save
    from archspec.loading.yaml_loader import load_text
    from archspec.spec.validate import validate

    spec = validate(load_text(TINY, "specs/tiny.yaml"), {"classes": 3}, override_origin="--set")
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tiny.pt"
        save(archspec.compile(spec), spec, path)
        return torch.load(path, weights_only=True)


def _saved(payload: Any) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def _with_pickle(archive: bytes, pickled: bytes, compress: int = zipfile.ZIP_STORED) -> bytes:
    """``archive`` with its ``data.pkl`` replaced by ``pickled`` (the other records kept)."""
    source = zipfile.ZipFile(io.BytesIO(archive))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = pickled if info.filename.endswith("/data.pkl") else source.read(info)
            target.writestr(info.filename, data, compress_type=compress if data is pickled else zipfile.ZIP_STORED)
    return out.getvalue()


def _changed(**entries: Any) -> Callable[[], bytes]:
    """A case: the real payload with ``entries`` replaced (``...`` removes an entry)."""

    def build() -> bytes:
        payload = _payload()
        for key, value in entries.items():
            if value is ...:
                del payload[key]
            else:
                payload[key] = value(payload) if callable(value) else value
        return _saved(payload)

    return build


def _weights(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def apply(payload: dict[str, Any]) -> dict[str, Any]:
        state = dict(payload["state_dict"])
        change(state)
        return state

    return apply


def _pickle_runs_code() -> bytes:
    header = {"format": "archspec-checkpoint/1", "name": "tiny", "spec": _RunsCode()}
    return _with_pickle(_saved(_payload()), pickle.dumps(header, protocol=2))


def _truncated() -> bytes:
    whole = _saved(_payload())
    return whole[: len(whole) // 2]


def _pickle_bomb() -> bytes:
    """A ``data.pkl`` that starts like a checkpoint's and inflates, deflated, to 16 MiB of padding."""
    start = pickle.dumps({"format": "archspec-checkpoint/1"}, protocol=2)[:-1]
    return _with_pickle(_saved(_payload()), start + b"\x00" * (16 * 2**20), compress=zipfile.ZIP_DEFLATED)


def _without_pickle() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        target.writestr("tiny/version", b"3\n")
    return out.getvalue()


def _misshaped(state: dict[str, Any]) -> None:
    import torch

    state["4.weight"] = torch.zeros(5, 4)


def _float64(state: dict[str, Any]) -> None:
    state["0.bias"] = state["0.bias"].double()


def _renamed(state: dict[str, Any]) -> None:
    state["fc.weight"] = state.pop("4.weight")


def _not_a_tensor(state: dict[str, Any]) -> None:
    state["0.bias"] = [0.0, 0.0, 0.0, 0.0]


def _other_torch_file() -> bytes:
    import torch

    return _saved({"model": {"weight": torch.zeros(2)}, "epoch": 3})


CASES: dict[str, Callable[[], bytes]] = {
    "230_checkpoint_pickle_runs_code": _pickle_runs_code,
    "231_checkpoint_without_spec": _changed(spec=...),
    "232_checkpoint_input_mistyped": _changed(input="2,4,4"),
    "233_checkpoint_overrides_mistyped": _changed(overrides=[["classes", 3]]),
    "234_checkpoint_state_dict_missing": _changed(state_dict=...),
    "235_checkpoint_tensor_misshaped": _changed(state_dict=_weights(_misshaped)),
    "236_checkpoint_truncated": _truncated,
    "237_checkpoint_saved_spec_invalid": _changed(spec=BROKEN_SPEC, spec_file="specs/elsewhere.yaml"),
    "238_checkpoint_pickle_bomb": _pickle_bomb,
    "239_checkpoint_unknown_format": _changed(format="archspec-checkpoint/9"),
    "240_checkpoint_weight_not_a_tensor": _changed(state_dict=_weights(_not_a_tensor)),
    "241_checkpoint_weights_renamed": _changed(state_dict=_weights(_renamed)),
    "242_checkpoint_unknown_override": _changed(overrides={"clases": 3}),
    "243_checkpoint_tensor_dtype": _changed(state_dict=_weights(_float64)),
    "244_checkpoint_input_rank": _changed(input=[2, 4]),
    "245_checkpoint_other_torch_file": _other_torch_file,
    "246_checkpoint_without_pickle": _without_pickle,
    "247_checkpoint_override_out_of_range": _changed(overrides={"classes": 0}),
    "248_checkpoint_state_dict_mistyped": _changed(state_dict=lambda payload: list(payload["state_dict"])),
}


def write_all(folder: Path) -> dict[str, Path]:
    """Every case written into ``folder``: corpus name → path."""
    written = {}
    for stem, build in CASES.items():
        written[stem] = folder / f"{stem}.pt"
        written[stem].write_bytes(build())
    return written


if __name__ == "__main__":
    import sys

    write_all(Path(sys.argv[1]))
