"""Train a group of (task, seed) units of one cell together, fused into one network.

Every unit of a group gets its own initialisation (its seed), data order and augmentation
(its own ``torch.Generator``), optimiser state and metrics, exactly as if trained alone;
only the kernels are shared (:class:`~tabular_bench.models.FusedTinyNetwork`). Units of a
group must have the same number of training images and image shape, so their epochs have
the same number of steps.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tabular_bench.builder.protocol import Protocol
from tabular_bench.models import FusedTinyNetwork, TinyNetwork
from tabular_bench.models.profile import count_flops, count_params


@dataclass(frozen=True)
class SplitTask:
    """One task's images (float, ``(n, C, H, W)``) and labels, split for training."""

    name: str
    num_classes: int
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_valid: torch.Tensor
    y_valid: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])  # type: ignore[return-value]

    def to(self, device: torch.device) -> SplitTask:
        moved = {k: v.to(device) for k, v in vars(self).items() if isinstance(v, torch.Tensor)}
        return SplitTask(self.name, self.num_classes, **moved)


@dataclass
class UnitRecord:
    """What one trained unit leaves behind; one JSON file per unit on disk."""

    cell: str
    task: str
    seed: int
    train_loss: list[float]
    train_acc: list[float]
    valid_loss: list[float]
    valid_acc: list[float]
    test_loss: float
    test_acc: float
    epoch_time_s: list[float]
    """Time of each training epoch of the whole group, divided by its size, on the
    :func:`cost_clock` of the device (the table's ``cost_s``)."""
    wall_s: float
    """Wall time of the whole unit (building, training, every evaluation), divided by the
    group's size: what a unit took on this machine, as loaded as it was."""
    models_in_flight: int
    params_m: float
    flops_m: float
    device: str
    cpu_s: float = float("nan")
    """CPU time of the whole unit (this process, all its threads), divided by the group's
    size: what a unit costs on a CPU, however loaded the machine was."""
    clock: str = "wall"
    """What ``epoch_time_s`` counts: ``process_cpu`` seconds (CPU builds) or ``wall``."""


def cost_clock(device: torch.device) -> tuple[str, Callable[[], float]]:
    """The clock a unit's epoch costs are read on: the process's CPU time on a CPU, whose
    wall time grows with whatever else the machine runs (a cost that depended on the load
    would rank cells by when they were trained); wall time on an accelerator, where the
    host's CPU time says nothing about the kernels' (epochs end with a synchronize)."""
    if device.type == "cpu":
        return "process_cpu", time.process_time
    return "wall", time.perf_counter


def build_network(
    cell_ops: Sequence[str], task: SplitTask, protocol: Protocol, seed: int
) -> TinyNetwork:
    """The unit's network (a cell of ``protocol.space``), initialised from its seed alone
    (the global RNG is restored)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return TinyNetwork(
            cell_ops,
            protocol.channels,
            protocol.cells_per_stage,
            task.num_classes,
            task.image_shape[0],
            space=protocol.cell_space,
        )


def train_group(
    cell: str,
    cell_ops: Sequence[str],
    units: Sequence[tuple[SplitTask, int]],
    protocol: Protocol,
    device: torch.device,
) -> list[UnitRecord]:
    """Train ``units`` (task, seed) of cell ``cell_ops`` (op names of ``protocol.space``,
    one per edge) together; one record per unit."""
    began, began_cpu = time.perf_counter(), time.process_time()
    clock_name, clock = cost_clock(device)
    tasks = [task.to(device) for task, _ in units]
    seeds = [seed for _, seed in units]
    if len({(len(t.y_train), t.image_shape) for t in tasks}) != 1:
        raise ValueError("a fused group needs tasks of equal training size and image shape")
    networks = [build_network(cell_ops, t, protocol, s) for t, s in zip(tasks, seeds)]
    params_m = [count_params(net) for net in networks]
    flops_m = [count_flops(net, t.image_shape) for net, t in zip(networks, tasks)]
    model = FusedTinyNetwork.from_networks(
        cell_ops, networks, protocol.channels, protocol.cells_per_stage, tasks[0].image_shape[0]
    ).to(device)
    generators = [torch.Generator(device=device).manual_seed(s) for s in seeds]
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=protocol.lr,
        momentum=protocol.momentum,
        nesterov=protocol.nesterov,
        weight_decay=protocol.weight_decay,
    )
    steps = math.ceil(len(tasks[0].y_train) / protocol.batch_size)
    total = steps * protocol.epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda t: 0.5 * (1.0 + math.cos(math.pi * t / total))
    )
    history: dict[str, list[np.ndarray]] = {k: [] for k in ("tl", "ta", "vl", "va", "time")}
    for _ in range(protocol.epochs):
        start = clock()
        loss, acc = _train_epoch(model, tasks, generators, optimizer, schedule, protocol)
        synchronize(device)
        history["time"].append(np.full(len(units), (clock() - start) / len(units)))
        history["tl"].append(loss)
        history["ta"].append(acc)
        valid = _evaluate(model, [(t.x_valid, t.y_valid) for t in tasks], protocol.batch_size)
        history["vl"].append(valid[0])
        history["va"].append(valid[1])
    test_loss, test_acc = _evaluate(model, [(t.x_test, t.y_test) for t in tasks],
                                    protocol.batch_size)
    synchronize(device)
    wall_s = (time.perf_counter() - began) / len(units)
    cpu_s = (time.process_time() - began_cpu) / len(units)
    column = {k: np.stack(v, axis=1) for k, v in history.items()}  # (models, epochs)
    return [
        UnitRecord(
            cell=cell,
            task=tasks[m].name,
            seed=seeds[m],
            train_loss=column["tl"][m].tolist(),
            train_acc=column["ta"][m].tolist(),
            valid_loss=column["vl"][m].tolist(),
            valid_acc=column["va"][m].tolist(),
            test_loss=float(test_loss[m]),
            test_acc=float(test_acc[m]),
            epoch_time_s=column["time"][m].tolist(),
            wall_s=wall_s,
            cpu_s=cpu_s,
            clock=clock_name,
            models_in_flight=len(units),
            params_m=params_m[m],
            flops_m=flops_m[m],
            device=str(device),
        )
        for m in range(len(units))
    ]


def _train_epoch(
    model: FusedTinyNetwork,
    tasks: Sequence[SplitTask],
    generators: Sequence[torch.Generator],
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
    protocol: Protocol,
) -> tuple[np.ndarray, np.ndarray]:
    """One epoch; returns each model's mean training loss and accuracy (percent)."""
    model.train()
    n = len(tasks[0].y_train)
    device = tasks[0].x_train.device
    orders = [torch.randperm(n, generator=g, device=device) for g in generators]
    loss_sum = torch.zeros(len(tasks), device=device)
    correct = torch.zeros(len(tasks), device=device)
    for begin in range(0, n, protocol.batch_size):
        images, labels = [], []
        for task, order, gen in zip(tasks, orders, generators):
            idx = order[begin : begin + protocol.batch_size]
            batch = task.x_train[idx]
            images.append(augment(batch, gen) if protocol.augment else batch)
            labels.append(task.y_train[idx])
        x = torch.stack(images, dim=1)
        y = torch.stack(labels, dim=1)
        logits = model(x)
        losses = per_model_loss(logits, y)
        optimizer.zero_grad(set_to_none=True)
        losses.mean(dim=0).sum().backward()
        optimizer.step()
        schedule.step()
        loss_sum += losses.detach().sum(dim=0)
        correct += (logits.detach().argmax(dim=2) == y).sum(dim=0)
    return (loss_sum / n).cpu().numpy(), (100.0 * correct / n).cpu().numpy()


