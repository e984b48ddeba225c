"""Receptive field of every module's output with respect to the network input (REFERENCE.md §5).

Per spatial dimension we carry size R, jump J and effective (left) padding P; ``start = R/2 - P`` is the
0.5-based centre of output index 0, and output index i depends on inputs ``[iJ - P, iJ - P + R - 1]``.

R, J and P are exact integers. They may not pass :data:`MAX_FIELD`: no input has more than 2**31 - 1
positions per dimension, so a field 2**32 times larger than any input is a runaway (strides of 2**31 - 1
chained), and past it the numbers would grow without bound (a million such layers make numbers of millions
of digits). Such a spec is refused at the layer where its field outgrows the bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from archspec.analysis.warnings import ReportWarning, warning_at
from archspec.errors import Diagnostic, SpecError
from archspec.ir.graph import Network, Node
from archspec.ops.base import Global, PositionDependent, WindowStep
from archspec.ops.containers import FieldMerge, keep_main


class FieldKind(str, Enum):
    """What a receptive field is; the JSON report writes the value. Renderers import these, never retype them
    (a ``str`` enum: members equal their values, so readers of ``"exact"`` keep working)."""

    EXACT = "exact"  # size, jump and padding hold for every output position
    GLOBAL = "global"  # every output reads the whole input
    POSITION_DEPENDENT = "position_dependent"  # the field differs between output positions


EXACT, GLOBAL, POSITION_DEPENDENT = FieldKind.EXACT, FieldKind.GLOBAL, FieldKind.POSITION_DEPENDENT
MAX_FIELD = 2**63 - 1  # also what an int64 (JSON readers, numpy) holds exactly


@dataclass(frozen=True)
class Field:
    """The field of one feature map. ``size``/``jump``/``padding`` are set only when ``kind`` is exact."""

    kind: FieldKind
    size: tuple[int, ...] = ()
    jump: tuple[int, ...] = ()
    padding: tuple[int, ...] = ()
    reason: str = ""

    @property
    def start(self) -> tuple[float, ...]:
        """``R/2 - P``, from the exact integer ``R - 2P`` (one correctly rounded division: no overflow, and
        exact for every field a real network has)."""
        return tuple((r - 2 * p) / 2 for r, p in zip(self.size, self.padding, strict=True))

    @property
    def dims(self) -> int:
        return len(self.size)

    def span(self, index: int, dim: int = 0) -> tuple[int, int]:
        """Input positions ``[first, last]`` (unclipped) that output ``index`` depends on."""
        first = index * self.jump[dim] - self.padding[dim]
        return first, first + self.size[dim] - 1

    def to_dict(self) -> dict[str, object]:
        if self.kind != EXACT:
            return {
                "kind": self.kind.value,
                "size": None,
                "jump": None,
                "start": None,
                "padding": None,
                "reason": self.reason,
            }
        return {
            "kind": EXACT.value,
            "size": list(self.size),
            "jump": list(self.jump),
            "start": list(self.start),
            "padding": list(self.padding),
        }


def input_field(spatial_dims: int) -> Field:
    return Field(EXACT, (1,) * spatial_dims, (1,) * spatial_dims, (0,) * spatial_dims)


def apply_step(field: Field, step: object) -> Field:
    """One op's effect: ``R += (k-1)J; P += pJ; J *= s`` per dimension."""
    if field.kind != EXACT or step is None:
        return field
    if isinstance(step, PositionDependent):
        return Field(POSITION_DEPENDENT, reason=step.reason)
    if isinstance(step, Global):
        return Field(GLOBAL, reason=step.reason)
    assert isinstance(step, WindowStep)
    size = tuple(r + (k - 1) * j for r, k, j in zip(field.size, step.kernel, field.jump, strict=True))
    padding = tuple(p + q * j for p, q, j in zip(field.padding, step.padding, field.jump, strict=True))
    jump = tuple(j * s for j, s in zip(field.jump, step.stride, strict=True))
    return _bounded(Field(EXACT, size, jump, padding))


class FieldTooLarge(Exception):
    """A receptive field outgrew :data:`MAX_FIELD`; the pass turns it into a located error."""

    def __init__(self, field: Field):
        super().__init__("receptive field too large")
        self.field = field


def _bounded(field: Field) -> Field:
    if max(*field.size, *field.jump, *(abs(p) for p in field.padding)) > MAX_FIELD:
        raise FieldTooLarge(field)
    return field


