"""Instruction counts (valgrind's callgrind): repeatable where wall time is not."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from ..proc import ENV, TARGET, log, slug


def inclusive(annotated: str, pattern: str) -> int:
    """Inclusive instructions of the function matching `pattern` in `callgrind_annotate
    --inclusive=yes` output; 0 when it was never called (every called function is listed)."""
    best = 0
    for line in annotated.splitlines():
        if re.search(pattern, line):
            match = re.match(r"\s*([\d,]+)", line)
            if match:
                best = max(best, int(match.group(1).replace(",", "")))
    return best


def counts(annotated: str, patterns: dict[str, str] | None = None) -> dict[str, int]:
    """The whole process, the schema load (sqlite3InitOne), discovery, and each pattern."""
    out = {
        "total": inclusive(annotated, r"PROGRAM TOTALS"),
        "schema": inclusive(annotated, r"sqlite3\.c:sqlite3InitOne \["),
        "discovery": inclusive(annotated, r"discover\.rs:migrate_core::discover::discovered_migrations \["),
    }
    for key, pattern in (patterns or {}).items():
        out[key] = inclusive(annotated, pattern)
    return out


def callgrind(cases: list[tuple[str, list]], patterns: dict[str, str] | None = None) -> dict:
    """Instructions of each command (valgrind --tool=callgrind), keyed by the case's id:
    {id: counts}; {} without valgrind."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        return {}
    out_dir = TARGET / "callgrind"
    out_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for key, cmd in cases:
        out = out_dir / f"{slug(key)}.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *map(str, cmd)],
            env=ENV, capture_output=True, check=True,
        )
        annotated = subprocess.run(
            # --threshold=100: every function; the default (99) leaves out the smallest
            # ones, which then read as 0 here.
            ["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(out)],
            capture_output=True, text=True, check=True,
            # Elsewhere it resolves relative source paths and splits functions in two.
            cwd=out_dir,
        ).stdout
        results[key] = counts(annotated, patterns)
        if os.environ.get("BENCH_DEBUG"):
            for name, pattern in (patterns or {}).items():
                log(f"{key} {name} {pattern!r} -> {results[key][name]}")
    log("instruction counts done")
    return results
