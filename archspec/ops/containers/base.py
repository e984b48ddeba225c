"""What every container declares, in one place — the counterpart of :mod:`archspec.ops.base` for ops that
own other items: its syntax (and the JSON-Schema fragment for it), argument model, shape rule, how a pass's
state flows through its children, how receptive fields merge, the torch module it compiles to (by name: the
class lives in :mod:`archspec.backend.modules`, since the core never imports torch), and worked examples.

Passes, the backend and the code generator read these declarations; none asks which container it has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any, ClassVar

from archspec.ops.base import NoArgs, OpArgs, Shape, format_shape

Visit = Callable[[Any, Any], Any]
Merge = Callable[[list[Any]], Any]
Side = Callable[[Any, Any], Any]
JsonSchema = dict[str, Any]


class Inputs(tuple):  # type: ignore[type-arg]
    """Several inputs reaching one item through ``from: [a, b]``: branch k (or the merge) takes input k.

    ``names`` are the ids they came from (``prev``, ``e2``), so that merge errors can name them."""

    names: tuple[str, ...]

    def __new__(cls, shapes: Any, names: Sequence[str] = ()) -> Inputs:
        inputs = super().__new__(cls, shapes)
        inputs.names = tuple(names)
        return inputs


PREVIOUS = "prev"  # in ``from``: the previous item's output
LIST_INPUT = "input"  # in ``from``: the input of the enclosing layer list
RESERVED_IDS = (PREVIOUS, LIST_INPUT)


def keep_main(main: Any, side: Any) -> Any:
    """Default for side outputs (heads): the main path continues unchanged."""
    return main


class Syntax:
    """How a container is written in a layer list.

    ``children_key`` is the key beside the container's own arguments that holds its children (``layers``,
    ``branches``); None when the container's value *is* its list of items (``sequential: [...]``, and then it
    takes no arguments). ``branched`` children are a list of item lists (named 0, 1, ...) or a mapping of
    them (named by key), where an empty list is the identity; otherwise they are one item list. ``required``:
    the children key must be given (a head of nothing is a mistake).

    A plain class rather than a dataclass: this module is imported by every ``archspec check``, and
    generating dataclass methods costs start-up time."""

    __slots__ = ("branched", "children_key", "required")

    def __init__(self, children_key: str | None, branched: bool = False, required: bool = False):
        self.children_key, self.branched, self.required = children_key, branched, required

    @property
    def example(self) -> str:
        """The children as they are written, for fixes: ``branches: [[...], [...]]``."""
        return f"{self.children_key}: [[...], [...]]" if self.branched else f"{self.children_key}: [...]"

    def written(self, args: dict[str, Any], children: Any) -> Any:
        """The container's value as a spec writes it, from its arguments and children."""
        return children if self.children_key is None else {**args, self.children_key: children}

    def schema(self, args: type[OpArgs], item_list: JsonSchema) -> JsonSchema:
        """The JSON-Schema fragment of the container's value, given its argument model and the schema of a
        list of items."""
        if self.children_key is None:
            return item_list
        value = args.model_json_schema()
        value.pop("title", None)
        value["additionalProperties"] = False
        value.setdefault("properties", {})
        if self.branched:
            branch = {"anyOf": [item_list, {"type": "null"}]}
            value["properties"][self.children_key] = {
                "anyOf": [{"type": "array", "items": branch}, {"type": "object", "additionalProperties": branch}]
            }
        else:
            value["properties"][self.children_key] = item_list
        if self.required:
            value["required"] = [self.children_key]
        return value


ITEM_LIST = Syntax(None)  # ``sequential: [items]``
BRANCHES = Syntax("branches", branched=True)  # ``concat: {branches: [[items], [items]], dim: 1}``
LAYERS = Syntax("layers", required=True)  # ``head: {layers: [items], train_only: true}``


class FieldMerge(Enum):
    """How the receptive fields of a container's branches combine into the field of its output."""

    UNION = "union"  # output i comes from position i of every branch: the union of their fields
    SHIFTED = "shifted"  # branches joined along a spatial dim: later ones land at shifted positions


