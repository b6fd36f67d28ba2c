"""Running things: a process timed from spawn to exit, cargo, scratch files."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
TARGET = BENCH / "target"
RELEASE = TARGET / "release"
SCRATCH = TARGET / "scratch"
ENV = dict(os.environ, RUST_BACKTRACE="0", RUST_LOG="off")
GNU_TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Run:
    """One process: wall time, CPU time and max RSS from wait4(), and its `key=value` lines.
    The fan-out adds `machine` (busy and I/O-waiting CPUs meanwhile) and `server_cpus`."""

    wall: float
    cpu: float
    rss_kib: int
    values: dict[str, str]
    machine: tuple[float, float] | None = None
    server_cpus: float | None = None

    @property
    def ns(self) -> float:
        return float(self.values["ns"])

    def to_json(self) -> dict:
        out = {"wall": self.wall, "cpu": self.cpu, "rss_kib": self.rss_kib, "values": self.values}
        if self.machine is not None:
            out["machine"] = list(self.machine)
        if self.server_cpus is not None:
            out["server_cpus"] = self.server_cpus
        return out

    @classmethod
    def from_json(cls, value: dict) -> Run:
        machine = value.get("machine")
        return cls(value["wall"], value["cpu"], value["rss_kib"], dict(value["values"]),
                   tuple(machine) if machine is not None else None, value.get("server_cpus"))


def parse_values(output: str) -> dict[str, str]:
    """The `key=value` lines of a tool's output (lowercase keys, values without spaces)."""
    return dict(
        line.split("=", 1) for line in output.splitlines() if re.fullmatch(r"[a-z_0-9]+=\S+", line)
    )


def spawn(cmd: list, cwd: Path | None = None) -> Run:
    """Runs `cmd` to its end. Max RSS comes from GNU time when present: a child forked by
    this Python process would report Python's own RSS as its peak (Linux keeps the
    high-water mark of the memory it had before exec)."""
    rss_file = SCRATCH / "maxrss.txt"
    prefix = [GNU_TIME, "-f", "%M", "-o", str(rss_file)] if GNU_TIME else []
    start = time.perf_counter()
    process = subprocess.Popen(
        [*prefix, *map(str, cmd)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env=ENV,
    )
    output = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(map(str, cmd))}\n{output}")
    rss = int(rss_file.read_text().split()[-1]) if GNU_TIME else usage.ru_maxrss
    return Run(wall, usage.ru_utime + usage.ru_stime, rss, parse_values(output))


def cargo(args: list[str], cwd: Path | None = None, target_dir: Path | None = None) -> tuple[float, str]:
    """`cargo ARGS`, its wall time and its stderr; exits on a failure."""
    env = dict(ENV)
    if target_dir is not None:
        env["CARGO_TARGET_DIR"] = str(target_dir)
    start = time.perf_counter()
    done = subprocess.run(["cargo", *args], cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"cargo {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return wall, done.stderr


def fresh(path: Path) -> Path:
    """`path` with no SQLite file (nor its journal, WAL or shared memory) there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:48]


def copy_to(source: Path, path: Path) -> Path:
    """A copy of `source` at `path`, on disk before it is used: otherwise the migration's
    commit would pay for flushing the copy (its fsync writes every dirty page of the file)."""
    shutil.copyfile(source, fresh(path))
    with path.open("rb+") as f:
        os.fsync(f.fileno())
    return path


def copy_db(source: Path, dest: Path) -> Path:
    shutil.copy(source, fresh(dest))
    return dest


def new_scratch() -> None:
    """An empty bench/target/scratch/."""
    if SCRATCH.exists():
        shutil.rmtree(SCRATCH)
    SCRATCH.mkdir(parents=True)
