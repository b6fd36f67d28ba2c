"""CPU time from /proc: the machine's, and a PostgreSQL server's."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from ..proc import Run, spawn


def machine_ticks(stat: str) -> tuple[int, int, int]:
    """(all, busy, waiting for I/O) from the first line of /proc/stat."""
    fields = [int(x) for x in stat.split("\n", 1)[0].split()[1:]]
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal
    idle, iowait = fields[3], fields[4]
    return total, total - idle - iowait, iowait


def cpu_ticks() -> tuple[int, int, int]:
    """The whole machine's CPU time so far, in ticks: (all, busy, waiting for I/O)."""
    return machine_ticks(Path("/proc/stat").read_text())


def process_ticks(stat: str, children: bool) -> int:
    """utime + stime (and, with `children`, cutime + cstime) from a /proc/PID/stat line:
    fields 14 to 17 of proc(5), counted from the state after the command's `)`."""
    fields = stat.rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15 if children else 13])


def postmaster() -> int | None:
    """The pid of a PostgreSQL server running on this machine (a `postgres` process whose
    parent is not one), or None."""
    def comm(pid: str) -> str:
        try:
            return Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            return ""

    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and comm(proc.name) in ("postgres", "postmaster"):
            status = (proc / "status").read_text()
            parent = re.search(r"^PPid:\s+(\d+)", status, re.M).group(1)
            if comm(parent) not in ("postgres", "postmaster"):
                return int(proc.name)
    return None


def server_cpu_ticks(pid: int | None) -> int | None:
    """The CPU time of the PostgreSQL server `pid` so far, in ticks: its own, its live
    processes' (checkpointer, WAL writer, backends) and that of the processes it has
    reaped (each backend, once its connection closed)."""
    if pid is None:
        return None
    try:
        total = process_ticks(Path(f"/proc/{pid}/stat").read_text(), True)
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    if re.search(rf"^PPid:\s+{pid}$", (proc / "status").read_text(), re.M):
                        total += process_ticks((proc / "stat").read_text(), False)
                except OSError:
                    pass  # gone meanwhile: reaped, so counted in the server's own
        return total
    except OSError:
        return None


def spawn_machine(cmd: list, server: int | None = None) -> Run:
    """`spawn`, with the share of the machine's CPUs that were busy while it ran (every
    process: the PostgreSQL server's too, and whatever else this shared machine ran) as
    `run.machine = (busy, iowait)`, each in CPUs (0 to `nproc`); with `server` (a
    postmaster's pid), the CPUs the server kept busy meanwhile as `run.server_cpus`
    (its other clients' work included)."""
    before, server_before = cpu_ticks(), server_cpu_ticks(server)
    run = spawn(cmd)
    time.sleep(0.05)  # the last backend exits and is reaped
    after, server_after = cpu_ticks(), server_cpu_ticks(server)
    total = max(after[0] - before[0], 1)
    cpus = os.cpu_count() or 1
    run.machine = ((after[1] - before[1]) / total * cpus, (after[2] - before[2]) / total * cpus)
    run.server_cpus = (None if server_before is None or server_after is None else
                       (server_after - server_before) / os.sysconf("SC_CLK_TCK") / run.wall)
    return run
