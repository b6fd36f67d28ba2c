import unittest

import fixtures  # noqa: F401  (puts bench/ on the path)
from benchkit import proc, tools
from benchkit.measure import callgrind, cpu, strace

STRACE_C = """% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 97.52    0.123456         123      1000           fdatasync
  2.48    0.003000          30       100           fsync
------ ----------- ----------- --------- --------- ----------------
100.00    0.126456                  1100           total
"""

STRACE_YY = """1234  write(3<TCP:[127.0.0.1:40000->127.0.0.1:5432]>, "Q", 10) = 10
1234  sendto(3<TCPv6:[::1]:1->[::1]:5432>, "P", 5, MSG_NOSIGNAL, NULL, 0) = 5
1234  write(1</dev/pts/0>, "ns=1\\n", 5) = 5
1234  write(4<UNIX:[123]>, "x", 1) = 1
"""

ANNOTATED = """--------------------------------------------------------------------------------
Ir
--------------------------------------------------------------------------------
15,791,090 (100.0%)  PROGRAM TOTALS

Ir                   file:function
11,020,254 (69.79%)  sqlite3.c:sqlite3InitOne [/bench/target/release/migrate-n1000]
   211,624 ( 1.34%)  src/manager.rs:migrate_core::manager::Migrator::discovered [/bench/migrate-n1000]
       900 ( 0.01%)  src/manager.rs:migrate_core::manager::Migrator::discovered [/bench/migrate-n1000]
"""


class Parsers(unittest.TestCase):
    def test_tool_output_values(self):
        out = "starting\nns=12345\nconnect_ns=99\nsqlite=3.50.1\nNot=this\nspaced = no\nempty=\n"
        self.assertEqual(proc.parse_values(out), {"ns": "12345", "connect_ns": "99", "sqlite": "3.50.1"})

    def test_strace_summary_counts_both_syncs(self):
        self.assertEqual(strace.fsync_calls(STRACE_C), 1100)
        self.assertEqual(strace.fsync_calls(""), 0)

    def test_strace_counts_only_tcp_writes(self):
        self.assertEqual(strace.tcp_writes(STRACE_YY), 2)

    def test_callgrind_inclusive_takes_the_largest_match_and_zero_for_none(self):
        self.assertEqual(callgrind.inclusive(ANNOTATED, r"PROGRAM TOTALS"), 15_791_090)
        self.assertEqual(callgrind.inclusive(ANNOTATED, r"manager::Migrator::discovered \["), 211_624)
        self.assertEqual(callgrind.inclusive(ANNOTATED, r"never_called \["), 0)
        counts = callgrind.counts(ANNOTATED, {"discovered": r"manager::Migrator::discovered \["})
        self.assertEqual(counts, {"total": 15_791_090, "schema": 11_020_254, "discovery": 0, "discovered": 211_624})

    def test_proc_stat_lines(self):
        stat = "cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 1 2 3 4 5 6 7 8\n"
        self.assertEqual(cpu.machine_ticks(stat), (981, 161, 20))
        # pid (comm with ) and spaces) state ppid ... utime stime cutime cstime ...
        line = "42 (post gres) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"
        self.assertEqual(cpu.process_ticks(line, children=False), 11 + 12)
        self.assertEqual(cpu.process_ticks(line, children=True), 11 + 12 + 13 + 14)

    def test_lock_file_versions_and_manifest_dependencies(self):
        lock = '[[package]]\nname = "rusqlite"\nversion = "0.43.0"\n\n[[package]]\nname = "tokio"\nversion = "1.54.1"\n'
        self.assertEqual(tools.locked_versions(lock, ("rusqlite", "sqlx", "tokio")), "rusqlite 0.43.0, tokio 1.54.1")
        manifest = '[package]\nname = "m"\n\n[dependencies]\nsyn.workspace = true\nquote = "1"\n\n[dev-dependencies]\nx = "1"\n'
        self.assertEqual(tools.dependency_names(manifest), ["syn", "quote"])


if __name__ == "__main__":
    unittest.main()
