"""Check a compiled module against the static report with one real forward pass (``--verify``)."""

from __future__ import annotations

from math import prod
from typing import Any

from archspec.analysis.report import Report
from archspec.backend.memory import GIB, Culprit, culprit_at, is_allocation_failure, out_of_memory, require_memory
from archspec.ops.base import DTYPE_BYTES, INDEX_BYTES


def example_input(input_shape: list[int], vocab: int | None = None, generator: Any = None) -> Any:
    """A random input of ``input_shape`` (batch first): ``torch.randn`` values, or for a token input (``vocab``
    given) int64 indices drawn by ``torch.randint(0, vocab, ...)``, what ``nn.Embedding`` looks up."""
    import torch  # here, as in measure_shapes

    if vocab is not None:
        return torch.randint(0, vocab, tuple(input_shape), generator=generator)
    return torch.randn(*input_shape, generator=generator)


def measure_shapes(model: Any, input_shape: list[int], vocab: int | None = None) -> dict[str, list[int]]:
    """Output shape of every submodule, from forward hooks, for a random input of ``input_shape``."""
    # torch is imported in the functions that run the module, not at the top: `build` imports this module before
    # it compiles, and refuses a module that cannot fit before torch loads (~650 MB, 2 s).
    import torch

    shapes: dict[str, list[int]] = {}
    handles = []
    for path, module in model.named_modules():
        if path:
            handles.append(
                module.register_forward_hook(lambda _m, _i, out, path=path: shapes.__setitem__(path, list(out.shape)))
            )
    try:
        with torch.no_grad():
            model(example_input(input_shape, vocab))
    finally:
        for handle in handles:
            handle.remove()
    return shapes


def measure_macs(model: Any, input_shape: list[int], vocab: int | None = None) -> int:
    """FlopCounterMode's total for one forward pass, halved: archspec's MACs convention. Measured with autograd
    on, as the MACs convention says: under ``no_grad`` torch's fused inference paths (nn.MultiheadAttention's
    native kernel) hide their matrix products from the counter."""
    import torch  # here, as in measure_shapes

    counter = flop_counter()
    with torch.enable_grad(), counter:
        model(example_input(input_shape, vocab))
    return counter.get_total_flops() // 2


def flop_counter() -> Any:
    """A ``FlopCounterMode`` that also counts the fused CPU attention kernel.

    On CPU, ``scaled_dot_product_attention`` dispatches to ``aten._scaled_dot_product_flash_attention_for_cpu``,
    for which torch's counter has no formula (it has the CUDA kernels' only), so Q·Kᵀ and A·V would read 0.
    It gets the formula torch gives the other sdpa kernels (``sdpa_flop_count``): for a query ``[B, H, L, E]``,
    keys ``[B, H, S, E]`` and values ``[B, H, S, Ev]``, 2·B·H·L·S·E for Q·Kᵀ plus 2·B·H·L·S·Ev for A·V — the
    two bmm that the unfused math (``need_weights=True``) runs and the counter counts."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    def sdpa_cpu(query: Any, key: Any, value: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
        batch, heads, length, features = query
        return 2 * batch * heads * length * key[-2] * (features + value[-1])

    kernel = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)  # torch >= 2.3
    return FlopCounterMode(display=False, custom_mapping={kernel: sdpa_cpu} if kernel is not None else None)


def verify(model: Any, report: Report) -> list[str]:
    """Every disagreement between the report and the module's real submodules, shapes and counts (empty: all
    agree). A disagreement is a bug in archspec: the report and the module come from the same spec.

    Raises:
        SpecError: before the forward pass, when the activations it may hold do not fit in the memory left
            (located at the layer with the largest output); also if torch's allocator fails anyway.
    """
    needed, culprit = forward_bytes(report)
    what = "the forward pass's activations (every leaf's output, as the report counts them)"
    require_memory(needed, what, culprit)
    try:
        return _compare(model, report)
    except (RuntimeError, MemoryError) as error:
        if is_allocation_failure(error):
            raise out_of_memory(needed, what, culprit, None) from None
        raise


def forward_bytes(report: Report) -> tuple[int, Any]:
    """An upper bound on what one forward pass allocates — the input and every leaf's output — and the leaf
    with the largest output, anchored (like the report's errors) in the user's own file."""
    leaves = [row for row in report.layers if row.leaf and (report.train or not row.train_only)]
    largest = max(leaves, key=lambda row: row.activation_bytes, default=None)
    # A token input's elements are int64 indices, 8 bytes each; every other input is float32.
    element = DTYPE_BYTES if report.input_vocab is None else INDEX_BYTES
    needed = report.totals.activation_bytes + prod(report.input_shape) * element
    if largest is None:
        return needed, Culprit("the input", (), None)
    description = f"module '{largest.path}' ({largest.op}, {largest.activation_bytes / GIB:.2f} GiB)"
    return needed, culprit_at(largest.path, description, {row.path: row for row in report.layers}, report.file)


def _compare(model: Any, report: Report) -> list[str]:
    modules = op_modules(model, {row.path for row in report.layers if row.leaf})
    present = set(modules)
    problems = _compare_paths(modules, [row.path for row in report.layers if not row.parameter])
    parameters = {path: tensor.numel() for path, tensor in model.named_parameters()}
    for row in report.layers:
        if row.parameter and parameters.get(row.path) != row.params:
            found = "no such parameter" if row.path not in parameters else f"{parameters[row.path]} elements"
            problems.append(f"{row.path}: a parameter item of {row.params} elements, but the module has {found}")
    was_training = model.training
    model.train(report.train)
    try:
        measured = measure_shapes(model, report.input_shape, report.input_vocab)
        macs = measure_macs(model, report.input_shape, report.input_vocab)
    finally:
        model.train(was_training)
    for row in report.layers:
        if row.train_only and not report.train:
            continue  # train-only heads do not run in eval mode
        if row.path in measured and measured[row.path] != row.output_shape:
            problems.append(f"{row.path}: static shape {row.output_shape}, measured {measured[row.path]}")
        elif row.path not in measured and row.path in present:
            problems.append(f"{row.path}: static shape {row.output_shape}, but it did not run in the forward pass")
    if macs != report.totals.macs:
        problems.append(f"MACs: static {report.totals.macs}, measured {macs} (FlopCounterMode / 2)")
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers())
    if params != report.totals.params:
        problems.append(f"parameters: static {report.totals.params}, measured {params}")
    if buffers != report.totals.buffers:
        problems.append(f"buffers: static {report.totals.buffers}, measured {buffers}")
    return problems


def op_modules(model: Any, leaves: set[str]) -> list[str]:
    """The paths of the module's submodules that the report lists: all but those inside a leaf op's module
    (``nn.MultiheadAttention`` holds ``out_proj``, whose weight it uses itself: a part of the op, not a row)."""
    return [path for path, _ in model.named_modules() if path and not _ancestors(path) & leaves]


def _ancestors(path: str) -> set[str]:
    """``a``, ``a.b`` for ``a.b.c``."""
    parts = path.split(".")
    return {".".join(parts[:end]) for end in range(1, len(parts))}


def _compare_paths(modules: list[str], reported: list[str]) -> list[str]:
    """Submodules the report leaves out, and reported layers that the module does not have."""
    listed, present = set(reported), set(modules)
    problems = [f"{path}: in the compiled module but not in the report" for path in modules if path not in listed]
    problems += [f"{path}: in the report but not in the compiled module" for path in reported if path not in present]
    return problems
