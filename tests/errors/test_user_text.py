"""User text in messages and reports (issue 9, "output hygiene"): quoted shortened, everywhere — a 200,000-
character name costs a few hundred bytes of stderr wherever it is echoed, not 200,000 twice — and with its
control characters escaped, so that no spec, file name or argument can send an escape sequence to the
terminal. JSON output keeps the exact strings (JSON escapes them itself).
"""

from __future__ import annotations

import json

import pytest
from errortools import assert_located_report

from archspec.cli import main

LONG = 200_000
HUGE = "h" * LONG
MARK = f"({LONG:,} characters)"  # how a shortened quote ends
STDERR_BOUND = 4_000  # bytes: a few located lines, whatever the size of the text they quote
HEAD = "archspec: 1\nname: echo\ninput: [3, 8, 8]\n"


def spec(layers: str, extra: str = "") -> str:
    return HEAD + extra + "layers:\n" + layers


def key(text: str, value: str, indent: str = "", first: str | None = None) -> str:
    """A mapping entry whose key is ``text``: YAML allows implicit keys of at most 1,024 characters, so long
    ones are written explicitly (``? key``). ``first`` starts the entry's first line (``  - `` in a list)."""
    return f"{indent if first is None else first}? {text}\n{indent}: {value}\n"


MANY_PARAMS = "params:\n" + "".join(f"  p{i}: {i}\n" for i in range(5_000))
MANY_IDS = "".join(f"  - relu:\n    id: e{i}\n" for i in range(5_000))
BLOCK = "blocks:\n  b:\n    params: {width: 1}\n    layers: [relu]\n"
WIDE_BLOCK = "blocks:\n  b:\n    params: {" + ", ".join(f"q{i}: 1" for i in range(5_000)) + "}\n    layers: [relu]\n"

# place → (spec text, extra arguments, text the shortened echo must show)
HUGE_TEXT = {
    "unknown op": (spec(f"  - {HUGE}\n"), [], MARK),
    "unknown op as a key": (spec(key(HUGE, "{out: 1}", "    ", "  - ")), [], MARK),
    "arguments that are not a mapping": (spec(key(HUGE, "5", "    ", "  - ")), [], MARK),
    "not an op name": (spec(f"  - '{HUGE}-'\n"), [], f"({LONG + 1:,} characters)"),
    "two ops in one item": (spec("  - relu: {}\n" + key(HUGE, "{}", "    ")), [], MARK),
    "unknown top-level key": (spec("  - relu\n") + key(HUGE, "1"), [], MARK),
    "unknown argument": (spec("  - conv:\n      out: 1\n      kernel: 1\n" + key(HUGE, "1", "      ")), [], MARK),
    "string for an integer": (spec(f"  - conv: {{out: {HUGE}, kernel: 1}}\n"), [], f"(string of {LONG:,} characters)"),
    "string for a choice": (
        spec(f"  - conv: {{out: 1, kernel: 1, padding: {HUGE}}}\n"),
        [],
        f"(string of {LONG:,} characters)",
    ),
    "param name": (spec("  - relu\n", "params:\n" + key(HUGE, "1", "  ")), [], "hhh…"),
    "block name": (spec("  - relu\n", "blocks:\n" + key(HUGE, "{layers: [relu]}", "  ")), [], "hhh…"),
    "duplicate item name": (spec(f"  - relu:\n    name: {HUGE}\n  - relu:\n    name: {HUGE}\n"), [], MARK),
    "duplicate id": (spec(f"  - relu:\n    id: {HUGE}\n  - relu:\n    id: {HUGE}\n"), [], MARK),
    "unknown id in from": (spec(f"  - relu:\n    from: {HUGE}\n"), [], MARK),
    "ids listed in the fix": (spec(MANY_IDS + "  - relu:\n    from: nowhere\n"), [], "(5,002 in all)"),
    "unknown block parameter": (spec("  - b:\n" + key(HUGE, "1", "      "), BLOCK), [], MARK),
    "block parameters listed in the fix": (spec("  - b: {zzz: 1}\n", WIDE_BLOCK), [], "(5,000 in all)"),
    "branch name": (
        spec("  - concat:\n      branches:\n        b: [relu]\n" + key(f"'{HUGE}-'", "[relu]", "        ")),
        [],
        f"({LONG + 1:,} characters)",
    ),
    "YAML tag": (spec(f"  - conv: {{out: !{HUGE} 1, kernel: 1}}\n"), [], f"({LONG + 1:,} characters)"),
    "duplicate YAML key": (spec("  - relu\n") + key(HUGE, "1") + key(HUGE, "2"), [], MARK),
    "undefined YAML alias": (spec(f"  - conv: {{out: *{HUGE}, kernel: 1}}\n"), [], MARK),
    "unknown override": (spec("  - relu\n", "params: {w: 1}\n"), ["--set", f"{HUGE}=1"], MARK),
    "overridden value traced into a message": (
        spec("  - linear: {out: $w}\n", "params: {w: 1}\n"),
        ["--set", f"w={HUGE}"],
        f"({LONG + 2:,} characters) from --set",
    ),
    "params listed in the fix": (spec("  - relu\n", MANY_PARAMS), ["--set", "nosuch=1"], "(5,000 in all)"),
    "names listed in an expression's fix": (spec("  - linear: {out: '${zz}'}\n", MANY_PARAMS), [], "(5,000 in all)"),
}


