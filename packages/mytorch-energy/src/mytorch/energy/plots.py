"""PNG charts of an energy report (matplotlib, imported only when plotting)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from mytorch.core.files import atomic_write

if TYPE_CHECKING:
    from mytorch.energy.monitor import EnergyReport


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'mytorch-energy[plot]'") from e
    return plt


def plot_energy_report(report: EnergyReport, path: str | os.PathLike) -> None:
    """Two panels: energy per inference by layer (compute, local memory, DRAM) and sparsity."""
    plt = _pyplot()
    rows = report.layers
    labels = [r.name or "(model)" for r in rows]
    per = max(report.samples, 1)
    compute = [r.compute_pj / per * 1e-6 for r in rows]  # uJ per inference
    local = [r.local_pj / per * 1e-6 for r in rows]
    dram = [r.dram_pj / per * 1e-6 for r in rows]
    x = range(len(rows))
    fig, (ax1, ax2) = plt.subplots(
        2, 1, figsize=(min(max(6, 0.35 * len(rows) + 2), 24), 7), sharex=True
    )
    ax1.bar(x, compute, label="compute")
    ax1.bar(x, local, bottom=compute, label="local memory")
    ax1.bar(x, dram, bottom=[c + m for c, m in zip(compute, local)], label="DRAM")
    ax1.set_ylabel("energy per inference (uJ)")
    ax1.set_title(f"Estimated energy per layer ({report.table['name']})")
    ax1.legend()
    width = 0.4
    ins = [100 * (r.input_sparsity or 0) for r in rows]
    outs = [100 * (r.output_sparsity or 0) for r in rows]
    ax2.bar([i - width / 2 for i in x], ins, width, label="input zeros")
    ax2.bar([i + width / 2 for i in x], outs, width, label="output zeros")
    ax2.set_ylabel("exact zeros (%)")
    ax2.set_ylim(0, 100)
    ax2.set_xticks(list(x))
    ax2.set_xticklabels(labels, rotation=60, ha="right", fontsize=8 if len(rows) < 30 else 6)
    ax2.legend()
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def save_figure(fig, path: str | os.PathLike) -> None:
    """Save a matplotlib figure as PNG atomically (a temp file renamed into place)."""
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110))
