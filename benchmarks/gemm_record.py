"""Matrix products of a step, recorded per phase and replayed bare (issue #17, point 3).

`GemmRecorder` is a dispatch mode that notes every mm / addmm / bmm / baddbmm with the size and
stride of its operands and its multiply-adds, under the name of the phase running; `replay`
runs the noted products again as plain aten calls on random operands of the same layouts, the
time those shapes take with nothing else around them. Operands are reused per distinct layout,
so the replay reads them warm from cache where the step may not.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten
GEMMS = (aten.mm.default, aten.addmm.default, aten.bmm.default, aten.baddbmm.default)


@dataclass(frozen=True)
class Product:
    """One matrix product as dispatched: the aten op, (size, stride) of each tensor argument."""

    op: Any
    operands: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]
    macs: int


class GemmRecorder(TorchDispatchMode):
    """Records every mm / addmm / bmm / baddbmm, per phase: `with recorder(name): ...`."""

    def __init__(self) -> None:
        super().__init__()
        self.products: dict[str, list[Product]] = defaultdict(list)
        self.current = ""

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        self.current = name
        with self:
            yield

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        if func in GEMMS:
            tensors = [value for value in args if isinstance(value, Tensor)]
            left, right = tensors[-2], tensors[-1]  # (…, n, k) @ (…, k, m)
            shapes = tuple((tuple(t.shape), t.stride()) for t in tensors)
            self.products[self.current].append(
                Product(func, shapes, left.numel() * right.shape[-1])
            )
        return func(*args, **(kwargs or {}))


def replay(products: list[Product], operands: dict[tuple, Tensor]) -> float:
    """Seconds to run `products` again as bare aten calls on random operands of the same
    size and stride (one tensor per distinct layout, kept in `operands`)."""
    calls = []
    for product in products:
        tensors = []
        for size, stride in product.operands:
            if (size, stride) not in operands:
                extent = 1 + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
                operands[size, stride] = torch.randn(max(extent, 1)).as_strided(size, stride)
            tensors.append(operands[size, stride])
        calls.append((product.op, tensors))
    start = time.perf_counter()
    for op, tensors in calls:
        op(*tensors)
    return time.perf_counter() - start
