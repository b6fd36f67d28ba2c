#!/usr/bin/env python3
"""The benchmark of migrate against its peers: `python3 bench/run.py --help`."""

from benchkit.cli import main

if __name__ == "__main__":
    main()
