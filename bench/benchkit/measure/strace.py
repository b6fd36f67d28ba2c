"""System calls (strace): fsync counts and the writes to a server's socket."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from ..proc import ENV, SCRATCH


def available() -> bool:
    return shutil.which("strace") is not None


def fsync_calls(summary: str) -> int:
    """fsync and fdatasync calls in the table of `strace -c`."""
    calls = 0
    for line in summary.splitlines():
        fields = line.split()
        if fields and fields[-1] in ("fsync", "fdatasync"):
            calls += int(fields[3])
    return calls


def count_fsyncs(command: list, out: Path) -> int:
    """fsync and fdatasync calls of `command` and the processes it starts."""
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["strace", "-f", "-c", "-e", "trace=fsync,fdatasync", "-o", str(out), *map(str, command)],
        env=ENV, capture_output=True, check=True,
    )
    return fsync_calls(out.read_text())


def tcp_writes(trace: str) -> int:
    """Writes to TCP sockets in an `strace -yy` trace (`-yy` names each descriptor's kind)."""
    return sum(
        1 for line in trace.splitlines()
        if re.search(r"\b(write|writev|sendto|sendmsg)\(\d+<TCPv?6?:", line)
    )


def socket_writes(command: list) -> int | None:
    """The writes the command's process makes to TCP sockets (here: the one to the server).
    A client that waits for the answer after each write makes one round trip per write,
    plus the last write, the Terminate message, which has no answer. None without strace."""
    if not available():
        return None
    out = SCRATCH / "strace" / "pg-writes.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["strace", "-f", "-qq", "-yy", "-e", "trace=write,writev,sendto,sendmsg", "-o", str(out),
         *map(str, command)],
        env=ENV, capture_output=True, check=True,
    )
    return tcp_writes(out.read_text())
