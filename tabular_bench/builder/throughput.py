"""Training throughput (images/s) of the naive loop against fused networks, same device.

Naive: ``M`` separate :class:`TinyNetwork`, one SGD step each in turn. Fused: one
:class:`FusedTinyNetwork` holding the ``M`` models, of one cell of a cell space (``--space``,
``--cell``; NB201's :data:`CELL` by default). Both do the full NB201 training step
(forward, cross-entropy, backward, Nesterov SGD with weight decay) on data resident on the
device, so the ratio is what fusion buys the builder.

``python -m tabular_bench.builder.throughput --out results/builder/throughput.csv`` appends
one row per implementation.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import torch
from torch import nn

from tabular_bench.builder.protocol import DEFAULT_SPACE, space_of_record
from tabular_bench.builder.train import per_model_loss, synchronize
from tabular_bench.models import FusedTinyNetwork, TinyNetwork

CELL = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
        "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
"""A conv-heavy NB201 cell (the best NB201 cell on CIFAR-10 is of this kind)."""


@dataclass(frozen=True)
class Setting:
    channels: int = 16
    cells_per_stage: int = 5
    side: int = 32
    batch: int = 256
    models: int = 8
    classes: int = 10
    space: str = DEFAULT_SPACE
    """Registered name of the cell space."""
    cell: str = CELL
    """Official string of the cell in ``space``."""


@dataclass(frozen=True)
class Row:
    impl: str
    network: str
    input: str
    batch: int
    models_in_flight: int
    images_per_s: float
    device: str
    date: str


def make_step(impl: str, s: Setting, device: torch.device) -> Callable[[], torch.Tensor]:
    """One training step of ``s.models`` models of cell ``s.cell`` (``naive`` or ``fused``).

    Both start from the same seeded weights and data, so their steps compute the same
    thing; each step returns the models' losses ``(models,)`` (before its update).
    """
    if impl not in ("naive", "fused"):
        raise ValueError(f"unknown implementation {impl!r}; use naive or fused")
    space = space_of_record({"space": s.space})
    ops = [space.op_names[i] for i in space.from_string(s.cell)]
    gen = torch.Generator(device=device).manual_seed(0)
    x = torch.rand(s.batch, s.models, 3, s.side, s.side, generator=gen, device=device)
    y = torch.randint(0, s.classes, (s.batch, s.models), generator=gen, device=device)
    sgd = {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 5e-4}
    nets = []
    for m in range(s.models):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(m)
            nets.append(TinyNetwork(ops, s.channels, s.cells_per_stage, s.classes,
                                    space=space))
    if impl == "naive":
        nets = [net.to(device) for net in nets]
        opts = [torch.optim.SGD(n.parameters(), **sgd) for n in nets]

        def step() -> torch.Tensor:
            losses = []
            for m, (net, opt) in enumerate(zip(nets, opts)):
                loss = nn.functional.cross_entropy(net(x[:, m]), y[:, m])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                losses.append(loss.detach())
            return torch.stack(losses)

        return step
    net = FusedTinyNetwork.from_networks(ops, nets, s.channels, s.cells_per_stage, 3).to(device)
    opt = torch.optim.SGD(net.parameters(), **sgd)

    def fused_step() -> torch.Tensor:
        losses = per_model_loss(net(x), y).mean(dim=0)
        opt.zero_grad(set_to_none=True)
        losses.sum().backward()
        opt.step()
        return losses.detach()

    return fused_step


def images_per_s(step: Callable[[], object], s: Setting, device: torch.device, steps: int) -> float:
    """Images per second over ``steps`` steps after one warm-up step."""
    step()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    return steps * s.batch * s.models / (time.perf_counter() - start)


def measure(impl: str, s: Setting, device: torch.device, steps: int) -> Row:
    rate = images_per_s(make_step(impl, s, device), s, device, steps)
    name = device_name(device)
    return Row(impl, f"{s.space} C={s.channels} N={s.cells_per_stage}", f"3x{s.side}x{s.side}",
               s.batch, s.models if impl == "fused" else 1, round(rate, 1), name,
               datetime.now(UTC).date().isoformat())


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"GPU {torch.cuda.get_device_name(device)}"
    return f"CPU ({torch.get_num_threads()} threads)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--cells", type=int, default=5)
    parser.add_argument("--side", type=int, default=32)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--space", default=DEFAULT_SPACE, help="registered cell space")
    parser.add_argument("--cell", default=None,
                        help=f"official string of a cell of --space (default, NB201: {CELL})")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.cell is None and args.space != DEFAULT_SPACE:
        parser.error(f"--space {args.space} needs --cell (an official string of that space)")
    s = Setting(args.channels, args.cells, args.side, args.batch, args.models,
                space=args.space, cell=args.cell or CELL)
    rows = [measure("naive", s, device, args.steps), measure("fused", s, device, args.steps)]
    new = not args.out.exists()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(Row.__dataclass_fields__))
        if new:
            writer.writeheader()
        for row in rows:
            writer.writerow(asdict(row))
            print(asdict(row))
    print(f"fused/naive = {rows[1].images_per_s / rows[0].images_per_s:.2f}")


if __name__ == "__main__":
    main()
