"""The start-up rows (workload 2): the two start-up targets, section 2, and the fields
the analysis quotes. Written by the full report, and by `only check` into a page."""

from __future__ import annotations

import os

from ..results import Settings
from ..workloads import check as wl
from .fmt import med, ms, ratio, verdict

LATER_ROWS = ", except the rows a note says come from a later run"
NOTE = "**The start-up rows were rerun"


def rows(data: dict) -> list[wl.Case]:
    """The rows measured: every tool but those left out with `--without`."""
    return wl.cases(data.get("without") or ())


def medians(s: Settings, data: dict) -> dict:
    runs = data["check"]["runs"]
    return {(n, case.id): med([r.ns for r in runs[(n, case.id)]]) / 1e9 for n in s.ns for case in rows(data)}


def cg_value(data: dict, key: str, field: str) -> int:
    return (data.get("callgrind") or {}).get(key, {}).get(field, 0)


def target_rows(s: Settings, data: dict) -> list[str]:
    n_max = max(s.ns)
    m = medians(s, data)
    raw, default, fast, rm = (m[(n_max, k)] for k in (wl.RAW_CHECK, wl.DEFAULT_CHECK, wl.FAST_CHECK, wl.RM_CHECK))
    small = data.get("callgrind_small") or {}
    others = ", ".join(
        f"N = {n}: {ratio(m[(n, wl.DEFAULT_CHECK)], m[(n, wl.RAW_CHECK)])}"
        + (f", instructions {small[n][1] / small[n][0]:.2f}x" if n in small else "")
        for n in s.ns if n != n_max)
    cg = ""
    cg_fast = ""
    if data.get("callgrind"):
        cg = (f"; instructions {cg_value(data, wl.CG_DEFAULT, 'total'):,} vs "
              f"{cg_value(data, wl.CG_RAW, 'total'):,} = "
              f"{cg_value(data, wl.CG_DEFAULT, 'total') / cg_value(data, wl.CG_RAW, 'total'):.2f}x")
        cg_fast = (f"; instructions {cg_value(data, wl.CG_FAST, 'total'):,} vs "
                   f"{cg_value(data, wl.CG_RM, 'total'):,} = "
                   f"{cg_value(data, wl.CG_FAST, 'total') / cg_value(data, wl.CG_RM, 'total'):.2f}x")
    # Judged on both measures: wall time is noisy on a shared machine, instructions are not.
    wall_ok = default <= 1.10 * raw
    judged = verdict(wall_ok) + " (wall time)"
    if data.get("callgrind"):
        cg_ok = cg_value(data, wl.CG_DEFAULT, "total") <= 1.10 * cg_value(data, wl.CG_RAW, "total")
        judged = verdict(wall_ok and cg_ok) + (
            "" if wall_ok == cg_ok else
            f": wall time {'within' if wall_ok else 'above'} 1.10x, instructions "
            f"{'within' if cg_ok else 'above'}")
    return [
        f"| start-up check, {n_max} applied: within 1.10x of the raw floor, on the default path "
        f"(the narrow history read) | {ms(default)} vs floor {ms(raw)} = {ratio(default, raw)} "
        f"({others}){cg} | {judged} |",
        f"| start-up check: match rusqlite_migration's header-only check, keeping the history "
        f"(the opt-in `fast_start(true)`) | {ms(fast)} vs {ms(rm)} = {ratio(fast, rm)}{cg_fast} | "
        f"{verdict(fast <= 1.10 * rm)} (within 1.10x, wall time), opt-in |",
    ]


BREAKDOWN_STEPS = {
    "open": "open the connection",
    "pragma_user_version": "first statement: `PRAGMA user_version` (reads the header)",
    "pragma_data_version": "`PRAGMA data_version`",
    "pragma_schema_version": "`PRAGMA schema_version`",
    "schema_load": "prepare the first statement naming a table: **the schema load**",
    "history_rows": "read every history row (all columns)",
}

CG_PARTS = (
    ("total", "the whole process"),
    ("prepare", "preparing statements (`prepare_with_flags`, includes the schema load)"),
    ("schema", "of which the schema load (`sqlite3InitOne`)"),
    ("step", "running them (`sqlite3_step`, every row)"),
    ("close", "closing the connection (`sqlite3_close`)"),
    ("rows", "the loop that reads the history rows into a `Vec` (their `sqlite3_step` included; migrate: `read_applied` less the prepare)"),
    ("open", "`Sqlite::open` (the connection and its `PRAGMA schema_version`)"),
    ("discovered", "`Migrator::discovered` (discovery's sort and the set's filter)"),
    ("read_applied", "`Backend::read_applied_unless_up_to_date` (its default: `read_applied`, with its prepare, schema load and rows, then the comparison)"),
    ("plan", "`plan::plan` (only when the history is not up to date)"),
    ("of_known", "`fingerprint::of_known` (only with a stored fingerprint)"),
    ("of_history", "`Fingerprint::of_history` (only when there is something to do)"),
)
MIGRATE_ONLY = ("open", "discovered", "read_applied", "plan", "of_known", "of_history")


