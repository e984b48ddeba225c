"""Absurd numbers (issue 4): every size stays <= 2**31 - 1 (what torch's kernels index) and every tensor a
float32 tensor torch can describe (< 2**63 bytes); receptive fields stay exact integers below 2**63; beyond,
a located error at the layer — never an OverflowError, a hang, or JSON with Infinity/NaN in it."""

from __future__ import annotations

import json
from math import gcd

import pytest
from errortools import assert_located_error
from work import counted_lines

import archspec
from archspec.analysis.receptive_field import MAX_FIELD
from archspec.cli import main
from archspec.errors import OpError
from archspec.ops.base import MAX_SIZE
from archspec.ops.library.conv import check_groups, divisors


def spec(input_shape: str, layers: str) -> dict:
    import yaml

    return {"archspec": 1, "name": "numbers", "input": yaml.safe_load(input_shape), "layers": yaml.safe_load(layers)}


def write(tmp_path, text: str) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def strict_json(text: str) -> dict:
    """Parse JSON the way other languages do: no Infinity, -Infinity or NaN."""

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in JSON output")

    return json.loads(text, parse_constant=refuse)


# --- groups: the divisor suggestion ------------------------------------------------------------------------


def _groups_suggestion(channels: int, limit: int) -> tuple[int, OpError]:
    """The Python lines executed to refuse groups 3 for ``channels`` channels, and the error."""
    with counted_lines(limit) as work, pytest.raises(OpError) as info:
        check_groups(channels, channels, 3)
    return work.lines, info.value


def test_groups_suggestion_for_two_billion_channels_is_sublinear():
    """The suggestion was a loop over every channel count (2 billion steps): a thousand times the channels must
    cost far less than a thousand times the work (a loop to the square root costs about 32 times)."""
    small, _ = _groups_suggestion(2_000_000, limit=10**6)
    large, error = _groups_suggestion(2_000_000_000, limit=100 * small)
    assert large < 100 * small
    assert error.fix.endswith(": 1, 2, 4, 5, 8, 10")


@pytest.mark.parametrize("number", [1, 2, 12, 36, 97, 360, 1024, 2 * 3 * 5 * 7 * 11])
def test_divisors_are_every_divisor_in_order(number):
    assert divisors(number) == [d for d in range(1, number + 1) if number % d == 0]


def test_groups_suggestion_names_common_divisors_near_the_request():
    with pytest.raises(OpError) as info:
        check_groups(96, 144, 7)
    suggested = [int(g) for g in info.value.fix.rsplit(": ", 1)[1].split(", ")]
    assert all(96 % g == 0 and 144 % g == 0 for g in suggested)
    assert suggested == sorted(sorted(divisors(gcd(96, 144)), key=lambda g: abs(g - 7))[:6])


# --- sizes and element counts ------------------------------------------------------------------------------


def test_upsample_chain_stops_at_the_largest_size(tmp_path):
    path = write(
        tmp_path, "archspec: 1\nname: up\ninput: [1, 2]\nlayers:\n  - upsample: {scale: 1000000}\n    repeat: 60\n"
    )
    with pytest.raises(archspec.SpecError) as info:  # was OverflowError: cannot convert float infinity to integer
        archspec.analyze(path)
    assert_located_error(info.value, path)
    assert "module '0.1' would output 1×2000000000000" in str(info.value)


def test_sizes_up_to_the_largest_are_accepted():
    report = archspec.analyze(spec("[1, 2]", "[{upsample: {size: 2147483647}}]"))
    assert report.output_shape == [1, 1, MAX_SIZE]


def test_concat_past_the_largest_size_is_refused():
    with pytest.raises(archspec.SpecError, match="a size of 4,294,967,294"):
        archspec.analyze(spec("[2147483647, 1]", "[{concat: {branches: [[], []]}}]"))


def test_element_count_counts_the_batch():
    """[2**31 - 1, 2**31 - 1] is 2**62 values: too many bytes as float32 even before the batch multiplies."""
    shape = "[2147483647, 2147483647, 1]"
    with pytest.raises(archspec.SpecError, match="more than a float32 tensor can hold") as info:
        archspec.analyze(spec(shape, "[relu]"))
    assert info.value.diagnostics[0].path == ("input",)
    archspec.analyze(spec("[65536, 65536, 65536]", "[relu]"))  # 2**48 values: fine
    with pytest.raises(archspec.SpecError, match="at batch 1,000,000"):
        archspec.analyze(spec("[65536, 65536, 65536]", "[relu]"), batch=1_000_000)


def test_huge_but_valid_networks_are_still_analysed():
    """GPT-sized and bigger: the static analysis of a legitimate network is never refused for its size."""
    report = archspec.analyze(spec("[50000, 4096]", "[{linear: {out: 50000}}]"), batch=2048)
    assert report.totals.macs == 2048 * 50000 * 4096 * 50000


# --- receptive fields ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
def test_field_just_below_the_bound_is_exact_in_every_format(tmp_path, fmt, capsys):
    """Strides of 2**30 twice: a jump of 2**60, printed exactly (not as 1.15292e+18), start exact."""
    path = write(
        tmp_path,
        "archspec: 1\nname: wide_field\ninput: [1, 8]\nlayers:\n"
        "  - conv: {out: 1, kernel: 3, stride: 1073741824, padding: 1}\n    repeat: 2\n",
    )
    assert main(["check", "--format", fmt, path]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        field = strict_json(out)["layers"][-1]["rf"]
        assert field["jump"] == [2**60]
        assert field["size"] == [3 + 2 * 2**30]
        assert field["padding"] == [1 + 2**30]
        assert field["start"] == [0.5]
    else:
        assert str(2**60) in out


def test_field_past_the_bound_is_a_located_error(tmp_path):
    """Strides of 2**31 - 1, 40 times: 'int too large to convert to float' in the report used to be exit 3."""
    path = write(
        tmp_path,
        "archspec: 1\nname: runaway\ninput: [1, 8]\nlayers:\n"
        "  - conv: {out: 1, kernel: 3, stride: 2147483647, padding: 1}\n    repeat: 40\n",
    )
    for fmt in ("table", "json", "markdown"):
        assert main(["check", "--format", fmt, path]) == 1
    with pytest.raises(archspec.SpecError, match=r"outgrows 2\*\*63 - 1 input positions at module '0\.2'") as info:
        archspec.analyze(path)
    assert_located_error(info.value, path)


def test_field_error_inside_a_bundled_block_points_at_the_users_call():
    layers = (
        "[{conv: {out: 4, kernel: 1, stride: 2147483647}}, {conv: {out: 4, kernel: 1, stride: 2147483647}}, "
        "{separable_conv: {out: 4, stride: 2147483647}}]"
    )
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(spec("[4, 8, 8]", layers))
    assert info.value.diagnostics[0].path == ("layers", 2)
    assert "at module '2." in str(info.value)


def test_start_is_computed_exactly():
    from archspec.analysis.receptive_field import EXACT, Field

    field = Field(EXACT, (MAX_FIELD,), (1,), ((MAX_FIELD - 1) // 2,))
    assert field.start == (0.5,)  # R/2 - P in floats would lose it: 2**62 - 2**62 + 0.5


def test_json_of_every_bundled_spec_is_strict_json(capsys):
    for name in ("resnet18", "googlenet", "densenet121"):
        assert main(["check", "--format", "json", name]) == 0
        strict_json(capsys.readouterr().out)
