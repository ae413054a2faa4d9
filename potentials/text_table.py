"""Fixed-width text tables, as the commands print them."""

from __future__ import annotations

from collections.abc import Sequence


def fixed_width_table(rows: Sequence[Sequence[str]], align_right: bool = False) -> str:
    """``rows`` (the first is the header) in columns two spaces apart, each as wide as its
    widest cell; cells padded on the right, or on the left with ``align_right``."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    pad = str.rjust if align_right else str.ljust
    return "\n".join(
        "  ".join(pad(cell, width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows)
