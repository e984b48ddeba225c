"""The torch modules that containers compile to. Imported only by the backend (it imports torch).

Forward passes are straight calls: a plain ``nn.Sequential`` unless an item uses ``id`` / ``from`` or a merge is
inlined into the module, in which case a plan (archspec.backend.flow: slot indices and merge steps keyed by child
name, no dictionaries of tensors) carries the saved outputs. A block's module is an instance of a class named
after the block (``Bottleneck``), a subclass made once per name by :func:`named_class`.

Every container looks its children up in the module registry when it is called, as ``nn.Sequential`` does,
so assigning a submodule (``model.fc = nn.Linear(512, 10)``), deleting one, fusing, injecting adapters or
``SyncBatchNorm.convert_sync_batchnorm`` change what runs. The same code is valid TorchScript: iterating a
``ModuleDict`` is unrolled when scripted, and ``hasattr`` on a module is resolved while compiling, so a merge
may take a list of tensors while every other child takes one.

No ``from __future__ import annotations`` here: TorchScript evaluates the class-level annotations itself.
"""

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
from torch import nn

# A route: the slots a child reads (-1 is the previous child's output) and the slot its output is kept in
# (-1: not kept). Children with no route read the previous output and are not kept.
Route = Tuple[List[int], int]
# A step: its kind (archspec.backend.flow.STEP_CODES: 0 concat, 1 add, 2 multiply, 3 pass a value on;
# TENSOR_STEP_CODES: 4 prepend, 5 add, 6 scale by a parameter item's tensor — literals below, as TorchScript
# reads no module-level ints; 7 take one part of a split: PART_STEP_CODE), the concat (or split) dim, the slots it
# reads, the slot it is kept in, the name of the parameter a parameter item's step applies ("" for merges), and
# for a part step [index, count]: part ``index`` of ``torch.chunk(x, count, dim)`` (ShuffleNet's channel split;
# [] for the others).
Step = Tuple[int, int, List[int], int, str, List[int]]


def sequential(named_children: Sequence[tuple[str, Any]], **program: Any) -> nn.Module:
    """A plain ``nn.Sequential`` unless the children need a plan (``id`` / ``from``, inlined merges)."""
    if program:
        return RoutedSequential(named_children, **program)
    return nn.Sequential(OrderedDict(named_children))


def learned_tensor(shape: Sequence[int], init: str, value: float) -> nn.Parameter:
    """A parameter item's tensor (archspec.ops.base.LearnedTensor), initialised as torchvision does: ``zeros``
    (ViT's class token), ``normal`` with std ``value`` (its positional embedding), ``fill``: ones times
    ``value`` (ConvNeXt's layer scale). Made where the item stands in the build, so random numbers are drawn in
    spec order."""
    if init == "normal":
        return nn.Parameter(torch.empty(list(shape)).normal_(std=value))
    if init == "fill":
        return nn.Parameter(torch.ones(list(shape)) * value)
    return nn.Parameter(torch.zeros(list(shape)))


