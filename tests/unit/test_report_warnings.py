"""Report warnings: a valid spec that probably does not do what was meant gets a located warning
(``FILE:LINE:COL: warning: PATH: what — fix``) in the report object and in every output format.

The case this file holds: ``linear`` on an input that still has spatial dims (a forgotten ``flatten``) is valid —
torch maps each row of the last dim alike — but a classifier so placed sees one row at a time."""

from __future__ import annotations

import json
import textwrap

import torch

import archspec
from archspec.analysis.warnings import anchors
from archspec.cli import main
from archspec.loading.resolve import bundled_specs

FORGOTTEN_FLATTEN = """\
archspec: 1
name: forgot_flatten
input: [3, 32, 32]
layers:
  - conv: {out: 8, kernel: 3, stride: 2}
  - relu
  - linear: {out: 10}
"""


def write(tmp_path, text: str, name: str = "net.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_linear_on_a_spatial_input_is_valid_and_warned(tmp_path):
    path = write(tmp_path, FORGOTTEN_FLATTEN)
    report = archspec.analyze(str(path))
    # valid, and acting on the last dim only, as torch does
    output = archspec.compile(str(path))(torch.zeros(1, 3, 32, 32))
    assert list(output.shape) == report.output_shape == [1, 8, 15, 10]
    [warning] = report.warnings
    assert (warning.module, warning.spec_path) == ("2", ("layers", 2))
    assert (warning.location.file, warning.location.line, warning.location.column) == (str(path), 7, 5)
    assert "last dimension only" in warning.message and "8×15×15" in warning.message
    assert "flatten" in warning.fix and "1,800 features" in warning.fix  # 8 × 15 × 15
    assert str(warning).startswith(f"{path}:7:5: warning: layers[2]: linear acts on the last dimension only")


def test_the_warning_is_in_every_output_format(tmp_path, capsys):
    path = write(tmp_path, FORGOTTEN_FLATTEN)
    text = str(archspec.analyze(str(path)).warnings[0])

    def cli(*argv: str) -> str:
        assert main(list(argv)) == 0
        out, err = capsys.readouterr()
        assert err == ""
        return out

    assert text in cli("check", str(path)).splitlines()
    assert f"- `{text}`" in cli("check", str(path), "--format", "markdown").splitlines()
    out = cli("check", str(path), "--format", "json")
    [warning] = json.loads(out)["warnings"]
    assert warning == {
        "module": "2",
        "spec_path": "layers[2]",
        "source": f"{path}:7:5",
        "message": warning["message"],
        "fix": warning["fix"],
        "text": text,
    }


def test_no_warning_after_flatten_or_global_pooling(tmp_path):
    text = FORGOTTEN_FLATTEN.replace("  - linear", "  - flatten\n  - linear")
    assert archspec.analyze(str(write(tmp_path, text))).warnings == []
    text = FORGOTTEN_FLATTEN.replace("  - linear", "  - global_avgpool\n  - flatten\n  - linear")
    assert archspec.analyze(str(write(tmp_path, text, "pooled.yaml"))).warnings == []


def test_the_bundled_networks_do_not_warn():
    """The transformers' linears (vit_b_16, gpt_tiny) act on the features of a sequence [L, D], which a layout op or
    a token embedding made: meant, and not warned about."""
    for name in sorted(bundled_specs()):
        assert archspec.analyze(name).warnings == [], name


def test_one_warning_per_item_and_input(tmp_path):
    """The copies of a repeat share one warning (at the first copy); a block used at two inputs warns for each
    use, at the block's item in the user's file."""
    path = write(
        tmp_path,
        """\
        archspec: 1
        name: many
        input: [4, 6, 6]
        blocks:
          mix:
            params: {}
            layers:
              - linear: {out: 6}
        layers:
          - linear: {out: 6}
            repeat: 3
          - mix
          - maxpool: {kernel: 2}
          - mix
        """,
    )
    report = archspec.analyze(str(path))
    assert [(w.module, w.spec_path, w.location.line) for w in report.warnings] == [
        ("0.0", ("layers", 0), 10),
        ("1.linear", ("blocks", "mix", "layers", 0), 8),
        ("3.linear", ("blocks", "mix", "layers", 0), 8),
    ]
    assert "4×6×6" in report.warnings[1].message and "4×3×6" in report.warnings[2].message


def test_inside_a_bundled_block_a_warning_points_at_the_users_call():
    network = archspec.expand(
        {
            "archspec": 1,
            "name": "n",
            "input": [3, 8, 8],
            "layers": [
                {"conv": {"out": 4, "kernel": 1}},
                {"inception": {"ch1x1": 4, "ch3x3red": 4, "ch3x3": 4, "ch5x5red": 4, "ch5x5": 4, "pool_proj": 4}},
            ],
        }
    )
    leaf = next(node for node in network.modules() if node.path == "1.branch2.1.conv")
    assert leaf.location.file != network.file  # it is defined in the block library
    anchor = anchors(network, [leaf])[id(leaf)]
    assert anchor.path == "1" and anchor.spec_path == ("layers", 1)


def linear_warnings(input: list[int] | dict, layers: list) -> list[str]:
    """The modules at which a linear warns of a forgotten flatten."""
    spec = {"archspec": 1, "name": "n", "input": input, "layers": layers}
    return [w.module for w in archspec.analyze(spec).warnings if "last dimension only" in w.message]


CONV = {"conv": {"out": 8, "kernel": 3, "padding": 1}}
LINEAR = {"linear": {"out": 8}}


def test_a_linear_on_the_channels_or_features_that_a_layout_op_made_last_is_meant():
    """The warning fires only where the linear's last input dim is a spatial dim of the network input: after a
    permute to channels last ([H, W, C], ConvNeXt's and Swin's MLPs) the last dim is the channels; after a
    reshape and transpose to a sequence [L, D] (ViT) it is the features, and the positions were merged."""
    channels_last = {"permute": {"dims": [0, 2, 3, 1]}}
    assert linear_warnings([3, 8, 10], [CONV, LINEAR]) == ["1"]  # the forgotten flatten on [C, H, W]
    assert linear_warnings([3, 8, 10], [CONV, channels_last, LINEAR, "gelu", LINEAR]) == []
    assert linear_warnings([3, 8], [CONV, {"permute": {"dims": [0, 2, 1]}}, LINEAR]) == []  # 1-D: [L, C]
    sequence = [CONV, {"reshape": {"shape": [8, -1]}}, {"transpose": {"dim0": 1, "dim1": 2}}]
    assert linear_warnings([3, 8, 10], [*sequence, LINEAR]) == []  # [80, 8]: 80 positions of 8 features
    # the same reshape without the transpose leaves [8, 80]: merged positions last, not a spatial dim either
    assert linear_warnings([3, 8, 10], [*sequence[:2], LINEAR]) == []


def test_a_linear_after_an_embedding_is_meant():
    tokens = {"tokens": 12, "vocab": 50}
    assert linear_warnings(tokens, [{"embedding": {"dim": 16}}, LINEAR, "gelu", LINEAR]) == []


def test_a_linear_on_a_spatial_dim_still_warns_wherever_it_was_moved():
    """Moved back to [C, H, W], or H and W swapped ([C, W, H]: H last), the last dim is a spatial dim again."""
    channels_last, back = {"permute": {"dims": [0, 2, 3, 1]}}, {"permute": {"dims": [0, 3, 1, 2]}}
    assert linear_warnings([3, 8, 10], [CONV, channels_last, LINEAR, back, LINEAR]) == ["4"]
    swapped = linear_warnings([3, 8, 10], [CONV, {"transpose": {"dim0": 2, "dim1": 3}}, LINEAR])
    assert swapped == ["2"]


def test_global_and_position_dependent_fields_keep_where_the_spatial_dims_lie():
    """A global field (global pooling, a group norm's statistics) or one that varies with the position (uneven
    adaptive pooling) is no reason to stop warning: the pooled map [C, 1, 1] fed to a linear is the classic
    mistake. Where a layout op moves the dims of such a field, they are followed; where it merges them, or an op
    mixes the channels they lie on, nothing is claimed."""
    pooled = [CONV, "global_avgpool", LINEAR]
    assert linear_warnings([3, 8, 10], pooled) == ["2"]
    assert linear_warnings([3, 9, 10], [CONV, {"adaptive_avgpool": {"output": [4, 4]}}, LINEAR]) == ["2"]
    norm = {"groupnorm": {"groups": 2}}
    assert linear_warnings([3, 8, 10], [CONV, norm, {"permute": {"dims": [0, 2, 3, 1]}}, LINEAR]) == []
    assert linear_warnings([3, 8, 10], [CONV, norm, {"transpose": {"dim0": 2, "dim1": 3}}, LINEAR]) == ["3"]
    assert linear_warnings([3, 8, 10], [CONV, norm, {"reshape": {"shape": [8, -1]}}, LINEAR]) == []
    mixed = [CONV, {"permute": {"dims": [0, 2, 3, 1]}}, norm, {"permute": {"dims": [0, 3, 1, 2]}}, LINEAR]
    assert linear_warnings([3, 8, 10], mixed) == []  # groupnorm mixed H (on dim 1) with the rest


def test_no_warning_for_a_linear_on_the_channels_of_a_channels_last_map():
    """After a permute to [H, W, C] the last dim is the channels (ConvNeXt's MLP), which the exact receptive field
    knows: no warning. Spatial dims still last — [C, H, W], or a permute that swaps H and W — still warn."""

    def linear_after(permute: list[int] | None) -> list:
        layers = [{"conv": {"out": 4, "kernel": 3}}]
        layers += [{"permute": {"dims": permute}}] if permute else []
        spec = {"archspec": 1, "name": "n", "input": [3, 8, 10], "layers": [*layers, {"linear": {"out": 6}}]}
        return archspec.analyze(spec).warnings

    assert linear_after([0, 2, 3, 1]) == []
    assert len(linear_after(None)) == 1
    [swapped] = linear_after([0, 1, 3, 2])
    assert "4×8×6" in swapped.message  # H (6 after the 3×3 conv) is last now: still a spatial dim


def linear_warnings_on_a_map(layers: list) -> list[str]:
    spec = {"archspec": 1, "name": "layouts", "input": [8, 6, 6], "layers": layers}
    return [w.module for w in archspec.analyze(spec).warnings if w.message.startswith("linear ")]


def test_a_linear_on_the_last_dim_that_a_layout_op_made_is_meant():
    """After a layout op made the last dim the features — ViT's sequence [L, D], ConvNeXt's and Swin's
    channels-last [H, W, C] — a linear there is meant and does not warn; where the last dim is a spatial dim
    again (the dims moved back, or two spatial dims swapped), it warns. Where the spatial dims are not tracked
    (merged by a reshape, or mixed as channels) nothing is claimed."""
    channels_last = {"permute": {"dims": [0, 2, 3, 1]}}
    back = {"permute": {"dims": [0, 3, 1, 2]}}
    linear = {"linear": {"out": 8}}
    assert linear_warnings_on_a_map([{"conv": {"out": 8, "kernel": 3}}, linear]) == ["1"]  # the forgotten flatten
    assert linear_warnings_on_a_map([channels_last, {"layernorm": {}}, linear, "gelu", linear]) == []
    assert linear_warnings_on_a_map([channels_last, linear, back, linear]) == ["3"]
    assert linear_warnings_on_a_map([{"transpose": {"dim0": 2, "dim1": 3}}, linear]) == ["1"]  # [C, W, H]: H is last
    sequence = [{"reshape": {"shape": [8, -1]}}, {"permute": {"dims": [0, 2, 1]}}]
    assert linear_warnings_on_a_map([*sequence, linear, {"self_attention": {"heads": 2}}, linear]) == []
    windows = {"window_attention": {"window": 3, "heads": 2}}  # mixes the dim H lies on: H and W not tracked
    assert linear_warnings_on_a_map([channels_last, windows, linear, back, linear]) == []
    # a global field keeps where the spatial dims lie: instance statistics over the swapped map [C, W, H]
    swapped = [{"transpose": {"dim0": 2, "dim1": 3}}, {"groupnorm": {"groups": 2}}]
    assert linear_warnings_on_a_map([*swapped, linear]) == ["2"]
    assert linear_warnings_on_a_map([*swapped, {"transpose": {"dim0": 1, "dim1": 3}}, linear]) == []  # [H, W, C]