@pytest.mark.parametrize("place", sorted(HUGE_TEXT))
def test_huge_user_text_is_quoted_shortened(place, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text, args, mark = HUGE_TEXT[place]
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["check", *args, str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert_located_report(err, str(path))
    assert mark in err
    assert len(err) < STDERR_BOUND, err[:STDERR_BOUND]


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--input", HUGE, "lenet5"],
        ["check", "--set", HUGE, "lenet5"],
        ["check", "--max-nodes", HUGE, "lenet5"],
        ["check", "--format", HUGE, "lenet5"],
    ],
    ids=["--input", "--set without '='", "--max-nodes", "--format"],
)
def test_huge_arguments_are_quoted_shortened_in_usage_errors(argv, capsys):
    assert exit_status(argv) == 2
    err = capsys.readouterr().err
    assert "hhhh" in err and "…" in err
    assert len(err) < STDERR_BOUND


def exit_status(argv: list[str]) -> int:
    """What ``archspec ARGV`` exits with: main's return value, or argparse's own exit for its usage errors."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)


def test_a_missing_file_with_a_long_name_is_named_once(tmp_path, capsys):
    name = str(tmp_path) + ("/" + "d" * 200) * 15 + "/spec.yaml"  # ~3,000 characters, under PATH_MAX
    assert main(["check", name]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{name}: error: no such file or bundled spec '")
    assert err.count(name) == 1
    assert len(err) < len(name) + 1_000


ESCAPE = "\x1b]0;pwned\x07\x1bc"  # set the terminal's title, then reset the terminal
ESCAPE_SHOWN = "\\x1b]0;pwned\\x07\\x1bc"
ESCAPE_IN_YAML = "\\e]0;pwned\\a\\ec"  # YAML's double-quoted escapes: the file itself holds only printable text

CONTROL = {
    "unknown op": spec(f'  - "{ESCAPE_IN_YAML}": {{}}\n'),
    "unknown key": spec("  - relu\n") + f'"x{ESCAPE_IN_YAML}": 1\n',
    "unknown argument": spec(f'  - conv: {{out: 1, kernel: 1, "{ESCAPE_IN_YAML}": 1}}\n'),
    "branch name": spec(f'  - concat:\n      branches: {{"{ESCAPE_IN_YAML}": [relu], b: [relu]}}\n'),
    "unknown id": spec(f'  - relu:\n    from: "x{ESCAPE_IN_YAML}"\n'),
    "block parameter": spec(f'  - b: {{"{ESCAPE_IN_YAML}": 1}}\n', BLOCK),
    "line break and bidirectional override in a key": spec("  - relu\n") + '"a\\nb\\u202ec": 1\n',
}


@pytest.mark.parametrize("place", sorted(CONTROL))
def test_control_characters_in_errors_are_escaped(place, tmp_path, capsys):
    path = tmp_path / "spec.yaml"
    path.write_text(CONTROL[place], encoding="utf-8")
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert_located_report(err, str(path))  # one line per error: a line break in a key is shown as \n
    assert err.isascii() or all(c.isprintable() or c == "\n" for c in err)
    assert "\x1b" not in err and "\u202e" not in err
    assert ESCAPE_SHOWN in err or "a\\nb\\u202ec" in err


def test_file_names_are_escaped_in_reports_and_errors(tmp_path, capsys):
    valid = tmp_path / f"net{ESCAPE}.yaml"
    valid.write_text(spec("  - relu\n"), encoding="utf-8")
    assert main(["check", str(valid)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and f"net{ESCAPE_SHOWN}.yaml" in out
    broken = tmp_path / f"bad{ESCAPE}.yaml"
    broken.write_text(spec("  - reul\n"), encoding="utf-8")
    assert main(["check", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and err.startswith(f"{tmp_path}/bad{ESCAPE_SHOWN}.yaml:5:5: error: ")
    assert main(["check", "--format", "json", str(valid)]) == 0  # JSON keeps exact strings, escaping them itself
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert json.loads(out)["layers"][0]["source"] == f"{valid}:5:5"


def test_doc_is_escaped_in_markdown(tmp_path, capsys):
    path = tmp_path / "doc.yaml"
    path.write_text(spec("  - relu\n", f'doc: "first line\\n{ESCAPE_IN_YAML}second\\u202e"\n'), encoding="utf-8")
    assert main(["check", "--format", "markdown", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert f"first line\n{ESCAPE_SHOWN}second\\u202e" in out  # line breaks of a doc stay line breaks


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--set", f"{ESCAPE}=1", "lenet5"],
        ["graph", "lenet5", ESCAPE],
        ["build", "--save", f"/nonexistent{ESCAPE}/x.pt", "lenet5"],
    ],
    ids=["unknown --set key", "argparse's own error", "usage error naming a file"],
)
def test_control_characters_in_arguments_are_escaped(argv, capsys):
    assert exit_status(argv) in (1, 2)
    err = capsys.readouterr().err
    assert "\x1b" not in err and ESCAPE_SHOWN in err