class RoutedSequential(nn.ModuleDict):
    """Runs its children in registration order; a child may read saved outputs of earlier children
    (``from``) instead of the previous one, a merge may read several, and merge steps may run between
    children (inlined merges). A child added under a new name reads the previous output; one assigned under
    an existing name keeps that name's route."""

    routes: Dict[str, Route]
    steps: Dict[str, List[Step]]
    final_steps: List[Step]
    slot_count: int

    def __init__(
        self,
        named_children: Sequence[tuple[str, Any]],
        routes: Optional[Dict[str, Route]] = None,
        steps: Optional[Dict[str, List[Step]]] = None,
        final_steps: Optional[List[Step]] = None,
        slot_count: int = 1,
    ):
        # Parameter items' tensors come among the children, in spec order: they are this module's parameters.
        super().__init__(OrderedDict((n, c) for n, c in named_children if not isinstance(c, nn.Parameter)))
        for name, child in named_children:
            if isinstance(child, nn.Parameter):
                self.register_parameter(name, child)
        self.routes = {name: (list(reads), keep) for name, (reads, keep) in (routes or {}).items()}
        self.steps = {name: [_step(step) for step in listed] for name, listed in (steps or {}).items()}
        self.final_steps = [_step(step) for step in final_steps or []]
        self.slot_count = slot_count

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run_children(x)

    def run_children(self, x: torch.Tensor) -> torch.Tensor:
        saved: List[torch.Tensor] = [x] * self.slot_count
        for name, module in self.items():
            if name in self.steps:
                x = self.run_steps(self.steps[name], x, saved)
            route = self.routes.get(name)
            if route is None:
                x = module(x)
            else:
                reads, keep = route
                if hasattr(module, "merges_inputs") and len(reads) > 1:
                    x = module([x if slot < 0 else saved[slot] for slot in reads])
                else:
                    x = module(x if reads[0] < 0 else saved[reads[0]])
                if keep >= 0:
                    saved[keep] = x
        if len(self.final_steps) > 0:
            x = self.run_steps(self.final_steps, x, saved)
        return x

    def run_steps(self, steps: List[Step], x: torch.Tensor, saved: List[torch.Tensor]) -> torch.Tensor:
        """Merge saved outputs as an inlined merge would, or apply a parameter item's tensor (the running
        tensor ``x`` is slot -1)."""
        for kind, dim, reads, keep, parameter, part in steps:
            tensors = [x if slot < 0 else saved[slot] for slot in reads]
            if kind == 0:
                x = torch.cat(tensors, dim)
            elif kind == 7:  # ShuffleNet v2: x1, x2 = x.chunk(2, dim=1)
                x = torch.chunk(tensors[0], part[1], dim)[part[0]]
            elif kind >= 4:
                x = self.apply_tensor(kind, parameter, tensors[0])
            else:  # add, multiply; a single read passes an earlier value on
                x = tensors[0]
                for other in tensors[1:]:
                    x = x + other if kind == 1 else x * other
            if keep >= 0:
                saved[keep] = x
        return x

    @torch.jit.unused
    def apply_tensor(self, kind: int, parameter: str, x: torch.Tensor) -> torch.Tensor:
        """A parameter item's step, as torchvision writes it. The tensor is looked up by name when called, so
        assigning ``module.class_token = nn.Parameter(...)`` changes what runs (TorchScript cannot look an
        attribute up by a name it reads at run time: see __prepare_scriptable__)."""
        tensor = getattr(self, parameter)
        if kind == 4:  # ViT: torch.cat([class_token.expand(n, -1, -1), x], dim=1)
            return torch.cat([tensor.expand(x.shape[0], -1, -1), x], dim=1)
        if kind == 5:  # ViT's Encoder: input + pos_embedding
            return x + tensor
        return tensor * x  # ConvNeXt's CNBlock: layer_scale * block(input)

    def __prepare_scriptable__(self) -> "RoutedSequential":
        """Called by ``torch.jit.script``: refuse a module with parameter items (whose steps look their
        tensors up by name, which TorchScript cannot compile) rather than script one that fails when run."""
        held = [
            parameter
            for listed in [*self.steps.values(), self.final_steps]
            for _, _, _, _, parameter, _ in listed
            if parameter
        ]
        if held:
            raise RuntimeError(
                f"torch.jit.script cannot compile parameter items ({', '.join(held)}): their steps look the "
                "parameter up by name when called; use torch.compile or torch.export instead"
            )
        return self


def _step(step: Sequence[Any]) -> Step:
    kind, dim, reads, keep, parameter, part = step
    return (kind, dim, list(reads), keep, parameter, list(part))


