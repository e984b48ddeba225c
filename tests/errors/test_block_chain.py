"""Errors inside nested blocks name the whole chain of uses down from the top-level item
(``layers[2] → block 'bc' at layers[0] → block 'conv_bn_relu' at layers[0].conv``), each position relative
to the block just named — so uses of one block in several places, and bundled blocks inside bundled blocks,
are told apart. The goldens 61, 62, 290 and 291 hold the exact lines; these tests hold the cases a golden
cannot show at a glance."""

from __future__ import annotations

import textwrap

import pytest

import archspec


def errors_of(tmp_path, text: str) -> list[str]:
    path = tmp_path / "case.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    with pytest.raises(archspec.SpecError) as caught:
        archspec.analyze(str(path))
    return [diagnostic.message for diagnostic in caught.value.diagnostics]


def test_a_bundled_block_inside_a_bundled_block_names_each_use(tmp_path):
    """inception uses conv_bn_relu in all four branches: one error per branch, each naming its branch (the
    user's file holds only the one call, so the messages would otherwise be identical)."""
    messages = errors_of(
        tmp_path,
        """
        archspec: 1
        name: bad_eps
        input: [3, 8, 8]
        layers:
          - inception: {ch1x1: 4, ch3x3red: 4, ch3x3: 4, ch5x5red: 4, ch5x5: 4, pool_proj: 4, eps: -1}
        """,
    )
    chains = [message.split(": ", 1)[0] for message in messages]
    assert chains == [
        f"in layers[0] → block 'inception' at layers[0].concat.branches.{branch} → block "
        "'conv_bn_relu' at layers[1].batchnorm.eps"
        for branch in ("branch1[0]", "branch2[0].sequential[0]", "branch3[0].sequential[0]", "branch4[0].sequential[1]")
    ]
    assert all("eps must be > 0" in message for message in messages)


def test_the_chain_starts_at_the_top_level_item_inside_containers(tmp_path):
    messages = errors_of(
        tmp_path,
        """
        archspec: 1
        name: in_sequential
        input: [3, 8, 8]
        layers:
          - conv: {out: 4, kernel: 1}
          - sequential:
              - relu
              - vgg_block: {convs: 1, out: 8, kernel: 11, padding: 0}
        """,
    )
    assert messages[0].startswith(
        "in layers[1].sequential[1] → block 'vgg_block' at layers[0].sequential[0].conv: output size would be"
    )


def test_a_runaway_recursion_shows_the_ends_of_its_chain(tmp_path):
    """Eleven uses of 'tower' and one of 'vgg_block': the first and last uses are named, the middle counted."""
    messages = errors_of(
        tmp_path,
        """
        archspec: 1
        name: tower
        input: [3, 8, 8]
        blocks:
          tower:
            params: {depth: required}
            layers:
              - tower: {depth: "${depth - 1}"}
                if: "${depth > 0}"
              - vgg_block: {convs: 1, out: 4, kernel: 11, padding: 0}
                if: "${depth == 0}"
        layers:
          - tower: {depth: 10}
        """,
    )
    chain = messages[0].split(": ", 1)[0]
    steps = chain.removeprefix("in ").split(" → ")
    assert steps[:2] == ["layers[0]", "block 'tower' at layers[0]"]
    assert steps[-2:] == ["block 'tower' at layers[1]", "block 'vgg_block' at layers[0].sequential[0].conv"]
    hidden = [step for step in steps if step.startswith("…")]
    assert hidden == ["… 6 more uses …"] and len(steps) - 1 + 6 == 1 + 11 + 1
