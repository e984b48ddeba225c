"""``archspec check --tile N`` against a real tiled forward pass: tiles cut with the stated stride, each run
through the compiled network, the stated outputs kept and stitched, equal the untiled forward wherever an
output's receptive field lies in the input; one halo step smaller (a stride one network jump longer, keeping one
more output) breaks equality, so each stated halo is necessary. The fields of the test networks are worked out
by hand below (kernel, stride and padding arithmetic), not read from archspec."""

from __future__ import annotations

import itertools
import json

import pytest
import torch
import torch.nn.functional as F
from clitools import cli_runner

import archspec

# A same-padded stack: three 3x3 convs, one dilated 2: size 1 + 2 + 2 + 4 = 9, jump 1, padding 1 + 1 + 2 = 4.
STACK = """archspec: 1
name: stack
input: [2, 40, 36]
layers:
  - conv: {out: 6, kernel: 3, padding: 1}
  - relu: {}
  - conv: {out: 6, kernel: 3, padding: 1}
  - batchnorm: {}
  - relu: {}
  - conv: {out: 3, kernel: 3, padding: 2, dilation: 2}
"""
STACK_FIELD = {"size": [9, 9], "jump": [1, 1], "padding": [4, 4]}

# Strided and unbalanced: conv k3 p1 (R 3, P 1), maxpool 2/2 (R 4, J 2, P 1), conv k3 s2 p0 (R 8, J 4, P 1),
# conv k5 p1 (R 24, J 4, P 5).
STRIDED = """archspec: 1
name: strided
input: [1, 67, 50]
layers:
  - conv: {out: 4, kernel: 3, padding: 1}
  - relu: {}
  - maxpool: {kernel: 2, stride: 2}
  - conv: {out: 5, kernel: 3, stride: 2}
  - relu: {}
  - conv: {out: 3, kernel: 5, padding: 1}
"""
STRIDED_FIELD = {"size": [24, 24], "jump": [4, 4], "padding": [5, 5]}

# One spatial dim: a dilated conv stack (size 1 + 4 + 2 = 7, padding 2 + 1 = 3), tiles of 11.
LINE = """archspec: 1
name: line
input: [3, 90]
layers:
  - conv: {out: 4, kernel: 3, padding: 2, dilation: 2}
  - gelu: {}
  - conv: {out: 2, kernel: 3, padding: 1}
"""
LINE_FIELD = {"size": [7], "jump": [1], "padding": [3]}


@pytest.fixture
def cli(capsys):
    return cli_runner(capsys)


def _tiling(cli, tmp_path, text: str, tile: str) -> tuple[str, dict]:
    path = tmp_path / "net.yaml"
    path.write_text(text)
    code, out, err = cli("check", str(path), "--tile", tile, "--format", "json")
    assert code == 0, err
    return str(path), json.loads(out)


