"""Data-parallel training of a compiled spec in local processes over gloo (CPU), for tests/unit/test_deployment.py.

The worker is a function of this module, not of the test file, so that ``torch.multiprocessing.spawn`` can
import it by name in the child processes (spawn pickles the function by reference; this folder is on the
children's ``sys.path`` as it is on the parent's).
"""

from __future__ import annotations

import os
import socket
from typing import Any

import torch
from torch import nn

import archspec

LEARNING_RATE = 0.1


def free_port() -> int:
    """A TCP port on localhost that nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def train(model: nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> nn.Module:
    """Plain SGD on the mean cross-entropy of each batch: the single-process reference."""
    optimiser = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    for x, y in batches:
        optimiser.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimiser.step()
    return model


def worker(rank: int, world: int, port: int, job: dict[str, Any]) -> None:
    """One of ``world`` processes: for each wrapper in ``job["wrappers"]`` (``ddp``, ``fsdp``), builds the spec,
    loads the shared initial weights, wraps the module and trains on its share of every batch (contiguous equal
    slices, so that the mean of the shards' mean losses is the whole batch's mean loss); rank 0 saves the final
    weights to ``job["results"]/WRAPPER.pt``."""
    torch.set_num_threads(1)  # two processes on a small machine: no oversubscription
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        for wrapper in job["wrappers"]:
            model = archspec.compile(job["spec"], job["input"])
            model.load_state_dict(job["state"])
            if wrapper == "ddp":
                wrapped: nn.Module = nn.parallel.DistributedDataParallel(model)
            else:
                from torch.distributed.fsdp import fully_shard

                wrapped = fully_shard(model)  # each process holds a shard of every parameter
            train(wrapped, [(x.chunk(world)[rank], y.chunk(world)[rank]) for x, y in job["batches"]])
            state = model.state_dict()
            if wrapper == "fsdp":  # sharded parameters (DTensors): gather the whole of each, on every rank
                state = {key: value.full_tensor() for key, value in state.items()}
            if rank == 0:
                torch.save(state, os.path.join(job["results"], f"{wrapper}.pt"))
            torch.distributed.barrier()
    finally:
        torch.distributed.destroy_process_group()


def train_in_processes(
    spec: str,
    input_shape: list[int],
    state: dict[str, torch.Tensor],
    batches: list[Any],
    wrappers: tuple[str, ...],
    results: str | os.PathLike[str],
) -> dict[str, dict[str, torch.Tensor]]:
    """The weights after training ``spec`` from ``state`` on ``batches`` in two processes, by wrapper; the
    folder ``results`` receives them."""
    job = {"spec": spec, "input": input_shape, "state": state, "batches": batches, "wrappers": wrappers}
    job["results"] = os.fspath(results)
    torch.multiprocessing.spawn(worker, args=(2, free_port(), job), nprocs=2, join=True)
    return {
        wrapper: torch.load(os.path.join(job["results"], f"{wrapper}.pt"), weights_only=True) for wrapper in wrappers
    }
