"""The corpus of broken specs: every file is rejected by ``archspec check`` with exit status 1 and exactly its
golden message (``FILE:LINE:COL: error: PATH: what — fix`` per problem, no traceback); the Python API raises one
SpecError carrying the same diagnostics. See ``errortools`` for the golden-file format and ``UPDATE_GOLDEN=1``."""

from __future__ import annotations

import re

import pytest
from checkpoint_corpus import CASES as CHECKPOINT_BUILDERS
from errortools import (
    CORPUS,
    PLACEHOLDER,
    UPDATE,
    assert_located_error,
    assert_located_report,
    check_golden,
    corpus_files,
    extra_args,
    golden_path,
    run_cli,
)
from weights_corpus import CASES as WEIGHTS_BUILDERS
from weights_corpus import file_name as weights_file_name

import archspec
from archspec.cli import main

# Golden messages archspec does not produce yet (the desired text is in the golden file), with the reason.
PENDING: dict[str, str] = {}
CASES = corpus_files()
# Checkpoints, built when their tests run (test_checkpoint_corpus); their goldens live here too.
CHECKPOINT_CASES = [CORPUS / f"{stem}.pt" for stem in CHECKPOINT_BUILDERS]
# Weights files for `build --weights` (test_weights_corpus), the same way.
CHECKPOINT_CASES += [CORPUS / weights_file_name(stem) for stem in WEIGHTS_BUILDERS]


def number_of(case) -> str:
    """The corpus number of a file: ``"10"`` for ``10_unknown_op.yaml``, ``"100"`` for ``100_round_...``."""
    return case.name.split("_", 1)[0]


def case_numbered(number: str):
    return next(case for case in CASES if number_of(case) == number)


def _params(cases):
    return [
        pytest.param(
            case,
            id=case.stem,
            marks=pytest.mark.xfail(strict=True, reason=PENDING[case.stem]) if case.stem in PENDING else (),
        )
        for case in cases
    ]


