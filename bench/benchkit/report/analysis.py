"""The hand-written analysis (bench/analysis.md) with its {placeholders} filled in from
the run, so its figures are the run's too."""

from __future__ import annotations

from ..results import Settings
from ..tools import TOOL_NAMES
from ..workloads import apply
from . import fanout, fk, postgres, splice, startup
from .fmt import med, ms, ratio, signed_mib


def fill(text: str, s: Settings, data: dict, v: dict) -> str:
    """The hand-written analysis (bench/analysis.md) with {placeholders} filled in from
    this run, so its figures are this run's too."""
    fields = {
        "n": max(s.ns),
        **startup.fields(s, data),
        "disc_first": ms(v["disc_first"]), "disc_proto": ms(v["disc_proto"]),
        "empty_cmp": f"{v['empty_cmp']:.0f} ns",
        "per": f"{v['per']:.2f}x", "one": f"{v['one']:.2f}x",
        "per_wal": f"{v['per_wal']:.2f}x", "one_wal": f"{v['one_wal']:.2f}x",
        "rss_per": signed_mib(v["rss_per"]),
        "rss_one": signed_mib(v["rss_one"]),
        "cg_disc": f"{data.get('callgrind_discovery', {}).get('discovery', 0):,}",
        "macro_deps": data.get("macro_deps", ""),
        **{f"b_{tool}_{key}": (
            (f"{data['build'][tool][key]:.0f} s" if key == "clean" else
             f"{data['build'][tool][key]:.1f} s" if key == "rebuild" else str(data["build"][tool][key]))
            if data.get("build") else "n/a")
           for tool in TOOL_NAMES for key in ("clean", "rebuild", "clean_crates")},
        **{f"b_{tool}_crates": (str(data["build"][tool]["clean_crates"]) if data.get("build") else "n/a")
           for tool in TOOL_NAMES},
        **{f"cga_{side}_{key}": f"{data.get('callgrind_apply', {}).get(label, {}).get(key, 0):,}"
           for side, label in (("raw", apply.RAW_ONE), ("aon", apply.MIGRATE_AON))
           for key in ("total", "history_row", "fk_check", "fingerprint")},
        "fk_table": fk.table(data["fk"]) if data.get("fk") else "(workload 6 did not run)",
        "fsync_migrate": f"{data.get('fsync', {}).get(('delete', apply.MIGRATE), float('nan')):.2f}",
        "fsync_raw": f"{data.get('fsync', {}).get(('delete', apply.RAW_PER), float('nan')):.2f}",
        "fsync_diesel": f"{data.get('fsync', {}).get(('delete', 'diesel'), float('nan')):.2f}",
        **peer_fields(s, data),
        **{f"cgp_{side}_{key}": f"{data.get('callgrind_apply_per', {}).get(label, {}).get(key, 0):,}"
           for side, label in (("raw", "raw-per"), ("migrate", "migrate-per"))
           for key in ("total", "history_row", "fk_check", "begin", "schema_read")},
        "cgp_ratio": (f"{data['callgrind_apply_per']['migrate-per']['total'] / data['callgrind_apply_per']['raw-per']['total']:.2f}x"
                      if data.get("callgrind_apply_per") else "n/a"),
        "cgp_schema_share": (f"{100 * data['callgrind_apply_per']['migrate-per']['schema_read'] / data['callgrind_apply_per']['migrate-per']['total']:.0f}%"
                             if data.get("callgrind_apply_per") else "n/a"),
        **postgres.fields(data),
        **fanout.fields(data),
        **{f"v_{tool}": data.get("versions", {}).get(tool, "?") for tool in TOOL_NAMES},
        **{f"c_{tool}": data.get("crates", {}).get(tool, "?") for tool in TOOL_NAMES},
    }
    return text.format(**fields)


def peer_fields(s: Settings, data: dict) -> dict:
    """diesel's apply figures at the largest N against the raw per-migration floor and
    migrate, for the analysis."""
    apply_r = data["apply"]
    n_max = max(s.ns)
    fields = {}
    for journal in s.journals:
        def m(key):
            runs = apply_r.get((n_max, journal, "per", key))
            return med([r.ns for r in runs]) if runs else float("nan")

        suffix = "" if journal == "delete" else f"_{journal}"
        fields[f"diesel_apply{suffix}"] = ms(m("diesel") / 1e9)
        fields[f"diesel_per{suffix}"] = ratio(m("diesel"), m(apply.RAW_PER))
        fields[f"diesel_vs_migrate{suffix}"] = ratio(m("diesel"), m(apply.MIGRATE))
        fields[f"sqlx_per{suffix}"] = ratio(m("sqlx"), m(apply.RAW_PER))
        fields[f"refinery_per{suffix}"] = ratio(m("refinery"), m(apply.RAW_PER))
    return fields


def part(text: str, region_id: str) -> str:
    """The body of one of the analysis's regions (`analysis-intro`, `analysis-startup`,
    `analysis-postgres`, `analysis-fanout`), its placeholders not filled in."""
    body = splice.region(text, region_id)
    if body is None:
        raise SystemExit(f"bench/analysis.md has no region {region_id}")
    return body
