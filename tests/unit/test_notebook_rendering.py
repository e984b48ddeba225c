"""A Report renders itself in notebooks (issue 13 §2): ``_repr_markdown_`` is ``archspec check --format markdown``'s
document, ``_repr_html_`` holds the same rows and totals as an HTML table, and neither lets user text — a doc, a
file name in a warning, a name — open a tag: the Markdown is rendered with a CommonMark renderer that passes raw
HTML through (as Jupyter's does) before it is inspected.

Torch-free."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

import archspec
from archspec.cli import main

# The tags the renderers write; markdown-it adds paragraphs, headings and table sections of its own.
OWN_TAGS = {"div", "h1", "h3", "p", "br", "ul", "li", "strong", "code", "table", "thead", "tbody", "tr", "th", "td"}
HOSTILE = "<script>alert(1)</script> & <img src=x onerror=alert(2)> &lt; &amp; <!-- --> <a href='javascript:x'>"
FORGOTTEN_FLATTEN = """\
archspec: 1
name: forgot_flatten
input: [3, 32, 32]
layers:
  - conv: {out: 8, kernel: 3, stride: 2}
  - relu
  - linear: {out: 10}
"""


class Page(HTMLParser):
    """The tags of an HTML fragment, its text, and its table rows as lists of cell texts."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).replace("\xa0", " ").strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def rendered_markdown(markdown: str) -> Page:
    """The Markdown as a notebook shows it: CommonMark with raw HTML let through, GFM tables."""
    return Page(MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown))


def cli(capsys, *argv: str) -> str:
    assert main(list(argv)) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


@pytest.mark.parametrize("name", ["lenet5", "googlenet", "gpt_tiny", "swin_t"])
def test_markdown_is_the_cli_s_markdown(name: str, capsys):
    assert archspec.analyze(name)._repr_markdown_() + "\n" == cli(capsys, "check", name, "--format", "markdown")
    report = archspec.analyze(name, batch=2, train=True)
    report.display_depth = 1
    expected = cli(capsys, "check", name, "--format", "markdown", "--batch", "2", "--train", "--depth", "1")
    assert report._repr_markdown_() + "\n" == expected


@pytest.mark.parametrize(("name", "depth"), [("resnet18", None), ("resnet18", 2), ("googlenet", 1), ("lenet5", 0)])
def test_html_table_holds_the_json_report_s_rows(name: str, depth: int | None, capsys):
    """Rows, shapes, parameters and MACs as `archspec check --format json` gives them (a separate run)."""
    document = json.loads(cli(capsys, "check", name, "--format", "json"))
    report = archspec.analyze(name)
    report.display_depth = depth
    page = Page(report._repr_html_())
    assert set(page.tags) <= OWN_TAGS
    expected = [row for row in document["layers"] if depth is None or row["depth"] <= depth]
    header, *rows = page.rows if depth != 0 else [[]]
    assert header[:5] == (["Layer", "Op", "Output shape", "Params", "MACs"] if depth != 0 else [])
    assert len(rows) == len(expected)
    for cells, row in zip(rows, expected, strict=True):
        assert cells[0] == row["path"]
        assert cells[1] == row["op"]
        assert cells[2] == str(row["output_shape"])
        assert cells[3] == f"{row['params']:,}"
        assert cells[4] == f"{row['macs']:,}"
    text = page.all_text
    assert f"{document['totals']['params']:,}" in text and f"{document['totals']['macs']:,}" in text
    assert str(document["input_shape"]) in text


def test_a_hostile_name_and_doc_stay_text(capsys):
    report = archspec.analyze({"archspec": 1, "name": "x", "doc": HOSTILE, "input": [3, 8, 8], "layers": ["relu"]})
    # A name cannot hold these characters in a spec; a Report built or changed in Python can.
    report = dataclasses.replace(report, name=HOSTILE)
    for page in (Page(report._repr_html_()), rendered_markdown(report._repr_markdown_())):
        assert set(page.tags) <= OWN_TAGS, page.tags
        assert page.all_text.count(HOSTILE) == 2  # the heading and the doc, character for character
        assert "script" not in page.tags and "img" not in page.tags


@pytest.mark.parametrize("file", ["<img src=x onerror=alert(1)>.yaml", "a`<b>x`b.yaml", "``<i>``.yaml"])
def test_a_hostile_file_name_in_a_warning_stays_text(tmp_path: Path, file: str, capsys):
    """Warnings name the spec file; the file name may hold backticks that would end a plain code span."""
    path = tmp_path / file
    path.write_text(textwrap.dedent(FORGOTTEN_FLATTEN), encoding="utf-8")
    report = archspec.analyze(str(path))
    [warning] = report.warnings
    for page in (Page(report._repr_html_()), rendered_markdown(report._repr_markdown_())):
        assert set(page.tags) <= OWN_TAGS, page.tags
        assert str(warning) in page.all_text
    # The Markdown document is still the CLI's.
    assert report._repr_markdown_() + "\n" == cli(capsys, "check", str(path), "--format", "markdown")


def test_markdown_keeps_ordinary_text_readable():
    """Only what would start HTML is written as an entity: 'Simonyan & Zisserman' stays as it is."""
    markdown = archspec.analyze("vgg16")._repr_markdown_()
    assert "Simonyan & Zisserman" in markdown
    assert "Simonyan & Zisserman" in rendered_markdown(markdown).all_text
