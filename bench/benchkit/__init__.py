"""The benchmark of migrate against its peers: `python3 bench/run.py --help`.

- `proc`: running a process (time, CPU, max RSS, its `key=value` lines) and cargo.
- `tools`: the benchmark's binaries (bench/tools/), building them, their versions.
- `workloads/`: one module per workload, each returning plain results keyed by ids.
- `measure/`: instruction counts (callgrind), system calls (strace), CPU ticks (/proc).
- `results`: the saved results, versioned JSON.
- `report/`: the page (docs/performance.md), its sections, the analysis, the splice.
- `cli`: the subcommands.
"""
