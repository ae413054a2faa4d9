"""Data-parallel training over processes started by ``torchrun`` (gloo on CPU, NCCL on GPU).

Every rank holds a full copy of the model and reads only its shard of the training frames.
The loss of a rank is its local sum divided by the global normaliser, so summing gradients
over ranks gives exactly the gradient of the loss over the global batch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistributedContext:
    """This process's rank among ``world_size`` (1 when not distributed)."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")
    """Where collective operations run (NCCL needs CUDA tensors)."""

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_environment(cls, device: torch.device) -> DistributedContext:
        """Join the process group described by torchrun's environment variables, if any.

        On GPUs each process takes the GPU ``LOCAL_RANK`` of its node.
        """
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size == 1:
            return cls(device=device)
        if device.type == "cuda":  # one GPU per process on each node
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        return cls(rank=dist.get_rank(), world_size=dist.get_world_size(), device=device)

    def sum(self, value: torch.Tensor) -> torch.Tensor:
        """Sum of ``value`` over all ranks (the tensor itself when not distributed)."""
        if self.world_size == 1:
            return value
        reduced = value.detach().to(self.device, copy=True)
        dist.all_reduce(reduced, op=dist.ReduceOp.SUM)
        return reduced.to(value.device)

    def max(self, value: float) -> float:
        """Largest ``value`` over ranks, so decisions based on it (time budget) agree."""
        if self.world_size == 1:
            return value
        tensor = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
        return float(tensor[0])

    def sum_array(self, value: np.ndarray) -> np.ndarray:
        """Sum of a numpy array over all ranks."""
        if self.world_size == 1:
            return value
        return self.sum(torch.as_tensor(value, dtype=torch.float64)).numpy()

    def sum_gradients(self, parameters: list[torch.nn.Parameter]) -> None:
        """Replace every gradient by its sum over ranks (one flattened all-reduce)."""
        if self.world_size == 1:
            return
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in parameters]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        offset = 0
        for parameter, grad in zip(parameters, grads, strict=True):
            n = grad.numel()
            parameter.grad = flat[offset : offset + n].view_as(grad).clone()
            offset += n

    def shard(self, indices: np.ndarray) -> np.ndarray:
        """This rank's share: every ``world_size``-th index starting at ``rank``."""
        return indices[self.rank :: self.world_size]

    def gather(self, items: list) -> list:
        """The concatenation of every rank's ``items`` (picklable objects), in rank order."""
        if self.world_size == 1:
            return items
        gathered: list[list] = [[] for _ in range(self.world_size)]
        dist.all_gather_object(gathered, items)
        return [item for rank_items in gathered for item in rank_items]

    def barrier(self) -> None:
        if self.world_size > 1:
            dist.barrier()

    def close(self) -> None:
        if self.world_size > 1 and dist.is_initialized():
            dist.destroy_process_group()
