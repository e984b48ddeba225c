"""Spec format version 1 (DESIGN.md §3) as pydantic v2 models, plus the parsed layer items.

The top level and block definitions are pydantic models (and so have a JSON Schema). Layer items are
parsed by :mod:`archspec.spec.items`, because their one op key is open-ended (any op or block name).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from archspec.errors import SpecPath
from archspec.loading.source import SourceMap
from archspec.ops.base import Tokens

SUPPORTED_VERSIONS = (1,)
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=100)]


def is_module_name(name: str) -> bool:
    """A module name: ASCII digits (a position), or a name by NAME_PATTERN, all of it (no trailing line break).

    >>> is_module_name("conv1"), is_module_name("0"), is_module_name("conv1\\n"), is_module_name("1a")
    (True, True, False, False)
    """
    return re.fullmatch(r"[0-9]+", name) is not None or re.fullmatch(NAME_PATTERN, name) is not None


MAX_DIMENSION = 2**31 - 1  # torch indexes sizes with int64 but many kernels with int32; no real input is larger
Dimension = Annotated[int, Field(ge=1, le=MAX_DIMENSION)]
REQUIRED = "required"  # a block parameter whose value the caller must give
INLINE_GROUP = "group"  # `inline: group`: a repeat's copies register on the enclosing module, each a module


def is_class_name(text: str) -> bool:
    """An ASCII Python identifier that is not a keyword: what ``module:`` may name a block's class."""
    import keyword

    return (
        re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text) is not None and not keyword.iskeyword(text) and len(text) <= 100
    )


Choice = str | int | float | bool  # a value a block parameter's `choices` may list


def is_choice(value: Any, choices: list[Any]) -> bool:
    """Whether ``value`` is one of ``choices``, kinds kept apart (``true`` is not ``1``, ``'1'`` not ``1``).

    >>> is_choice("relu", ["relu", "silu"]), is_choice(True, [1, 2]), is_choice(2, [1.0, 2.0])
    (True, False, True)
    """
    return any(value == c and _kind(value) == _kind(c) for c in choices)


def _kind(value: Any) -> str:
    return "bool" if isinstance(value, bool) else "str" if isinstance(value, str) else "other"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class BlockModel(_Strict):
    """A user-defined block: a parametrised list of layers usable as an op by its name."""

    doc: str | None = None
    params: dict[Name, Any] = Field(
        default_factory=dict, description="argument defaults; the value 'required' makes it mandatory"
    )
    layers: list[Any] = Field(min_length=1, description="the block's layer items")
    override: bool = Field(
        False,
        description="true: the block takes the name of an op or a built-in block and "
        "replaces it wherever the spec uses it, inside built-in blocks too",
    )
    module: str | None = Field(
        None,
        description="the class name of the block's compiled module (a Python "
        "identifier, e.g. Bottleneck); default: the block's name in CamelCase",
    )
    choices: dict[Name, Annotated[list[Choice], Field(min_length=1)]] = Field(
        default_factory=dict,
        description="the values a parameter may take (act: [relu, silu]); any other value is an error at the call",
    )


# $name or ${...}, evaluated when expanding. Any other text is refused there, with the error an evaluated value
# gets (a pattern here would be worded as a bad name); the schema still tells editors that it needs a '$'.
ExpressionText = Annotated[str, Field(json_schema_extra={"pattern": r"\$"})]


class TokenInputModel(_Strict):
    """A sequence of integer token indices (int64, each in [0, vocab)): the feature shape [tokens]."""

    tokens: Dimension | ExpressionText = Field(description="the sequence length L (--input L overrides it)")
    vocab: Dimension | ExpressionText = Field(description="how many token values there are: indices lie in [0, vocab)")


class SpecModel(_Strict):
    """A whole spec file."""

    archspec: Literal[1] = Field(description="spec format version")
    name: Name
    doc: str | None = None
    input: (
        Annotated[
            list[Dimension],
            Field(
                min_length=1,
                max_length=4,
                description="[C, *spatial] without batch; 1-3 spatial dims pick 1-D/2-D/3-D ops",
            ),
        ]
        | TokenInputModel
    ) = Field(description="[C, *spatial] float values, or {tokens: L, vocab: V} integer token indices")
    params: dict[Name, Any] = Field(default_factory=dict, description="named values usable in expressions")
    blocks: dict[Name, BlockModel] = Field(default_factory=dict)
    scales: dict[Name, dict[Name, Any]] = Field(
        default_factory=dict, description="named sets of param values, chosen with --scale NAME (--set wins)"
    )
    layers: list[Any] = Field(min_length=1)

    def spec_input(self) -> tuple[int, ...] | TokenInput:
        """The input as a :class:`Spec` holds it: a shape, or a token input whose sizes expansion evaluates."""
        if isinstance(self.input, TokenInputModel):
            return TokenInput(self.input.tokens, self.input.vocab)
        return tuple(self.input)