# The classes of bad input the issue lists, each with the corpus files that cover it.
CLASSES = {
    "YAML/JSON syntax": ["01", "02", "66", "76", "78"],
    "not a spec (empty, not a mapping, not UTF-8)": ["03", "04", "67"],
    "unknown format version": ["05"],
    "missing required keys": ["06", "46", "52"],
    "unknown keys (did-you-mean)": ["07", "11", "47", "77"],
    "duplicate mapping keys": ["08"],
    "two op keys in one item": ["09"],
    "unknown op (did-you-mean)": ["10"],
    "unknown param / id (did-you-mean)": ["12", "44", "71"],
    "wrong types, no coercion": ["13", "14", "15", "65", "68"],
    "object-constructing YAML tags": ["16", "17"],
    "unsafe expressions": ["18", "19", "20", "21", "22", "23", "24", "72", "73"],
    "alias/anchor bomb": ["25"],
    "deep nesting": ["26"],
    "repeat/node cap": ["27", "63"],
    "block recursion": ["28"],
    "absurdly large numbers": ["29", "30", "64"],
    "stride 0 / negative padding / dilation 0": ["31", "32", "33"],
    "pool padding > kernel/2": ["34"],
    "'same' padding with stride": ["35"],
    "groups not dividing channels": ["36"],
    "transposed output_padding too large": ["37"],
    "CPU 3-D average pooling smaller than its kernel": ["38"],
    "adaptive output size 0": ["39"],
    "output size < 1 (padding / input size fix)": ["40", "41", "61", "74", "75", "83"],
    "concat/add shape mismatch (both sides)": ["42", "43", "79"],
    "unknown 'from' ids, forward references and cycles": ["44", "45", "81", "82"],
    "rank and per-dimension mismatches": ["48", "49"],
    "structure (empty list, duplicate names, first, if)": ["50", "51", "59", "60"],
    "expression values (non-integral, division by zero)": ["53", "54"],
    "training-mode batchnorm on one value": ["55"],
    "several independent errors in one file": ["56", "65", "10"],
    "other run-time-only op errors": ["57", "58", "80"],
    "errors inside blocks point at the user's spec": ["61", "62"],
    "errors inside nested blocks name the chain of uses": ["290", "291"],
    "block module classes and inline (issue 10 §2)": ["300", "301", "302"],
    "strings in expressions: ordering, escapes, arithmetic, min/max (== and != only)": ["310", "311", "312", "313"],
    "normalisation and stochastic depth: groups, dims, one position, mode (issue 11)": ["340", "341", "342", "345"],
    "block parameters outside their 'choices'; choices for no parameter, defaults outside them": ["343", "344"],
    "out-of-range values": ["69", "70", "80"],
    "ConvNeXt's block on a map it cannot take, or given an impossible drop probability (issue 11)": ["360", "361"],
    "integer token inputs: sizes, tokens reaching a float op or a merge, floats reaching embedding (issue 11)": [
        "350",
        "351",
        "352",
        "353",
        "354",
        "355",
    ],
    "functions given arguments that make Python do unbounded work": ["100", "101"],
    "expressions reading the input's shape (own namespace, no subscripts)": ["102", "103", "110", "126"],
    "param order: forward references, cycles, self-reference": ["104", "105", "106", "107"],
    "if / repeat expressions with the concrete problem": ["108", "109", "110"],
    "number and boolean fields given lists, booleans, null, words": ["111", "112", "113", "114", "115"],
    "hints that must themselves be valid": ["116", "117", "118", "119"],
    "reserved head name": ["120"],
    "layout and selection ops, channel_split: the shapes they cannot take (issue 11)": ["84", "85", "86", "87"],
    "pad: a dim it cannot pad (issue 11)": ["92"],
    "merges of fewer than two inputs": ["121", "122", "123"],
    "merge errors name the inputs that came through 'from'": ["124", "125"],
    "suggestions for huge channel counts computed cheaply": ["150"],
    "modules nested deeper than torch can run": ["151", "152"],
    "sizes past 2**31 - 1 and tensors past 2**63 bytes": ["153", "155", "156"],
    "receptive fields that run away": ["154"],
    "control characters, byte-order marks, JSON NaN and huge JSON numbers": ["157", "158", "159", "160", "161"],
    "runaway numbers of errors (capped report)": ["162", "163", "164"],
    "max pooling windows of padding only (torch returns -inf, its backward corrupts memory)": ["165"],
    "literal mistakes beside expressions, reported with the file's other errors": ["166"],
    "unquoted ${...} inside a flow mapping or list (quote it, not 'close the {')": ["200", "201"],
    "explicit tags whose text is not of the tag's type (YAML 1.2 core schema)": ["202", "203", "204", "205"],
    "keys that read like pydantic's location labels (int, str, x[1]), at the top, in blocks, in arguments": [
        "206",
        "207",
        "208",
    ],
    "numbers in other scripts' or full-width digits, or with '_' (ASCII digits only)": ["204", "209", "212", "219"],
    "non-ASCII names in expressions (no NFKC folding)": ["210", "211", "218"],
    "blocks named like built-in blocks, ops or containers ('override: true')": ["213", "214", "215", "69"],
    "nesting past PyYAML's own limit (the same message on every PyYAML)": ["216"],
    "names with a trailing line break": ["217"],
    "the default module budget, in the user's item or a bundled block's call": ["260", "261"],
    "long user text quoted shortened (op names, keys, ids, values, YAML aliases and tags, --set keys)": [
        "262",
        "263",
        "264",
        "265",
        "266",
        "267",
        "274",
        "275",
        "276",
    ],
    "lists of the user's names in a fix, shortened": ["265", "268"],
    "control characters (escape sequences, line breaks, bidirectional overrides) escaped": [
        "269",
        "270",
        "271",
        "272",
        "273",
    ],
    "checkpoints whose pickle would run code": ["230"],
    "checkpoints missing or mistyping an entry": ["231", "232", "233", "234", "240", "248"],
    "checkpoint weights that do not fit the module (shape, type, names)": ["235", "241", "243"],
    "damaged archives (truncated, no data.pkl, decompression bomb)": ["236", "238", "246"],
    "checkpoints of another format or another program": ["239", "245"],
    "errors in a checkpoint's saved spec, input or overrides name the checkpoint": ["237", "242", "244", "247"],
    "weights files whose pickle builds objects (code, a module, training arguments)": ["400", "401", "402"],
    "weights files that are damaged, of another format or not weights at all": [
        "403",
        "414",
        "415",
        "416",
        "417",
        "418",
        "419",
        "420",
        "421",
    ],
    "weights files that hold no state dict (a list, two wrapper levels, no tensors)": ["404", "405", "406"],
    "weights that do not fit the module (names, shapes, types, prefixes, another network)": [
        "407",
        "408",
        "409",
        "410",
        "411",
        "412",
        "413",
    ],
    "named scales: an unknown --scale (the scales listed), a scale setting no param": ["460", "461"],
}