@torch.no_grad()
def _evaluate(
    model: FusedTinyNetwork, splits: Sequence[tuple[torch.Tensor, torch.Tensor]], batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean loss and accuracy (percent) of each model on its own split.

    Splits of different sizes are zero-padded to the longest; in eval mode batch norm uses
    running statistics, so padding changes no model's outputs, and it is masked out.
    """
    model.eval()
    longest = max(len(y) for _, y in splits)
    device = splits[0][0].device
    loss_sum = torch.zeros(len(splits), device=device)
    correct = torch.zeros(len(splits), device=device)
    sizes = torch.tensor([len(y) for _, y in splits], device=device)
    for begin in range(0, longest, batch_size):
        end = min(begin + batch_size, longest)
        x = torch.zeros(end - begin, len(splits), *splits[0][0].shape[1:], device=device)
        y = torch.zeros(end - begin, len(splits), dtype=torch.long, device=device)
        for m, (xs, ys) in enumerate(splits):
            part = ys[begin:end]
            x[: len(part), m] = xs[begin:end]
            y[: len(part), m] = part
        valid = (torch.arange(begin, end, device=device)[:, None] < sizes[None, :]).float()
        logits = model(x)
        loss_sum += (per_model_loss(logits, y) * valid).sum(dim=0)
        correct += ((logits.argmax(dim=2) == y).float() * valid).sum(dim=0)
    return (loss_sum / sizes).cpu().numpy(), (100.0 * correct / sizes).cpu().numpy()


def per_model_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each image under each model, ``(batch, models)``."""
    batch, models, classes = logits.shape
    return nn.functional.cross_entropy(
        logits.reshape(batch * models, classes), labels.reshape(-1), reduction="none"
    ).view(batch, models)


def augment(images: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop after zero-padding by ``pad`` and random horizontal flip (NB201's CIFAR)."""
    batch, _, height, width = images.shape
    device = images.device
    padded = nn.functional.pad(images, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (batch,), generator=generator, device=device)
    dx = torch.randint(0, 2 * pad + 1, (batch,), generator=generator, device=device)
    flip = torch.rand(batch, generator=generator, device=device) < 0.5
    cols = torch.arange(width, device=device)
    cols = torch.where(flip[:, None], width - 1 - cols, cols) + dx[:, None]
    rows = torch.arange(height, device=device) + dy[:, None]
    b = torch.arange(batch, device=device)[:, None, None, None]
    c = torch.arange(images.shape[1], device=device)[None, :, None, None]
    return padded[b, c, rows[:, None, :, None], cols[:, None, None, :]]


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels, so wall-clock times cover the work (no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
