"""Text forms of a count report: numbers with SI prefixes and the per-layer table.

>>> human(1234567, "MAC")
'1.23 MMAC'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mytorch.energy.count import CountReport


def human(n: float, unit: str = "") -> str:
    """1234567 -> '1.23 M' (k, M, G, T)."""
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {prefix}{unit}"
    return f"{n:.0f} {unit}".rstrip() if isinstance(n, int) or n == int(n) else f"{n:.3g} {unit}"


def _shape(shape) -> str:
    return "--" if shape is None else "[" + ", ".join(str(n) for n in shape) + "]"


def format_table(report: CountReport, max_depth: int | None = None) -> str:
    """The report as a fixed-width text table with a totals footer."""
    total = report.macs or 1
    rows = [("Layer (type)", "Output shape", "Params", "MACs", "Share")]
    for r in report.layers:
        if max_depth is not None and r.depth > max_depth:
            continue
        label = "  " * r.depth + (f"{r.name.rsplit('.', 1)[-1]} " if r.name else "") + f"({r.type})"
        rows.append(
            (
                label,
                _shape(r.output_shape),
                f"{r.params:,}",
                f"{r.macs:,}",
                f"{100 * r.macs / total:.1f}%",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    line = "=" * (sum(widths) + 8)

    def fmt(row):
        return "  ".join(
            [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
            + [c.rjust(w) for c, w in zip(row[2:], widths[2:])]
        )

    out = [line, fmt(rows[0]), line] + [fmt(r) for r in rows[1:]] + [line]
    other = ", ".join(f"{k} {human(v)}" for k, v in sorted(report.other_flops.items()))
    out += [
        f"Total params: {report.params:,} ({human(report.param_bytes, 'B')}); trainable: "
        f"{report.trainable_params:,}",
        f"Forward MACs: {report.macs:,} ({human(report.macs, 'MAC')}); FLOPs {human(report.flops)} "
        f"(2 x MACs + bias {human(report.bias_flops)} + other ops)",
        f"Other ops (FLOPs): {other or 'none'}",
        f"Activations kept for backward: {human(report.activation_bytes, 'B')}",
        f"Training step (forward + backward): {human(report.train_macs, 'MAC')}, "
        f"{human(report.train_flops, 'FLOP')}",
        line,
    ]
    return "\n".join(out)