class _Branches(nn.ModuleDict):
    """Branches registered in spec order. Given one tensor, every branch reads it; given a list (``from``
    names several ids), branch k reads tensor k, or with no branches the tensors are merged as they are."""

    def __init__(self, named_children: Sequence[tuple[str, Any]]):
        super().__init__(OrderedDict(named_children))
        self.merges_inputs = True  # an instance attribute: TorchScript's hasattr sees no class attributes

    def outputs(self, inputs: Union[torch.Tensor, List[torch.Tensor]]) -> List[torch.Tensor]:
        outputs: List[torch.Tensor] = []
        if isinstance(inputs, torch.Tensor):
            for branch in self.values():
                outputs.append(branch(inputs))
            return outputs if len(outputs) > 0 else [inputs]
        if not torch.jit.is_scripting() and not isinstance(inputs, (list, tuple)):
            # torch.fx.symbolic_trace passes a Proxy for the one tensor: not a Tensor, and indexing it as a list
            # would give every branch one item of the batch
            return self._traced_outputs(inputs)
        for index, branch in enumerate(self.values()):
            outputs.append(branch(inputs[index]))
        return outputs if len(outputs) > 0 else inputs

    @torch.jit.unused
    def _traced_outputs(self, inputs: Any) -> List[torch.Tensor]:
        outputs = [branch(inputs) for branch in self.values()]
        return outputs if len(outputs) > 0 else [inputs]