def merge_fields(fields: list[Field | None]) -> Field | None:
    """Union of the branches' fields (used by parallel containers); None where no branch is spatial."""
    present = [f for f in fields if f is not None]
    if len(present) < len(fields):
        return None if not present else Field(GLOBAL, reason="a merged branch has no spatial dimensions")
    if len(fields) == 1:
        return fields[0]
    for kind in (POSITION_DEPENDENT, GLOBAL):
        odd = next((f for f in fields if f.kind == kind), None)
        if odd is not None:
            return odd
    jumps = {f.jump for f in fields}
    if len(jumps) > 1:
        return Field(POSITION_DEPENDENT, reason="merged branches have different jumps")
    first = tuple(min(-f.padding[d] for f in fields) for d in range(fields[0].dims))
    last = tuple(max(f.size[d] - 1 - f.padding[d] for f in fields) for d in range(fields[0].dims))
    return _bounded(
        Field(
            EXACT, tuple(b - a + 1 for a, b in zip(first, last, strict=True)), fields[0].jump, tuple(-a for a in first)
        )
    )


def receptive_fields(network: Network, warnings: list[ReportWarning] | None = None) -> dict[str, Field | None]:
    """The field at every module path; None where the output has no spatial dimensions.

    Merges whose branches are not centred alike append a warning to ``warnings``.

    Raises:
        SpecError: located at the layer whose field outgrows :data:`MAX_FIELD`.
    """
    fields: dict[str, Field | None] = {}
    in_spec_file: list[Node] = []  # the innermost enclosing node located in the user's file (not a library's)

    def visit(node: Node, field: Any) -> Field | None:
        anchored = node.location.file == network.file
        if anchored:
            in_spec_file.append(node)
        try:
            if node.is_leaf:
                result = (
                    apply_step(field, node.op.receptive_field(node.args, node.input, node.output))
                    if field is not None
                    else None
                )
            else:

                def merge(branch_fields: list[Field | None]) -> Field | None:
                    if node.container.field_merge(node.args, len(node.output)) is FieldMerge.SHIFTED:
                        return Field(POSITION_DEPENDENT, reason=f"'{node.kind}' joins branches along a spatial dim")
                    merged = merge_fields(branch_fields)
                    if warnings is not None and _misaligned(branch_fields):
                        centres = sorted({f.start for f in branch_fields if f and f.kind == EXACT})
                        warnings.append(
                            warning_at(
                                node,
                                in_spec_file[-1] if in_spec_file else network.root,
                                f"the branches merged by module '{node.path}' are not aligned: their fields are "
                                f"centred at {centres}, so output i of each branch sees a different place",
                                "if that is not meant, pad the branches alike (odd kernels with padding kernel // 2 "
                                "keep every branch centred)",
                            )
                        )
                    return merged

                result = node.container.propagate(field, node.children, visit, merge, keep_main)
        except FieldTooLarge as exc:
            raise _too_large(exc.field, node, in_spec_file[-1] if in_spec_file else network.root) from None
        finally:
            if anchored:
                in_spec_file.pop()
        result = _fit(result, node.output)
        fields[node.path] = result
        return result

    visit(network.root, input_field(len(network.input) - 1) if len(network.input) > 1 else None)
    return fields


def _too_large(field: Field, node: Node, anchor: Node) -> SpecError:
    """The error for ``node``'s field, located at ``anchor`` (``node`` itself unless inside a bundled block)."""
    numbers = ", ".join(
        f"{name} {max(values):.3e}"
        for name, values in (("size", field.size), ("jump", field.jump), ("padding", [abs(p) for p in field.padding]))
    )
    return SpecError(
        [
            Diagnostic(
                f"the receptive field outgrows 2**63 - 1 input positions at module '{node.path}': {numbers}; no input "
                "is larger than 2**31 - 1 positions, so strides and kernels this large only run away",
                anchor.spec_path,
                anchor.location,
                "use smaller strides and kernels (the jump is the product of the strides before this layer)",
            )
        ]
    )


def _misaligned(branch_fields: list[Field | None]) -> bool:
    starts = {f.start for f in branch_fields if f is not None and f.kind == EXACT}
    return len(starts) > 1


def _fit(field: Field | None, output: tuple[int, ...]) -> Field | None:
    """Shapes without spatial dims have no field; a change in the number of spatial dims loses exactness."""
    dims = len(output) - 1
    if dims == 0 or field is None:
        return None
    if field.kind == EXACT and field.dims != dims:
        return Field(POSITION_DEPENDENT, reason="spatial dimensions were merged or split")
    return field


def network_field(network: Network, fields: dict[str, Field | None]) -> Field | None:
    """The field of the final feature map: the last main-path module whose output has a spatial dim > 1.

    Heads are off the main path; the branches inside a merge are not the main path either (the merge is).
    The walk goes backwards (children last to first, then their parent), so it stops at the first match:
    near the end for every real network, however many modules come before."""
    stack: list[tuple[Node, bool]] = [(child, False) for child in network.root.children]
    while stack:
        node, children_seen = stack.pop()
        if node.in_head:
            continue
        if children_seen or node.is_leaf or node.container.merges:
            if len(node.output) > 1 and max(node.output[1:]) > 1:
                return fields.get(node.path)
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in node.children)
    return None