def test_corpus_is_complete():
    assert len(CASES) >= 40
    prefixes = [number_of(case) for case in CASES + CHECKPOINT_CASES]
    assert len(prefixes) == len(set(prefixes)), "corpus numbers must be unique"
    if not UPDATE:
        missing = [case.name for case in CASES if not golden_path(case).exists()]
        assert not missing, f"no golden file for {missing}; run with UPDATE_GOLDEN=1 and review them"
    strays = {p.stem for p in CORPUS.glob("*.expected")} - {case.stem for case in CASES + CHECKPOINT_CASES}
    assert not strays, f"golden files without a spec: {sorted(strays)}"
    for name, numbers in CLASSES.items():
        for listed in numbers:
            assert listed in prefixes, f"class {name!r} names missing corpus file {listed}"
    assert set(prefixes) <= {n for numbers in CLASSES.values() for n in numbers}, "classify every corpus file"


@pytest.mark.parametrize("case", _params(CASES))
def test_cli_prints_the_golden_message(case, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # anything a hostile spec managed to create would land here
    path = str(case)
    code = main(["check", *extra_args(case), path])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert_located_report(err, path)
    check_golden(case, err, path, update=UPDATE and case.stem not in PENDING)  # a pending golden is the goal
    assert list(tmp_path.iterdir()) == []


def test_golden_messages_are_located_and_have_a_fix():
    """The golden files themselves: FILE:LINE:COL, a spec path, what is wrong and a fix on every line."""
    for case in CASES:
        golden = golden_path(case)
        if golden.exists():
            assert_located_report(golden.read_text(encoding="utf-8"), PLACEHOLDER)


API_CASES = [case for case in CASES if not extra_args(case)]


@pytest.mark.parametrize("case", _params(API_CASES))
def test_api_raises_one_spec_error_with_every_diagnostic(case):
    path = str(case)
    with pytest.raises(archspec.SpecError) as info:
        archspec.analyze(path)
    assert_located_error(info.value, path)
    golden = golden_path(case)
    if golden.exists():
        assert str(info.value) + "\n" == golden.read_text(encoding="utf-8").replace(PLACEHOLDER, path)


@pytest.mark.parametrize("wanted", ["16", "25", "27", "42", "56", "151", "157"])
def test_real_process_exit_status_and_message(wanted, tmp_path):
    """A few cases as real processes: exit status 1, the golden stderr, nothing on stdout, no traceback."""
    case = case_numbered(wanted)
    result = run_cli("check", *extra_args(case), str(case), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert_located_report(result.stderr, str(case))
    assert result.stderr == golden_path(case).read_text(encoding="utf-8").replace(PLACEHOLDER, str(case))
    assert list(tmp_path.iterdir()) == []


def test_check_reports_every_file_of_several():
    """``archspec check A B``: the errors of both files, each located in its own file."""
    first, second = (case_numbered(n) for n in ("10", "40"))
    result = run_cli("check", str(first), str(second))
    assert result.returncode == 1
    files = {m["file"] for m in assert_located_report_any(result.stderr)}
    assert files == {str(first), str(second)}


def assert_located_report_any(stderr: str) -> list[re.Match[str]]:
    from errortools import ERROR_LINE

    assert "Traceback" not in stderr
    matches = [ERROR_LINE.match(line) for line in stderr.splitlines()]
    assert matches and all(matches), stderr
    return matches  # type: ignore[return-value]
