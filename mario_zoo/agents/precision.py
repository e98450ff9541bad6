"""Mixed precision for the DQN update: which devices run bfloat16 natively, and what ``precision="auto"`` picks.

bfloat16 keeps float32's exponent range, so unlike float16 it needs no loss scaling: the update runs its
forward and backward passes under ``torch.autocast(device, dtype=torch.bfloat16)`` while the master weights,
the optimizer state, the TD targets and the loss stay float32. It only pays where the hardware multiplies
bfloat16 natively: CPUs with AVX512-BF16 or AMX (oneDNN's bf16 kernels), and CUDA GPUs that support it.
Elsewhere bf16 is emulated and slower than fp32, so ``"auto"`` picks fp32 there.

What runs in bf16, and why (``benchmarks/mario_train_cost.py``: one thread, CPU time, a CPU with AMX, batch 32,
the ``mario`` preset's dueling Nature CNN; float32 51.2 ms per update, bf16 34.8 ms, bf16 on channels-last
batches 33.8 ms (1.52x), bf16 with the weights channels-last too 31.4 ms (1.63x)):

- The update, under autocast, with its input batches in channels-last (NHWC) memory format, which oneDNN's bf16
  convolutions prefer (converting a uint8 batch is cheap). The weights stay float32 NCHW: channels-last weights
  saved another 2.4 ms per update (0.6 ms per env step at ``train_freq=4``) but slowed every batch-1 forward of
  acting (0.98 -> 1.15 ms with channels-last observations, 1.8 ms without), and the fused Adam kernel silently
  computes wrong steps when its state's memory layout differs from its parameter's, which every optimizer state
  loaded from a (contiguous) checkpoint would.
- Not acting: a batch-1 forward took 1.14 ms in float32 and 2.18 ms under bf16 autocast (casting the weights costs
  more than the tiny convolutions save), so ``predict`` and exploration run in float32 whatever ``precision`` says.

Example:
    >>> resolve_precision("fp32", torch.device("cpu"))
    'fp32'
    >>> resolve_precision("auto", torch.device("cpu")) == ("bf16" if bf16_supported(torch.device("cpu")) else "fp32")
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch

from mario_zoo.agents.config import PRECISIONS

#: CPU flags (``/proc/cpuinfo``) of native bfloat16 arithmetic that oneDNN uses.
CPU_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def bf16_supported(device: torch.device) -> bool:
    """Whether ``device`` multiplies bfloat16 natively (so that bf16 autocast is faster than fp32)."""
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return cpu_bf16_supported()
    return False


def cpu_bf16_supported() -> bool:
    """Whether this CPU has AVX512-BF16 or AMX: torch's own check where it has one, else ``/proc/cpuinfo``."""
    avx512_bf16 = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
    if avx512_bf16 is not None and amx is not None:
        return bool(avx512_bf16() or amx())
    return bool(CPU_BF16_FLAGS & _cpuinfo_flags())


def read_cpuinfo_flags(path: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags as ``/proc/cpuinfo`` lists them (empty where there is no such file)."""
    try:
        text = path.read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def resolve_precision(precision: str, device: torch.device) -> Literal["fp32", "bf16"]:
    """The precision the update runs in: ``precision`` itself, or for ``"auto"`` bf16 where supported."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    if precision == "auto":
        return "bf16" if bf16_supported(device) else "fp32"
    return "bf16" if precision == "bf16" else "fp32"


def _cpuinfo_flags() -> set[str]:
    return read_cpuinfo_flags()