def section(s: Settings, data: dict) -> list[str]:
    """Section 2 of the page."""
    check = data["check"]
    runs_by = check["runs"]
    n_max = max(s.ns)
    labels = wl.labels()
    lines: list[str] = []
    w = lines.append
    w("## 2. Start-up check with everything applied (a new process each time)")
    w("")
    if check.get("load"):
        before, after = check["load"]
        w(f"The machine's 1-minute load average was {before:.1f} when this workload started and "
          f"{after:.1f} when it ended (`nproc` = {os.cpu_count()}): other jobs share it, and "
          "wall times scale with that; the instruction counts below do not.")
        w("")
    w("In-process: open plus the call that finds nothing to do, median (min) and the median "
      "over the raw floor's of the same N. Process: spawn to exit, which adds the process "
      "start (the process floor row). migrate's default reads the history narrowly "
      "(`PRAGMA data_version`, then `SELECT version, checksum, complete` of its set); "
      "`fast_start(true)` (opt-in) reads `PRAGMA user_version` and `PRAGMA schema_version` "
      "instead, on a file whose migrations were applied with it on.")
    w("")
    w("| tool | " + " | ".join(f"N = {n} in-process" for n in s.ns) + f" | N = {n_max} process |")
    w("|---|" + "---|" * (len(s.ns) + 1))
    m = medians(s, data)
    for key in [case.id for case in rows(data)] + [wl.PROCESS_FLOOR]:
        cells = []
        for n in s.ns:
            runs = runs_by[(n, key)]
            if key == wl.PROCESS_FLOOR:
                cells.append("")
            else:
                cells.append(f"{ms(m[(n, key)])} ({ms(min(r.ns for r in runs) / 1e9)}) "
                             f"{ratio(m[(n, key)], m[(n, wl.RAW_CHECK)])}")
        runs = runs_by[(n_max, key)]
        process = f"{ms(med([r.wall for r in runs]))} ({ms(min(r.wall for r in runs))})"
        w(f"| {labels[key]} | " + " | ".join(cells) + f" | {process} |")
    w("")
    if data.get("breakdown"):
        w(f"Where a start-up check's time goes at N = {n_max} (`bench-raw breakdown`: each step "
          "on a fresh connection, median of 50 in one process):")
        w("")
        w("| step | raw floor's database | migrate's database |")
        w("|---|---|---|")
        for key, name in BREAKDOWN_STEPS.items():
            a = data["breakdown"]["raw"].get(key)
            b = data["breakdown"]["migrate"].get(key)
            w(f"| {name} | {ms(float(a) / 1e9) if a else ''} | {ms(float(b) / 1e9) if b else ''} |")
        w("")
    if data.get("callgrind"):
        w(f"Instructions (valgrind callgrind, one process, N = {n_max}; repeatable where "
          "wall time on this shared machine is not). Every function is counted "
          "(`callgrind_annotate --threshold=100`): \"not called\" means the function does "
          "not appear in the profile at all.")
        w("")
        w("| process | total | over the raw floor | schema load (`sqlite3InitOne`) | everything else |")
        w("|---|---|---|---|---|")
        raw_total = cg_value(data, wl.CG_RAW, "total")
        for key, c in data["callgrind"].items():
            schema = f"{c['schema']:,}" if c["schema"] else "0 (not called)"
            w(f"| {wl.CG_LABELS[key]} | {c['total']:,} | {c['total'] / raw_total:.2f}x | {schema} | "
              f"{c['total'] - c['schema']:,} |")
        w("")
        small = data.get("callgrind_small") or {}
        if small:
            w("The default against the floor at the smaller N (totals): " + "; ".join(
                f"N = {n}: {d:,} vs {r:,} = {d / r:.2f}x" for n, (r, d) in sorted(small.items())) + ".")
            w("")
        c = data["callgrind"].get(wl.CG_DEFAULT, {})
        r = data["callgrind"].get(wl.CG_RAW, {})
        if c and "prepare" in c:
            w(f"Where the instructions go, N = {n_max} (inclusive: a part includes what it "
              "calls, so the rows overlap and do not add up to the total):")
            w("")
            w("| part | migrate, the default | raw floor |")
            w("|---|---|---|")

            def cell(d, key):
                return f"{d.get(key, 0):,}" if d.get(key, 0) else "0 (not called)"

            for key, name in CG_PARTS:
                w(f"| {name} | {cell(c, key)} | {'' if key in MIGRATE_ONLY else cell(r, key)} |")
            w("")
    return lines