class Concat(_Branches):
    def __init__(self, named_children: Sequence[tuple[str, Any]], dim: int):
        super().__init__(named_children)
        self.dim = dim

    def forward(self, inputs: Union[torch.Tensor, List[torch.Tensor]]) -> torch.Tensor:
        return torch.cat(self.outputs(inputs), self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class ChannelSplit(_Branches):
    """Splits its input into one equal part per branch along ``dim`` (``torch.chunk``), runs branch k on part
    k and concatenates their outputs along the same dim (ShuffleNet v2's channel split). One input only: not a
    merge, so it has no ``merges_inputs`` (the routed flow hands it one tensor)."""

    def __init__(self, named_children: Sequence[tuple[str, Any]], dim: int):
        nn.ModuleDict.__init__(self, OrderedDict(named_children))  # not _Branches': no merges_inputs
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        count = 0  # the branches registered now (counted: TorchScript has no len() of a ModuleDict)
        for _ in self.values():
            count += 1
        parts = torch.chunk(x, count, self.dim)
        outputs: List[torch.Tensor] = []
        for index, branch in enumerate(self.values()):  # indexed: torch.fx cannot iterate a traced tuple
            outputs.append(branch(parts[index]))
        return torch.cat(outputs, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Add(_Branches):
    def forward(self, inputs: Union[torch.Tensor, List[torch.Tensor]]) -> torch.Tensor:
        outputs = self.outputs(inputs)
        total = outputs[0]
        for other in outputs[1:]:
            total = total + other
        return total


class Multiply(_Branches):
    def forward(self, inputs: Union[torch.Tensor, List[torch.Tensor]]) -> torch.Tensor:
        outputs = self.outputs(inputs)
        product = outputs[0]
        for other in outputs[1:]:
            product = product * other
        return product


class Head(nn.Sequential):
    """Computes a side output from its input and passes the input on. The network collects the side
    output after the forward pass; a ``train_only`` head does nothing in eval mode."""

    side_output: Optional[torch.Tensor]

    def __init__(self, named_children: Sequence[tuple[str, Any]], train_only: bool):
        super().__init__(OrderedDict(named_children))
        self.train_only = train_only
        self.side_output = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training or not self.train_only:
            side = x
            for module in self:
                side = module(side)
            self.side_output = side
        return x

    def extra_repr(self) -> str:
        return "train_only=True" if self.train_only else ""


class CompiledNetwork(RoutedSequential):
    """A network compiled by archspec (``archspec_name`` is the spec's name).

    ``forward`` returns the main output as a tensor when no head produced an output (always, for networks
    without heads; in eval mode, for train-only heads). Otherwise it returns a dict
    ``{"output": main, "<head path>": side, ...}`` with the heads in spec order. Heads are found by their
    paths (``head_paths``: the backend passes those of the containers that declare a side output) when
    called, so a replaced head is the one collected. Scripted (``torch.jit.script``), the network
    collects the heads that are its direct children; a head nested deeper cannot be scripted.
    """

    # TorchScript reads only the class's own annotations, so the inherited attributes are declared again.
    routes: Dict[str, Route]
    steps: Dict[str, List[Step]]
    final_steps: List[Step]
    slot_count: int
    archspec_name: str
    head_paths: List[str]

    def __init__(
        self, named_children: Sequence[tuple[str, Any]], name: str, head_paths: Sequence[str] = (), **program: Any
    ):
        super().__init__(named_children, **program)
        self.archspec_name = name
        self.head_paths = list(head_paths)

    def forward(self, x: torch.Tensor) -> Union[torch.Tensor, Dict[str, torch.Tensor]]:
        output = self.run_children(x)  # TorchScript has no super()
        if len(self.head_paths) == 0:
            return output
        outputs = {"output": output}  # archspec.ir.graph.MAIN_OUTPUT (this file is copied into generated code)
        if torch.jit.is_scripting():
            for name, module in self.items():
                if hasattr(module, "side_output"):
                    side = module.side_output
                    if side is not None:
                        outputs[name] = side
                        module.side_output = None
        else:
            self._collect_heads(outputs)
        if len(outputs) > 1:
            return outputs
        return output

    @torch.jit.unused
    def _collect_heads(self, outputs: Dict[str, torch.Tensor]) -> None:
        for path in self.head_paths:
            head = self.get_submodule(path) if _has_submodule(self, path) else None
            side = getattr(head, "side_output", None)
            if side is not None:
                outputs[path] = side
                head.side_output = None

    def __prepare_scriptable__(self) -> "CompiledNetwork":
        """Called by ``torch.jit.script``: refuse what the scripted network could not return."""
        RoutedSequential.__prepare_scriptable__(self)  # parameter items on the network itself
        nested = [path for path in self.head_paths if "." in path]
        if nested:
            raise RuntimeError(
                f"torch.jit.script cannot collect the side outputs of heads nested inside other "
                f"modules ({', '.join(nested)}); a scripted network collects only heads that "
                "are items of the top-level layer list"
            )
        return self


def _has_submodule(module: nn.Module, path: str) -> bool:
    for name in path.split("."):
        module = module._modules.get(name)  # type: ignore[assignment]
        if module is None:
            return False
    return True


# Block classes (``Bottleneck``, ``InceptionAux``): one subclass per (base, name), made on first use. Pickle
# and deepcopy rebuild an instance through _rebuild_named, so a class made at run time needs no import path.
_NAMED_CLASSES: Dict[Tuple[type, str], type] = {}


def named_class(module: nn.Module, name: str) -> nn.Module:
    """``module``, made an instance of the subclass of its class named ``name`` (what ``print`` shows)."""
    module.__class__ = _named_subclass(type(module), name)
    return module


def _named_subclass(base: type, name: str) -> type:
    cls = _NAMED_CLASSES.get((base, name))
    if cls is None:
        # TorchScript reads a class's own annotations only: repeat those of this file's bases.
        annotations: Dict[str, Any] = {}
        for klass in reversed(base.__mro__):
            if klass.__module__ == __name__:
                annotations.update(klass.__annotations__)  # its own only (Python >= 3.10)
        cls = type(
            name,
            (base,),
            {
                "__annotations__": annotations,
                "__module__": __name__,
                "__qualname__": name,
                "__reduce_ex__": _reduce_named,
            },
        )
        _NAMED_CLASSES[(base, name)] = cls
    return cls


def _reduce_named(module: nn.Module, protocol: int) -> Tuple[Any, Tuple[str, str], Dict[str, Any]]:
    cls = type(module)
    return _rebuild_named, (cls.__bases__[0].__name__, cls.__name__), module.__dict__


def _rebuild_named(base: str, name: str) -> nn.Module:
    bases = {cls.__name__: cls for cls in (nn.Sequential, RoutedSequential, Head, Concat, ChannelSplit, Add, Multiply)}
    cls = _named_subclass(bases[base], name)
    return cls.__new__(cls)
