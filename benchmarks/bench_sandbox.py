"""Sandbox scale: load a production-sized schema once, then clone it per run.

    python benchmarks/bench_sandbox.py [--tables 100] [--clones 20] [--sandbox-url URL]

Measures the one-time template load (psql), a cached second load (hash hit),
and the clone that every verification and eval case pays instead of reloading.
Peer: reloading the SQL into a fresh database each time.
"""

from __future__ import annotations

import argparse
import statistics
import time

from schema_gen import production_schema

from migagent.tools.sandbox import Sandbox


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", type=int, default=100)
    parser.add_argument("--clones", type=int, default=20)
    parser.add_argument("--sandbox-url")
    args = parser.parse_args()

    sql = production_schema(args.tables) + f"-- run {time.time()}\n"  # defeat the template cache
    sandbox = Sandbox.open(args.sandbox_url)
    print(f"server {sandbox.version}; schema: {args.tables} tables, {sql.count(chr(10))} lines")

    t = time.perf_counter()
    template = sandbox.template_from_sql(sql)
    load = time.perf_counter() - t
    t = time.perf_counter()
    sandbox.template_from_sql(sql)
    cached = time.perf_counter() - t

    clones = []
    for _ in range(args.clones):
        t = time.perf_counter()
        with sandbox.scratch(template):
            clones.append(time.perf_counter() - t)  # create + (on exit) drop timed apart below
    drops = []
    for _ in range(args.clones):
        name = sandbox.create_database(template)
        t = time.perf_counter()
        sandbox.drop_database(name)
        drops.append(time.perf_counter() - t)

    reloads = []
    for _ in range(3):
        with sandbox.scratch() as db:
            t = time.perf_counter()
            sandbox.load_sql(db.url, sql)
            reloads.append(time.perf_counter() - t)

    clone = statistics.median(clones)
    reload = statistics.median(reloads)
    print(f"template load (once):       {load * 1000:8.1f} ms")
    print(f"template load (cached hit): {cached * 1000:8.1f} ms")
    print(f"clone (median of {args.clones}):       {clone * 1000:8.1f} ms")
    print(f"drop (median of {args.clones}):        {statistics.median(drops) * 1000:8.1f} ms")
    print(f"reload SQL (median of 3):   {reload * 1000:8.1f} ms")
    print(f"clone is {reload / clone:.0f}x faster than reloading the schema")


if __name__ == "__main__":
    main()
