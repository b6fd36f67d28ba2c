#!/usr/bin/env python3
"""Independent migrations at once on PostgreSQL: `python3 bench/indexes.py --help`."""

from benchkit.indexes import main

if __name__ == "__main__":
    main()
