"""``embedding``: a lookup table from integer token indices to vectors, ``[L]`` → ``[L, D]`` (``nn.Embedding``).

Its input is a spec's token input (``input: {tokens: L, vocab: V}``): the table has one row per token value, V
by default, so the spec that declares the tokens' range also sizes the table, and ``--set`` of the vocabulary
changes both. No MACs: a lookup multiplies nothing (FlopCounterMode counts no ``aten.embedding``). No receptive
field: no gradient flows to integer indices, so the field of a token network is not defined (the report shows
none) rather than measured from the embedding's output as if its positions were the input's."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from archspec.errors import OpError
from archspec.ops.base import MAX_SIZE, Context, Example, Op, OpArgs, PositiveInt, Shape, Tokens, format_shape
from archspec.ops.registry import register


class EmbeddingArgs(OpArgs):
    dim: PositiveInt  # D, the length of each vector
    # The table's rows: default the input's vocabulary; more is allowed (a vocabulary padded to a multiple of 64,
    # as GPT-2 reimplementations do), fewer is an error (a token would index past the table).
    vocab: PositiveInt | None = None
    # A row that reads as zeros and gets no gradient (torch numbering: negative counts from the end).
    padding_idx: Annotated[int, Field(ge=-MAX_SIZE, le=MAX_SIZE)] | None = None


@register
class Embedding(Op):
    """Look up integer tokens [L] in a learned table: [L] → [L, D], V·D parameters (torch.nn.Embedding)."""

    name = "embedding"
    Args = EmbeddingArgs
    takes_tokens = True
    min_dims = max_dims = 1
    examples = [
        Example({"dim": 8}, Tokens(5, vocab=10), "5 tokens of a 10-word vocabulary: a 10×8 table"),
        Example({"dim": 3, "padding_idx": 0}, Tokens(7, vocab=4), "row 0 is zeros and gets no gradient"),
        Example({"dim": 4, "vocab": 16}, Tokens(3, vocab=11), "a table larger than the vocabulary (padded)"),
        Example({"dim": 2, "padding_idx": -1}, Tokens(1, vocab=6), "one token; the padding row counted from the end"),
    ]

    def output_shape(self, args: EmbeddingArgs, x: Shape, ctx: Context) -> Shape:
        if not isinstance(x, Tokens):
            raise OpError(
                f"'embedding' looks up integer token indices, but its input is a float tensor {format_shape(x)}",
                "give the spec a token input, input: {tokens: L, vocab: V}, and put the embedding first (a float "
                "tensor is projected with 'linear', not looked up)",
            )
        rows = self.rows(args, x)
        if args.padding_idx is not None and not -rows <= args.padding_idx < rows:
            raise OpError(
                f"padding_idx {args.padding_idx} is not a row of the {rows}-row table",
                f"use a padding_idx from 0 to {rows - 1} (or -{rows} to -1, counted from the end)",
                "padding_idx",
            )
        return (x[0], args.dim)

    @staticmethod
    def rows(args: EmbeddingArgs, x: Shape) -> int:
        vocab = x.vocab if isinstance(x, Tokens) else 0
        if args.vocab is None:
            return vocab
        if args.vocab < vocab:
            raise OpError(
                f"the table has {args.vocab} rows but the input's tokens go up to {vocab - 1} (vocab {vocab}): "
                "those past the table would index out of range",
                f"use vocab >= {vocab}, or leave it out (the input's vocabulary)",
                "vocab",
            )
        return args.vocab

    def parameters(self, args: EmbeddingArgs, x: Shape, y: Shape) -> int:
        return self.rows(args, x) * args.dim

    def build(self, nn: Any, args: EmbeddingArgs, x: Shape) -> Any:
        return nn.Embedding(self.rows(args, x), args.dim, padding_idx=args.padding_idx)