def _tiled_forward(model, x: torch.Tensor, tiling: dict, out_shape: torch.Size, extra: int = 0, earlier: int = 0):
    """Stitch the kept outputs of every tile (NaN where no tile keeps one). ``extra``: keep that many more outputs
    per tile, tiles stepping one jump further each (a halo ``extra`` jumps smaller after, or before when
    ``earlier``)."""
    dims = x.dim() - 2
    jump = [s // k for s, k in zip(tiling["stride"], tiling["keep"], strict=True)]
    keep = [k + extra for k in tiling["keep"]]
    first = [f - earlier for f in tiling["keep_first"]]
    stride = [k * j for k, j in zip(keep, jump, strict=True)]
    tile = tiling["tile"]
    counts = [-(-(n - f) // k) for n, f, k in zip(out_shape[2:], first, keep, strict=True)]
    # Zero inputs past the image's end for the last tiles: no kept output inside the image reads them.
    reach = [(c - 1) * s + t for c, s, t in zip(counts, stride, tile, strict=True)]
    padded = F.pad(x, [p for n, r in reversed(list(zip(x.shape[2:], reach, strict=True))) for p in (0, max(0, r - n))])
    result = torch.full(out_shape, float("nan"), dtype=x.dtype)
    for index in itertools.product(*(range(c) for c in counts)):
        starts = [k * s for k, s in zip(index, stride, strict=True)]
        window = padded[(..., *(slice(a, a + t) for a, t in zip(starts, tile, strict=True)))]
        with torch.no_grad():
            y = model(window)
        sources, targets = [], []
        for d in range(dims):
            at = starts[d] // jump[d] + first[d]
            length = min(keep[d], out_shape[2 + d] - at, y.shape[2 + d] - first[d])
            sources.append(slice(first[d], first[d] + length))
            targets.append(slice(at, at + length))
        result[(..., *targets)] = y[(..., *sources)]
    return result


def _interior(out_shape: torch.Size, image: list[int], field: dict) -> tuple[slice, ...]:
    """The outputs whose field lies in the image: i*J - P >= 0 and i*J - P + R - 1 <= n - 1."""
    parts = []
    for d, n in enumerate(image):
        size, jump, padding = field["size"][d], field["jump"][d], field["padding"][d]
        low = -(-padding // jump)
        high = min((n - size + padding) // jump, out_shape[2 + d] - 1)
        parts.append(slice(low, high + 1))
    return (..., *parts)


@pytest.mark.parametrize(
    ("text", "field", "tile"),
    [
        (STACK, STACK_FIELD, "16"),
        (STACK, STACK_FIELD, "13,20"),
        (STRIDED, STRIDED_FIELD, "40,37"),
        (LINE, LINE_FIELD, "11"),
    ],
    ids=["stack", "stack-per-dim", "strided", "1d"],
)
def test_tiled_forward_equals_untiled_in_the_interior(cli, tmp_path, text, field, tile):
    path, report = _tiling(cli, tmp_path, text, tile)
    rf = report["receptive_field"]
    assert {k: rf[k] for k in field} == field  # the hand-worked field (the halo's ground)
    tiling = report["tiling"]
    torch.manual_seed(0)
    model = archspec.compile(path).eval()
    with torch.no_grad():
        for module in model.modules():  # batchnorm statistics that are not the identity
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
    image = report["input_shape"][2:]
    x = torch.randn(report["input_shape"], dtype=torch.float64)
    model = model.double()
    with torch.no_grad():
        full = model(x)
    inside = _interior(full.shape, image, field)
    stitched = _tiled_forward(model, x, tiling, full.shape)
    assert full[inside].numel() >= 10
    assert not stitched[inside].isnan().any(), "some interior output is kept by no tile"
    torch.testing.assert_close(stitched[inside], full[inside], rtol=1e-10, atol=1e-12)
    assert tiling["count"] == len(list(itertools.product(*(range(n) for n in tiling["tiles"]))))
    # The tiles stated cover the interior: one tile fewer along a dim leaves outputs out.
    for d, n in enumerate(tiling["tiles"]):
        reach = tiling["keep_first"][d] + n * tiling["keep"][d]
        assert reach >= inside[1 + d].stop > reach - tiling["keep"][d]
    # One jump less halo after (keep one more output, step one jump further) or before: some output differs.
    for extra, earlier in ((1, 0), (1, 1)):
        if earlier and min(tiling["keep_first"]) == 0:
            continue
        broken = _tiled_forward(model, x, tiling, full.shape, extra=extra, earlier=earlier)[inside]
        known = ~broken.isnan()
        assert not torch.allclose(broken[known], full[inside][known], rtol=1e-6, atol=1e-8)


def test_halo_and_stride(cli, tmp_path):
    # Same padded, jump 1: keep outputs [4, 12) of a 16-tile; 8 from the edge each side.
    _, report = _tiling(cli, tmp_path, STACK, "16")
    tiling = report["tiling"]
    assert tiling["halo_before"] == tiling["halo_after"] == [4, 4]
    assert tiling["stride"] == [8, 8] and tiling["overlap"] == [8, 8]
    # 40 - 8 = 32 interior rows / 8 = 4 tiles, 28 columns / 8 -> 4
    assert tiling["tiles"] == [4, 4] and tiling["count"] == 16
    _, strided = _tiling(cli, tmp_path, STRIDED, "40,37")
    # jump 4: stride a multiple of 4; first output kept ceil(5/4) = 2 (8 inputs in), last floor((40-24+5)/4) = 5
    assert strided["tiling"]["keep_first"] == [2, 2] and strided["tiling"]["keep"] == [4, 3]
    assert strided["tiling"]["stride"] == [16, 12]


def test_tiling_report_follows_the_schema(cli, tmp_path):
    import jsonschema

    from archspec.analysis.report_schema import report_schema

    _, report = _tiling(cli, tmp_path, STRIDED, "40,37")
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    # MINOR 1.1.0 added the tiling key (later MINORs add others: scale in 1.2.0)
    assert tuple(map(int, report["format_version"].split("."))) >= (1, 1, 0)


def test_table_footer(cli, tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(STACK)
    code, out, _ = cli("check", str(path), "--tile", "16", "--depth", "0")
    assert code == 0
    assert "Tiling: tile [16, 16], halo [4, 4] before and [4, 4] after, stride [8, 8]" in out
    code, out, _ = cli("check", str(path), "--depth", "0")
    assert "Tiling" not in out


@pytest.mark.parametrize(
    ("spec", "tile", "needle"),
    [
        ("unet", "64", "position dependent (transposed convolution with stride > 1)"),
        ("resnet18", "64", "no spatial dims"),
    ],
)
def test_no_finite_tiling(cli, spec, tile, needle):
    code, out, err = cli("check", spec, "--tile", tile)
    assert code == 1 and not out
    assert needle in err and "Traceback" not in err and "--tile:" in err


def test_unet_error_is_located(cli):
    code, _, err = cli("check", "unet", "--tile", "64")
    assert code == 1
    located = err.split(": error:")[0]
    assert located.endswith(tuple(f":{n}" for n in range(1, 200))) and "unet.yaml:" in located


def test_global_field(cli, tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(STACK + "  - adaptive_avgpool: {output: 1}\n")
    code, _, err = cli("check", str(path), "--tile", "16")
    assert code == 1 and "global" in err


def test_tile_too_small(cli, tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(STACK)
    code, _, err = cli("check", str(path), "--tile", "8")
    assert code == 1 and "too small" in err and "at least 9" in err
    code, _, _ = cli("check", str(path), "--tile", "9")
    assert code == 0


@pytest.mark.parametrize(("tile", "needle"), [("7,a", "--tile expects numbers"), ("8,8,8", "3 sizes")])
def test_bad_tile(cli, tmp_path, tile, needle):
    path = tmp_path / "net.yaml"
    path.write_text(STACK)
    code, _, err = cli("check", str(path), "--tile", tile)
    assert code in (1, 2) and needle in err and "Traceback" not in err


def test_tile_the_network_rejects(cli, tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(STRIDED)
    # 5 -> pool 2 -> a 3x3 stride-2 unpadded conv has no output: the tile is no input of the network
    code, out, err = cli("check", str(path), "--tile", "5")
    assert code == 1 and not out
    assert "is not a valid input of the network" in err and "smallest valid input" in err
