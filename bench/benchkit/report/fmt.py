"""How the page writes numbers."""

from __future__ import annotations

import statistics


def med(values: list[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    """Milliseconds, with three significant figures or more: `1,234 ms`, `12.3 ms`,
    `1.23 ms`, `0.123 ms`."""
    value = seconds * 1000
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    if value >= 1:
        return f"{value:.2f} ms"
    return f"{value:.3f} ms"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def signed_mib(kib: float) -> str:
    """`+1.5 MiB`, `-0.2 MiB`: a difference of memory."""
    return f"{'+' if kib >= 0 else ''}{mib(kib)}"


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def count(value: int | None) -> str:
    """`1,234`, or `n/a` where nothing was measured."""
    return f"{value:,}" if value is not None else "n/a"
