"""The JSON Schema of the report that ``report.to_dict()`` and ``archspec check --format json`` write.

Written by hand beside :meth:`archspec.analysis.report.Report.to_dict`, as strict as the report is: every object
lists its keys (``additionalProperties: false``, all required), so that a key added to ``to_dict`` without its
place here fails ``tests/unit/test_report_schema.py``, which validates the reports of every bundled spec and of
random specs against it and keeps ``archspec/schemas/report.schema.json`` equal to :func:`report_schema`
(regenerate it with ``archspec schema report > archspec/schemas/report.schema.json``).
"""

from __future__ import annotations

from typing import Any

from archspec.analysis.receptive_field import FieldKind
from archspec.analysis.report import CONVENTIONS, FORMAT_VERSION

_COUNT = {"type": "integer", "minimum": 0}
_SIZE = {"type": "integer", "minimum": 1}
_SHAPE = {"type": "array", "items": _SIZE, "description": "a tensor's shape, batch first"}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_INTS = {"type": "array", "items": {"type": "integer"}}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    """An object holding exactly ``properties`` (every key required, no other key)."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": sorted(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _field(network: bool) -> dict[str, Any]:
    """A receptive field: exact (numbers per spatial dim) or another kind (no numbers, a reason)."""
    exact = {
        "kind": {"const": FieldKind.EXACT.value},
        "size": {**_INTS, "description": "inputs each output sees, per spatial dim"},
        "jump": {**_INTS, "description": "the effective stride, per spatial dim"},
        "start": {
            "type": "array",
            "items": {"type": "number"},
            "description": "0.5-based centre of output index 0 in the input, per spatial dim",
        },
        "padding": {**_INTS, "description": "effective left padding, per spatial dim"},
        "dims": {**_INTS, "description": "the torch dim (batch 0) of each entry, where a layout op moved them"},
    }
    if network:
        exact["stride"] = {**_INTS, "description": "DESIGN §4's name of the network's jump (equal to jump)"}
    exact_required = sorted(set(exact) - {"dims"})
    other = {
        "kind": {"enum": [kind.value for kind in FieldKind if kind != FieldKind.EXACT]},
        **{name: {"type": "null"} for name in ("size", "jump", "start", "padding")},
        "reason": {"type": "string", "description": "why no numbers are claimed"},
    }
    if network:
        other["stride"] = {"type": "null"}
    return {
        "oneOf": [
            {"type": "object", "properties": exact, "required": exact_required, "additionalProperties": False},
            _object(other),
        ],
        "description": CONVENTIONS["receptive_field"],
    }


def _layer() -> dict[str, Any]:
    return _object(
        {
            "path": {"type": "string", "description": "the module's path in the compiled module (torchvision's)"},
            "op": {"type": "string", "description": "the op, container or block that made it"},
            "leaf": {"type": "boolean", "description": "an op (true) or a container of modules (false)"},
            "depth": {**_SIZE, "description": "1 for the top-level modules"},
            "input_shape": {
                "oneOf": [_SHAPE, {"type": "array", "items": _SHAPE, "minItems": 2}],
                "description": "the input's shape, or the shapes of a merge's inputs",
            },
            "output_shape": _SHAPE,
            "params": _COUNT,
            "trainable_params": _COUNT,
            "buffers": _COUNT,
            "macs": {**_COUNT, "description": CONVENTIONS["macs"]},
            "activation_bytes": {**_COUNT, "description": CONVENTIONS["activation_bytes"]},
            "rf": {"oneOf": [_field(network=False), {"type": "null"}]},
            "train_only": {"type": "boolean", "description": "runs only in training (a train-only head's)"},
            "parameter": {"type": "boolean", "description": CONVENTIONS["parameter"]},
            "source": {**_TEXT_OR_NULL, "description": "FILE:LINE:COL of the spec item it comes from"},
        },
        "one module of the network, in depth-first order",
    )


def _warning() -> dict[str, Any]:
    return _object(
        {
            "module": {"type": "string", "description": "the path of the module it is about"},
            "spec_path": {"type": "string"},
            "source": _TEXT_OR_NULL,
            "message": {"type": "string"},
            "fix": _TEXT_OR_NULL,
            "text": {"type": "string", "description": "the line archspec check prints"},
        }
    )


def _tiling() -> dict[str, Any]:
    per_dim = {"type": "array", "items": _COUNT}
    return _object(
        {
            "tile": {**per_dim, "description": "the tile's size in inputs, per spatial dim"},
            "halo_before": {**per_dim, "description": "inputs of a tile before the part it keeps"},
            "halo_after": {**per_dim, "description": "inputs of a tile after the part it keeps"},
            "stride": {**per_dim, "description": "inputs between tile starts (a multiple of the network's jump)"},
            "overlap": {**per_dim, "description": "tile - stride: inputs neighbouring tiles share"},
            "keep_first": {**per_dim, "description": "the first output of a tile to keep (0-based)"},
            "keep": {**per_dim, "description": "how many outputs of a tile to keep from keep_first"},
            "tiles": {**per_dim, "description": "tiles along each dim for the input_shape"},
            "count": {**_SIZE, "description": "tiles in all"},
        },
        "archspec check --tile N: a tiled inference whose kept outputs equal the untiled ones wherever their "
        "receptive field lies in the input; null without --tile",
    )


def report_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one report (``--format json`` with several specs: an array of them)."""
    smallest = {"oneOf": [{"type": "array", "items": _SIZE}, {"type": "null"}]}
    schema = _object(
        {
            "format_version": {
                "const": FORMAT_VERSION,
                "description": "MAJOR.MINOR.PATCH of this format: MAJOR when a key is removed or renamed or a "
                "value changes type or meaning, MINOR when a key is added, PATCH when only descriptions change",
            },
            "name": {"type": "string"},
            "scale": {
                "oneOf": [{"type": "string"}, {"type": "null"}],
                "description": "the spec's named scale in effect (check --scale NAME); null when none was chosen",
            },
            "input_shape": {**_SHAPE, "description": "the network input, batch included"},
            "input_vocab": {
                "oneOf": [_SIZE, {"type": "null"}],
                "description": "a token input's vocabulary (indices in [0, input_vocab)); null for a float input",
            },
            "outputs": {
                "type": "array",
                "minItems": 1,
                "items": _object({"name": {"type": "string"}, "shape": _SHAPE}),
                "description": "the main output ('output') first, then the heads' side outputs by path",
            },
            "totals": _object(
                {
                    "params": _COUNT,
                    "trainable_params": _COUNT,
                    "buffers": _COUNT,
                    "macs": {**_COUNT, "description": CONVENTIONS["macs"]},
                    "activation_bytes": {**_COUNT, "description": CONVENTIONS["activation_bytes"]},
                    "param_bytes": {**_COUNT, "description": CONVENTIONS["param_bytes"]},
                }
            ),
            "receptive_field": {"oneOf": [_field(network=True), {"type": "null"}]},
            "min_input": {
                "type": "array",
                "items": _SIZE,
                "description": "the smallest valid input in the report's mode, without batch",
            },
            "min_input_by_mode": _object({"eval": smallest, "train": smallest}),
            "batch": _SIZE,
            "train": {"type": "boolean", "description": "the training-mode graph was analysed"},
            "conventions": _object({name: {"const": text} for name, text in CONVENTIONS.items()}),
            "warnings": {"type": "array", "items": _warning()},
            "layers": {"type": "array", "items": _layer()},
            "tiling": {"oneOf": [_tiling(), {"type": "null"}]},
        },
        "archspec's static report of one network (archspec check --format json, archspec.analyze(...).to_dict())",
    )
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "archspec report", **schema}
