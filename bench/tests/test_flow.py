"""The subcommands end to end with every process faked: what each workload saves is
what the report reads (no tool, no server, no valgrind or strace)."""

import argparse
import io
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import fixtures  # noqa: F401  (puts bench/ on the path)
from benchkit import cli, results, tools
from benchkit.measure import strace
from benchkit.proc import Run
from benchkit.report import splice
from benchkit.workloads import apply, check, discovery, fanout, fk, postgres

VALUES = {
    "ns": "2000000", "sqlite": "3.50.4", "connect_ns": "500000", "migrator_discovered_ns": "1000",
    "warm_ns": "900", "empty_str_cmp_ns": "2", "server_version": "15.20", "synchronous_commit": "on",
    "fsync": "on", "wal_sync_method": "fdatasync", "open": "100000", "pragma_user_version": "20000",
    "pragma_data_version": "10000", "pragma_schema_version": "10000", "schema_load": "900000",
    "history_rows": "300000",
}


def fake_spawn(cmd, cwd=None):
    return Run(0.004, 0.003, 4096, dict(VALUES))


def fake_machine(cmd, server=None):
    run = fake_spawn(cmd)
    run.machine, run.server_cpus = (1.5, 0.1), (0.8 if server else None)
    return run


def fake_callgrind(cases, patterns=None):
    return {key: {"total": 2_000_000, "schema": 900_000, "discovery": 1000,
                  **{name: 1000 for name in (patterns or {})}} for key, _ in cases}


class Flow(unittest.TestCase):
    def setUp(self):
        self.folder = Path(tempfile.mkdtemp())
        (self.folder / "macros.toml").write_text('[dependencies]\nsyn = "2"\n')
        patches = [
            mock.patch("sys.stderr", io.StringIO()),
            mock.patch.object(results, "path", lambda kind: self.folder / f"{kind}.json"),
            mock.patch.object(tools, "build", lambda names, only=None: None),
            mock.patch.object(tools, "crate_versions", lambda: {t: "x 1.0" for t in tools.TOOL_NAMES}),
            mock.patch.object(cli, "new_scratch", lambda: None),
            mock.patch.object(strace, "available", lambda: False),
            mock.patch.object(postgres, "postmaster", lambda: 1, create=True),
            mock.patch.object(fanout, "postmaster", lambda: 1),
            mock.patch.object(fanout, "spawn_machine", fake_machine),
            mock.patch.object(fk, "copy_to", lambda source, path: path),
            mock.patch.object(check, "copy_db", lambda source, dest: dest),
        ]
        for module in (tools, apply, check, discovery, fk, postgres, fanout):
            patches.append(mock.patch.object(module, "spawn", fake_spawn))
        for module in (apply, check, discovery, fk, postgres):
            patches.append(mock.patch.object(module, "callgrind", fake_callgrind))
        for patch in patches:
            patch.start()
            self.addCleanup(patch.stop)

    def args(self, **values):
        defaults = {"quick": False, "reps": 2, "out": self.folder / "performance.md", "no_build_cost": True,
                    "without": [], "fanout_count": 20, "fanout_pg_count": 4, "part": "page"}
        return argparse.Namespace(**{**defaults, **values})

    def test_a_quick_run_saves_what_its_report_reads(self):
        cli.cmd_run(self.args(quick=True))
        page = (self.folder / "performance.md").read_text()
        self.assertIn("Written by `python3 bench/run.py run --quick`", page)
        self.assertEqual(splice.regions(page), ["written", "targets", "startup", "postgres", "fanout"])
        saved, settings = results.load("quick")
        self.assertEqual(settings.ns, [10, 100])
        (self.folder / "performance.md").unlink()
        cli.cmd_report(self.args(quick=True))
        self.assertEqual((self.folder / "performance.md").read_text(), page)

    def test_a_full_run_then_each_partial_run_merges_into_it(self):
        cli.cmd_run(self.args())
        page = (self.folder / "performance.md").read_text()
        self.assertIn("## 6. PostgreSQL: applying N and the start-up check", page)
        self.assertIn("Not measured in this run; `python3 bench/run.py only fanout` measures it.", page)
        cli.only_fanout(self.args(reps=1))
        merged, _ = results.load("full")
        self.assertEqual(merged["fanout"]["sqlite"]["count"], 20)
        self.assertIn("### 7.1 SQLite: 20 files", (self.folder / "performance.md").read_text())
        cli.only_postgres(self.args(reps=1))
        self.assertEqual(results.load("full")[0]["postgres"]["reps"], 1)
        cli.only_check(self.args(reps=3, without=["sqlx"]))
        merged, settings = results.load("full")
        self.assertEqual(settings.reps_check, 3)
        self.assertEqual(merged["without"], ["sqlx"])
        # The same day's rerun: no note, but the rows are the rerun's, without sqlx's.
        startup = splice.region((self.folder / "performance.md").read_text(), "startup")
        self.assertIn("| diesel |", startup)
        self.assertNotIn("| sqlx |", startup)

    def test_partial_runs_without_a_full_run_write_into_the_page(self):
        cli.cmd_run(self.args())
        results.path("full").unlink()
        before = (self.folder / "performance.md").read_text()
        cli.only_postgres(self.args(reps=1))
        cli.only_fanout(self.args(reps=1))
        cli.only_check(self.args(reps=1))
        after = (self.folder / "performance.md").read_text()
        self.assertNotEqual(after, before)
        self.assertEqual(splice.regions(after), splice.regions(before))

    def test_only_fk_prints_its_table(self):
        with mock.patch("builtins.print") as printed:
            cli.only_fk(self.args(binary=Path("migrate-n10")))
        self.assertIn("| 1,000,000 |", printed.call_args[0][0])


if __name__ == "__main__":
    unittest.main()