class ContainerExample:
    """A worked case, checked statically and against the real torch module by the contract tests: the
    container's own arguments, its children as a spec writes them (an item list, or for branched syntax a
    list or mapping of item lists) and the input shape; ``train`` checks it in training mode too (a
    train-only head does nothing in eval mode)."""

    __slots__ = ("args", "children", "input", "note", "train")

    def __init__(self, args: dict[str, Any], children: Any, input: Shape, note: str = "", train: bool = False):
        self.args, self.children, self.input, self.note, self.train = args, children, input, note, train

    def __repr__(self) -> str:
        return f"ContainerExample({self.args!r}, {self.children!r}, {self.input!r})"


class Container:
    """A container. Subclasses set ``name``, ``syntax``, ``module``, ``examples`` (and ``Args``) and
    override the rules they need; ``@register_container`` makes them available to specs."""

    name: ClassVar[str]
    syntax: ClassVar[Syntax]
    Args: ClassVar[type[OpArgs]] = NoArgs
    # The name of its torch module in archspec.backend.modules, called with its named children and
    # module_arguments(args); the code generator writes the same call.
    module: ClassVar[str]
    examples: ClassVar[list[ContainerExample]] = []
    order: ClassVar[int] = 100  # its place in `archspec list containers`
    merges: ClassVar[bool] = False  # accepts several inputs (``from: [a, b]``)
    # Its children compute a side output (heads): they are off the main path, and the network returns what
    # they compute beside the main output.
    produces_side_output: ClassVar[bool] = False
    chains_children: ClassVar[bool] = False  # each child reads the previous child's output
    # Its module can carry a data flow (archspec.backend.flow): children that read saved outputs (``id`` /
    # ``from``) or inlined merges. Without it, such children cannot be compiled inside it.
    routes_children: ClassVar[bool] = False
    # Inlined (``inline: true``), a merge adds no module: the enclosing module merges its branches' outputs
    # itself, with this step of archspec.backend.flow; None for containers that do not merge.
    flow_step: ClassVar[str | None] = None
    # Its branches read equal parts of its input along its ``dim`` (branch k part k: ``channel_split``) rather
    # than the whole input; an inlined one splits with the part steps of archspec.backend.flow.
    splits_input: ClassVar[bool] = False

    def runs_only_in_training(self, args: Any) -> bool:
        """Whether its children run only in training mode (in eval mode its module passes its input on)."""
        return False

    def module_arguments(self, args: Any) -> dict[str, Any]:
        """Keyword arguments of its torch module beside the named children (``dim`` of ``Concat``)."""
        return {}

    def fresh_output(self, children_fresh: Sequence[bool], merged: int) -> bool:
        """Whether its module returns a new tensor that nothing else reads (see ``Op.fresh_output``), given
        which of its children do and how many tensors it merges."""
        return False

    def output_shape(
        self, args: Any, input: Shape | Inputs, child_outputs: Sequence[Shape], labels: Sequence[str] | None = None
    ) -> Shape:
        """``labels`` name the child outputs in errors (``branch body``, ``'e2'``); default ``branch k``."""
        raise NotImplementedError

    def side_output(self, args: Any, input: Shape | Inputs, child_outputs: Sequence[Shape]) -> Shape | None:
        """The shape of a named side output this container produces (heads), else None."""
        return None

    def field_merge(self, args: Any, rank: int) -> FieldMerge:
        """How its branches' receptive fields merge, for an output of ``rank`` feature dimensions."""
        return FieldMerge.UNION

    def joined_dim(self, args: Any, rank: int) -> int | None:
        """The feature dim (0-based, 0 the channels) along which it joins its branches' outputs (``concat``), or
        None (elementwise merges, and containers that use ``field_merge`` alone). Where a spatial dim of the
        network input lies on it (dim 2 of ``[C, H, W]``; dim 0 of ``[H, W, C]``), later branches land at shifted
        positions: the receptive field is position dependent; elsewhere it is the union of the branches'."""
        return None

    def propagate(self, state: Any, children: Sequence[Any], visit: Visit, merge: Merge, side: Side) -> Any:
        """Carry a pass's per-node state (shape, receptive field, ...) through the children."""
        raise NotImplementedError

    @classmethod
    def describe(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0]


def default_labels(count: int) -> list[str]:
    return [f"branch {index}" for index in range(count)]


def listed(shapes: Sequence[Shape], labels: Sequence[str]) -> str:
    """``16×32×32 (branch 0) and 16×30×30 (branch 1)``."""
    return " and ".join(f"{format_shape(s)} ({label})" for s, label in zip(shapes, labels, strict=True))