def note(s: Settings, data: dict) -> str:
    return (f"**The start-up rows were rerun on {data['startup_date']}** with `python3 "
            f"bench/run.py only check` ({s.reps_check or s.reps} repeats, N = "
            f"{', '.join(map(str, s.ns))}): the two start-up targets below, section 2 and "
            "the analysis's start-up subsection. Every other figure on this page comes from "
            "the full run named above, except where a table says otherwise."
            + (f" Left out of the rerun: {', '.join(data['without'])} (see the previous "
               "version of this page)." if data.get("without") else ""))


def fields(s: Settings, data: dict) -> dict:
    n_max = max(s.ns)
    m = medians(s, data)
    out = {"n": n_max}
    for key, case in (("raw_check", wl.RAW_CHECK), ("default", wl.DEFAULT_CHECK), ("fast", wl.FAST_CHECK),
                      ("rm", wl.RM_CHECK)):
        for n in s.ns:
            out[f"{key}_{n}"] = ms(m[(n, case)])
            out[f"{key}_ratio_{n}"] = ratio(m[(n, case)], m[(n, wl.RAW_CHECK)])
        out[key] = out[f"{key}_{n_max}"]
        out[f"{key}_ratio"] = out[f"{key}_ratio_{n_max}"]
    out["fast_ratio_rm"] = ratio(m[(n_max, wl.FAST_CHECK)], m[(n_max, wl.RM_CHECK)])
    for peer in wl.PEERS:
        # Left out with --without: not measured in this run.
        have = (n_max, peer) in m
        out[f"{peer}_check"] = ms(m[(n_max, peer)]) if have else "n/a"
        out[f"{peer}_check_ratio"] = ratio(m[(n_max, peer)], m[(n_max, wl.RAW_CHECK)]) if have else "n/a"
    for key, cg in (("raw", wl.CG_RAW), ("default", wl.CG_DEFAULT), ("fast", wl.CG_FAST),
                    ("miss", wl.CG_FAST_MISS), ("rm", wl.CG_RM)):
        total, schema = cg_value(data, cg, "total"), cg_value(data, cg, "schema")
        out[f"cg_{key}_total"] = f"{total:,}"
        out[f"cg_{key}_schema"] = f"{schema:,}"
        out[f"cg_{key}_rest"] = f"{total - schema:,}"
    raw_total = cg_value(data, wl.CG_RAW, "total") or 1
    out["cg_default_ratio"] = f"{cg_value(data, wl.CG_DEFAULT, 'total') / raw_total:.2f}x"
    out["cg_fast_ratio_rm"] = f"{cg_value(data, wl.CG_FAST, 'total') / (cg_value(data, wl.CG_RM, 'total') or 1):.2f}x"
    for key in (*wl.STARTUP_PATTERNS, "schema", "total"):
        out[f"cgd_{key}"] = f"{cg_value(data, wl.CG_DEFAULT, key):,}"
        out[f"cgr_{key}"] = f"{cg_value(data, wl.CG_RAW, key):,}"
    out["cgd_rows_extra"] = f"{cg_value(data, wl.CG_DEFAULT, 'rows') - cg_value(data, wl.CG_RAW, 'rows'):,}"
    out["cgd_step_extra"] = f"{cg_value(data, wl.CG_DEFAULT, 'step') - cg_value(data, wl.CG_RAW, 'step'):,}"
    for n in s.ns[:-1]:
        r, d = (data.get("callgrind_small") or {}).get(n, (0, 0))
        out[f"cg_default_ratio_{n}"] = f"{d / r:.2f}x" if r else "n/a"
    out["cgd_target"] = f"{int(1.10 * cg_value(data, wl.CG_RAW, 'total')):,}"
    out["cgd_extra"] = f"{cg_value(data, wl.CG_DEFAULT, 'total') - cg_value(data, wl.CG_RAW, 'total'):,}"
    out["cgd_hashes"] = f"{cg_value(data, wl.CG_DEFAULT, 'of_known') + cg_value(data, wl.CG_DEFAULT, 'of_history'):,}"
    return out
