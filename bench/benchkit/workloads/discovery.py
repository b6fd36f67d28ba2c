"""Workload 3: discovery of 10,000 (and 1,000) registered migrations, first call in a
fresh process; the prototype sort beside it."""

from __future__ import annotations

from ..measure.callgrind import callgrind
from ..proc import log, spawn
from ..tools import migrate_bin

# The ids: `n<N>` is the library's discovery, `n<N>-proto` the bench code's sort.
CASES = [
    ("n10000", lambda: [migrate_bin(10000), "discover", 10000]),
    ("n10000-proto", lambda: [migrate_bin(10000), "proto-discover", 10000]),
    ("n1000", lambda: [migrate_bin(1000), "discover", 1000]),
    ("n1000-proto", lambda: [migrate_bin(1000), "proto-discover", 1000]),
]


def run(reps: int) -> dict:
    """{id: [Run]}."""
    results: dict = {}
    for _ in range(reps):
        for key, make in CASES:
            results.setdefault(key, []).append(spawn(make()))
    log("discovery done")
    return results


def instructions() -> dict:
    """Instructions of `discovered_migrations()` at 10,000 (callgrind), or {}."""
    return callgrind([("discovery", [migrate_bin(10000), "discover", 10000])]).get("discovery", {})
