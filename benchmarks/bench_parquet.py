"""ParquetTarget next to raw pyarrow, writing and reading the same table.

    python benchmarks/bench_parquet.py [--rows 2000000] [--repeat 3]

A table of N rows (int64 id, string category, float64 amount, timestamp) is written and read:

- as one file: ``ParquetTarget.write`` (staging file, fsync, atomic replace) against
  ``pyarrow.parquet.write_table`` to the final path; ``ParquetTarget.read`` against
  ``pyarrow.parquet.read_table``;
- as a dataset partitioned by category: ``ParquetTarget(partition_cols=...)`` (new files
  beside the old, then the ``_SUCCESS`` manifest) against ``pyarrow.parquet.write_to_dataset``;
  reading the manifest's files against ``pyarrow.parquet.read_table`` of the directory.

Best of --repeat, local disk. Ratio: dashpipe time / pyarrow time (below 1: faster).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from targets import ParquetTarget  # noqa: E402


def sample_table(rows: int) -> pa.Table:
    ids = pa.array(range(rows), pa.int64())
    categories = pc.cast(pc.add(pc.bit_wise_and(ids, 15), 0), pa.string())
    return pa.table(
        {
            "id": ids,
            "category": pc.binary_join_element_wise("cat-", categories, ""),
            "amount": pc.multiply(pc.cast(ids, pa.float64()), 0.25),
            "at": pc.cast(pc.multiply(ids, 1_000_000), pa.timestamp("us")),
        }
    )


def best_of(repeat: int, action: Callable[[int], object]) -> float:
    times = []
    for attempt in range(repeat):
        start = time.perf_counter()
        action(attempt)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    table = sample_table(args.rows)
    print(
        f"# {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"pyarrow {pa.__version__} · {time.strftime('%Y-%m-%d')} · {args.rows:,} rows"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-parquet-") as scratch:
        base = Path(scratch)
        raw_file, our_file = base / "raw.parquet", base / "ours.parquet"
        rows.append(
            (
                "one file: write",
                best_of(args.repeat, lambda _: pq.write_table(table, raw_file)),
                best_of(args.repeat, lambda _: ParquetTarget(str(our_file)).write(table)),
            )
        )
        rows.append(
            (
                "one file: read",
                best_of(args.repeat, lambda _: pq.read_table(raw_file)),
                best_of(args.repeat, lambda _: ParquetTarget(str(our_file)).read()),
            )
        )
        raw_dataset, our_dataset = base / "raw-dataset", base / "ours-dataset"

        def raw_partitioned(attempt: int) -> None:
            # A fresh directory each time: write_to_dataset adds files beside earlier ones.
            pq.write_to_dataset(table, base / f"raw-dataset-{attempt}", partition_cols=["category"])

        rows.append(
            (
                "dataset by category: write",
                best_of(args.repeat, raw_partitioned),
                best_of(
                    args.repeat,
                    lambda _: ParquetTarget(str(our_dataset), partition_cols=["category"]).write(table),
                ),
            )
        )
        raw_dataset = base / "raw-dataset-0"
        rows.append(
            (
                "dataset by category: read",
                best_of(args.repeat, lambda _: pq.read_table(raw_dataset)),
                best_of(
                    args.repeat, lambda _: ParquetTarget(str(our_dataset), partition_cols=["category"]).read()
                ),
            )
        )
        assert ParquetTarget(str(our_dataset), partition_cols=["category"]).read().num_rows == args.rows
    print(f"{'case':30} {'pyarrow s':>9} {'dashpipe s':>10} {'ratio':>6}")
    for case, raw, ours in rows:
        print(f"{case:30} {raw:9.3f} {ours:10.3f} {ours / raw:6.2f}")


if __name__ == "__main__":
    main()