@dataclass
class Item:
    """One entry of a layer list: an op (or block, or container) with its arguments and modifiers."""

    op: str
    args: Any
    path: SpecPath  # of the item itself, e.g. ("layers", 3)
    name: Any = None
    repeat: Any = None  # None: not repeated (no group module)
    first: dict[str, Any] | None = None
    id: str | None = None
    inputs: list[str] | None = None  # the `from` modifier
    condition: Any = None  # the `if` modifier
    # The `inline` modifier: True adds no module level for the item (its children register on the enclosing
    # module); INLINE_GROUP inlines only a repeat's group (each copy stays a module). False/None: a level.
    inline: bool | str | None = None
    children: list[Item] | None = None  # parsed items of a `list` or `layers` container
    branches: list[tuple[str, list[Item]]] | None = None  # named branches of a `branches` container

    @property
    def op_path(self) -> SpecPath:
        return (*self.path, self.op)


@dataclass
class Block:
    """A block definition (a spec's own or a built-in one): its parameters and parsed layer items."""

    name: str
    params: dict[str, Any]
    layers: list[Item]
    path: SpecPath
    doc: str | None = None
    override: bool = False  # replaces the op or built-in block of its name, inside built-in blocks too
    module: str | None = None  # the class name of its compiled module (None: the name in CamelCase)
    choices: dict[str, list[Any]] = field(default_factory=dict)  # per parameter, the values it may take

    @property
    def module_class(self) -> str:
        """The class name of the block's compiled module: ``module:``, or the block's name in CamelCase
        (``bottleneck`` → ``Bottleneck``, ``conv_bn_relu`` → ``ConvBnRelu``)."""
        return self.module or "".join(part[:1].upper() + part[1:] for part in self.name.split("_")) or "Block"


@dataclass(frozen=True)
class TokenInput:
    """A spec's ``input: {tokens: L, vocab: V}``, as written: each an int or an expression of the params, which
    expansion evaluates (:func:`network_input`). It has one dimension, L, for everything that counts the
    input's dimensions (``--input L``, ``input_shape=[L]``)."""

    tokens: Any
    vocab: Any

    def __len__(self) -> int:
        return 1

    def __iter__(self) -> Iterator[Any]:
        return iter((self.tokens,))


def network_input(
    declared: tuple[int, ...] | TokenInput, given: tuple[int, ...] | None, size: Callable[[Any, str], int]
) -> tuple[int, ...]:
    """The network's input shape: ``given`` (an ``--input`` / ``input_shape``) or the spec's own; for a token
    input a :class:`~archspec.ops.base.Tokens` of ``given``'s length, whose sizes ``size(value, key)``
    evaluates."""
    if not isinstance(declared, TokenInput):
        return tuple(declared if given is None else given)
    vocab = size(declared.vocab, "vocab")
    return Tokens(given[0] if given is not None else size(declared.tokens, "tokens"), vocab)


@dataclass
class Spec:
    """A validated spec: what expansion consumes."""

    name: str
    input: tuple[int, ...] | TokenInput
    params: dict[str, Any]
    blocks: dict[str, Block]
    layers: list[Item]
    source: SourceMap
    doc: str | None = None
    text: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)
    override_origin: str = "overrides"  # where the overrides came from, for messages ("--set" in the CLI)
    scale: str | None = None  # the scale in effect (--scale), whose values are in params

    @property
    def file(self) -> str:
        return self.source.file


def walk_items(items: list[Item]) -> list[Item]:
    """Every item of ``items``, depth first: each item, then its children and its branches' items."""
    found: list[Item] = []
    for item in items:
        found.append(item)
        found.extend(walk_items(item.children or []))
        for _, branch in item.branches or []:
            found.extend(walk_items(branch))
    return found
