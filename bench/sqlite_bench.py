"""SQLite under concurrent writers: storage.db's engine (WAL, synchronous=NORMAL, one writer per
process queued on a lock) against the engine as it was before (rollback journal, every
transaction BEGIN IMMEDIATE, threads waiting in SQLite's busy handler), in the same run.

    python bench/sqlite_bench.py [--threads 8] [-n 200] [--work-ms 2]

Each of --threads threads runs n transactions the shape of a chat request: BEGIN IMMEDIATE, read
a row, --work-ms of Python work (the handler; it holds the GIL, as a handler does), write it
back and add a row, COMMIT. Prints throughput and transaction latency percentiles for both, and
the ratios. With --readers R, R more threads read (DEFERRED, as /healthz and the calendar feeds
do on the new engine) and their latency is shown too.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, create_engine, event  # noqa: E402

from storage import db  # noqa: E402


def old_engine(url: str) -> Engine:
    """storage.db.make_engine for SQLite as it was before WAL and the writer lock."""
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def busy(ms: float) -> None:
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        pass


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] * 1000


def measure(name: str, engine: Engine, reader: Engine, threads: int, n: int, work_ms: float, readers: int) -> dict:
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (1, 0)")
        connection.exec_driver_sql("CREATE TABLE seen (id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL)")
    writes: list[float] = []
    reads: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    stop_reading = threading.Event()

    def writer(index: int) -> None:
        mine = []
        try:
            for i in range(n):
                start = time.perf_counter()
                with engine.begin() as connection:
                    value = connection.exec_driver_sql("SELECT n FROM counter WHERE id = 1").scalar_one()
                    busy(work_ms)
                    connection.exec_driver_sql(f"UPDATE counter SET n = {value + 1} WHERE id = 1")
                    connection.exec_driver_sql(f"INSERT INTO seen (key) VALUES ('{index}-{i}')")
                mine.append(time.perf_counter() - start)
        except BaseException as exc:  # counted below
            errors.append(exc)
        with lock:
            writes.extend(mine)

    def read_loop() -> None:
        mine = []
        while not stop_reading.is_set():
            start = time.perf_counter()
            with reader.begin() as connection:
                connection.exec_driver_sql("SELECT count(*) FROM seen").scalar()
            mine.append(time.perf_counter() - start)
            time.sleep(0.005)
        with lock:
            reads.extend(mine)

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    lookers = [threading.Thread(target=read_loop) for _ in range(readers)]
    start = time.perf_counter()
    for thread in workers + lookers:
        thread.start()
    for thread in workers:
        thread.join()
    seconds = time.perf_counter() - start
    stop_reading.set()
    for thread in lookers:
        thread.join()
    with engine.connect() as connection:
        total = connection.exec_driver_sql("SELECT n FROM counter").scalar_one()
    assert errors or total == threads * n, (total, threads * n)
    result = {
        "name": name,
        "throughput": len(writes) / seconds,
        "p50": percentile(writes, 50),
        "p95": percentile(writes, 95),
        "p99": percentile(writes, 99),
        "max": max(writes) * 1000,
        "errors": len(errors),
        "reads": reads,
    }
    line = (
        f"{name:<44} {len(writes):>5} tx  {result['throughput']:7.1f} tx/s   p50 {result['p50']:7.1f} ms   "
        f"p95 {result['p95']:7.1f} ms   p99 {result['p99']:7.1f} ms   max {result['max']:7.1f} ms   errors {len(errors)}"
    )
    if reads:
        line += f"   reads p50 {percentile(reads, 50):6.2f} ms p99 {percentile(reads, 99):6.2f} ms"
    print(line)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=8, help="writing threads (default 8)")
    parser.add_argument("-n", type=int, default=200, help="transactions per thread (default 200)")
    parser.add_argument("--work-ms", type=float, default=2.0, help="Python work inside each transaction (default 2)")
    parser.add_argument("--readers", type=int, default=2, help="reading threads besides (default 2)")
    args = parser.parse_args()
    print(
        f"SQLite, {args.threads} threads x {args.n} read-then-write transactions with {args.work_ms:g} ms of work "
        f"each, {args.readers} reading threads beside (Python {sys.version.split()[0]}, SQLite "
        f"{__import__('sqlite3').sqlite_version})"
    )
    with tempfile.TemporaryDirectory(prefix="sqlite-bench-") as folder:
        old_url = f"sqlite:///{folder}/old.db"
        old = old_engine(old_url)
        before = measure(
            "before: rollback journal, busy handler", old, old, args.threads, args.n, args.work_ms, args.readers
        )
        old.dispose()
        new = db.make_engine(f"sqlite:///{folder}/new.db")
        after = measure(
            "storage.db: WAL, one writer per process",
            new,
            db.reader(new),
            args.threads,
            args.n,
            args.work_ms,
            args.readers,
        )
        new.dispose()
    print(
        f"ratio new / before: throughput {after['throughput'] / before['throughput']:.2f}x; latency "
        f"p50 {after['p50'] / before['p50']:.2f}x, p95 {after['p95'] / before['p95']:.2f}x, "
        f"p99 {after['p99'] / before['p99']:.2f}x, max {after['max'] / before['max']:.2f}x"
    )
    if before["reads"] and after["reads"]:
        print(
            f"readers: p99 {percentile(after['reads'], 99):.2f} ms against {percentile(before['reads'], 99):.2f} ms "
            f"({percentile(after['reads'], 99) / percentile(before['reads'], 99):.2f}x)"
        )
    return 1 if before["errors"] or after["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
