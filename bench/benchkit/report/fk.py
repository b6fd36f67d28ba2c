"""Workload 6's table, which the analysis quotes (and `only fk` prints)."""

from __future__ import annotations

from ..workloads.fk import ROWS
from .fmt import count, med, ms


def table(data: dict) -> str:
    """The figures of workload 6 as a markdown table."""
    lines = [
        "| `children` rows (untouched) | median wall time | instructions, whole process | of which `Backend::check` |",
        "|---|---|---|---|",
    ]
    for rows in ROWS:
        runs = data["runs"][rows]
        cg = data["callgrind"].get(f"fk-{rows}", {})
        lines.append(
            f"| {rows:,} | {ms(med([r.ns / 1e9 for r in runs]))} | "
            f"{count(cg.get('total'))} | {count(cg.get('fk_check'))} |"
        )
    return "\n".join(lines)
