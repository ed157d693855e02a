#!/usr/bin/env python3
"""Resident memory of a process by mapped file, from a copy of /proc/PID/smaps.

Usage: bench/smaps_top.py SMAPS [N]   (bench/run.sh sdk keeps .run/bench-sdk/*.smaps)
Prints the N (default 25) largest mappings by Rss, summed over each file's
segments, with how much of it is private dirty (relocations, data, heap).
"""
import collections
import sys


def main():
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    rss = collections.Counter()
    dirty = collections.Counter()
    name = None
    with open(path) as f:
        for line in f:
            fields = line.split()
            if not fields:
                continue
            if "-" in fields[0] and not fields[0].endswith(":"):
                name = fields[5] if len(fields) > 5 else "[anon]"
            elif fields[0] == "Rss:":
                rss[name] += int(fields[1])
            elif fields[0] == "Private_Dirty:":
                dirty[name] += int(fields[1])
    print(f"{'Rss KiB':>8} {'dirty':>6}  mapping")
    for mapping, kib in rss.most_common(top):
        print(f"{kib:8d} {dirty[mapping]:6d}  {mapping}")
    print(f"{sum(rss.values()):8d} {sum(dirty.values()):6d}  total")


if __name__ == "__main__":
    main()
