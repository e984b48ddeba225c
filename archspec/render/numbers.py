"""Number formatting shared by the human-readable renderers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from archspec.analysis.receptive_field import FieldKind

if TYPE_CHECKING:
    from archspec.analysis.report import Report


def grouped(value: int) -> str:
    """``1234567`` → ``'1,234,567'``."""
    return f"{value:,}"


def scaled(value: float, unit: str = "") -> str:
    """Short human form: ``1.81 G``, ``61.71 K``.

    >>> scaled(1_814_073_344)
    '1.81 G'
    >>> scaled(950)
    '950'
    """
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {prefix}{unit}"
    return f"{value:g}{' ' + unit if unit else ''}"


def mebibytes(value: int) -> str:
    return f"{value / 2**20:.2f} MiB"


def shape(values: list[int]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


FIELD_HEADERS = ("RF", "Jump", "Start", "Pad")  # the cells of field_cells: size, jump, start, effective padding


def field_cells(rf: object) -> tuple[str, str, str, str]:
    """(size, jump, start, effective padding) cells for a layer's receptive field."""
    if rf is None:
        return "–", "–", "–", "–"
    if rf.kind != FieldKind.EXACT:  # type: ignore[attr-defined]
        kind = rf.kind  # type: ignore[attr-defined]
        label = {FieldKind.GLOBAL: "global", FieldKind.NOT_TRACKED: "not tracked"}.get(kind, "varies")
        return label, "", "", ""
    return (
        _per_dim(rf.size),
        _per_dim(rf.jump),
        _per_dim(rf.start),  # type: ignore[attr-defined]
        _per_dim(rf.padding),
    )  # type: ignore[attr-defined]


def _per_dim(values: tuple) -> str:
    """One number when every dimension agrees, else ``a×b``; integers exactly (fields reach 2**63 - 1).

    >>> _per_dim((2**62, 2**62)), _per_dim((0.5, 8.0))
    ('4611686018427387904', '0.5×8')
    """
    texts = [str(v) if isinstance(v, int) else f"{v:g}" for v in values]
    return texts[0] if len(set(texts)) == 1 else "×".join(texts)


def min_input_text(report: Report, code: bool = False) -> str:
    """The report's smallest valid input, and the other mode's where it differs (``code``: Markdown):
    ``[3, 31, 31] (eval; training: [3, 299, 299])``."""
    quote = "`" if code else ""
    own = f"{quote}{shape(report.min_input)}{quote}"
    other = report.min_input_eval if report.train else report.min_input_train
    if other == report.min_input:
        return own
    other_text = f"{quote}{shape(other)}{quote}" if other is not None else f"none at batch {report.batch}"
    return f"{own} ({'training' if report.train else 'eval'}; {'eval' if report.train else 'training'}: {other_text})"


# A token network's field is not a number: the gradient probe that defines fields has nothing to differentiate.
TOKEN_FIELD = "none (the input is integer tokens: no gradient flows to indices, so no field is defined)"


def input_text(report: Report, code: bool = False) -> str:
    """The input shape, and for a token input what its elements are: ``[1, 64] (int64 tokens, vocab 512)``."""
    quote = "`" if code else ""
    text = f"{quote}{shape(report.input_shape)}{quote}"
    return text if report.input_vocab is None else f"{text} (int64 tokens, vocab {grouped(report.input_vocab)})"
