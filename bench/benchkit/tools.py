"""The benchmark's tools (bench/tools/<tool>/, each its own Cargo workspace): their
binaries, their builds, and the versions they link."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .proc import BENCH, RELEASE, ROOT, TARGET, cargo, log, spawn


@dataclass(frozen=True)
class Tool:
    """One tool: its folder under bench/tools/, its binary, the crates the report names."""

    name: str
    binary: str
    crates: tuple[str, ...]

    @property
    def manifest(self) -> Path:
        return BENCH / "tools" / self.name / "Cargo.toml"

    @property
    def lock(self) -> Path:
        return BENCH / "tools" / self.name / "Cargo.lock"


TOOLS = [
    Tool("raw", "bench-raw", ("rusqlite",)),
    Tool("migrate", "migrate-n10", ("rusqlite",)),
    Tool("rusqlite_migration", "bench-rusqlite-migration", ("rusqlite_migration", "rusqlite")),
    Tool("refinery", "bench-refinery", ("refinery", "rusqlite")),
    Tool("sqlx", "bench-sqlx", ("sqlx", "libsqlite3-sys", "tokio")),
    Tool("diesel", "bench-diesel", ("diesel", "diesel_migrations", "libsqlite3-sys")),
]
TOOL_NAMES = [tool.name for tool in TOOLS]


def binary(name: str) -> Path:
    return RELEASE / name


RAW = binary("bench-raw")
RUSQLITE_MIGRATION = binary("bench-rusqlite-migration")
REFINERY = binary("bench-refinery")
SQLX = binary("bench-sqlx")
DIESEL = binary("bench-diesel")
FANOUT = binary("migrate-fanout")


def migrate_bin(n: int) -> Path:
    return binary(f"migrate-n{n}")


def migrate_pg_bin(n: int) -> Path:
    return binary(f"migrate-pg-n{n}")


def build(names: list[str], only: dict[str, list[str]] | None = None) -> None:
    """`cargo build --release` of each named tool into bench/target/ (`only`: a tool's
    `--bin` arguments)."""
    log("building the tools (release)")
    for name in names:
        manifest = BENCH / "tools" / name / "Cargo.toml"
        extra = (only or {}).get(name, [])
        wall, _ = cargo(["build", "--release", *extra, "--manifest-path", str(manifest)], target_dir=TARGET)
        log(f"  {name}: {wall:.0f} s")


def locked_versions(lock_text: str, names: tuple[str, ...]) -> str:
    """"name version, ..." of the crates `names` found in a Cargo.lock's text."""
    found = []
    for name in names:
        match = re.search(rf'name = "{re.escape(name)}"\nversion = "([^"]+)"', lock_text)
        if match:
            found.append(f"{name} {match.group(1)}")
    return ", ".join(found)


def crate_versions() -> dict[str, str]:
    """Each tool's crates as its lock file pins them."""
    return {tool.name: locked_versions(tool.lock.read_text(), tool.crates) for tool in TOOLS}


def sqlite_versions() -> dict[str, str]:
    """The SQLite each tool links, as it prints it."""
    return {tool.name: spawn([binary(tool.binary), "version"]).values["sqlite"] for tool in TOOLS}


def dependency_names(manifest_text: str) -> list[str]:
    """The names in a Cargo.toml's `[dependencies]` table."""
    section = manifest_text.split("[dependencies]", 1)[1].split("\n[", 1)[0]
    return [line.split("=")[0].split(".")[0].strip() for line in section.splitlines() if "=" in line]


def macro_dependencies() -> tuple[str, bool]:
    """migrate-macros's dependencies, and whether they are only what it uses."""
    names = dependency_names((ROOT / "migrate-macros" / "Cargo.toml").read_text())
    return ", ".join(names), set(names) <= {"proc-macro2", "quote", "syn"}
