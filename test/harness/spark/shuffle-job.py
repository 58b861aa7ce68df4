"""A wide-shuffle PySpark job for the spotguard test world.

Two actions share one shuffle:
  1. a count of ``sums`` runs the map stage (generate ``records`` pairs
     ``(i % keys, i)``, combine per key, write shuffle output) and a result
     stage that reads it;
  2. ``sums.map(...).reduce(...)`` reads the same shuffle again. When every map
     output is still registered the map stage is skipped; when some is lost it
     is re-run (a new attempt of the same stage).

The RDD API is used on purpose: an RDD reuses its shuffle across actions by
construction, so what happens between the two actions decides whether the map
stage runs again.

Files in --control-dir tell a test where the job is:
  ready.json     the application id and UI address, written once the
                 SparkContext is up
  map-done.json  after action 1 (keys counted, seconds)
  result.json    after action 2: the answer, the expected answer, correct,
                 seconds
  error.json     the traceback, when the job fails
With --pause the job waits for <control-dir>/continue before action 2 and for
<control-dir>/finish before stopping the SparkContext, so a test can act
between the stages and read the driver's REST API before the app ends.

Run with bin/spark-submit; the master and every setting come from there.
"""

import argparse
import json
import os
import sys
import time
import traceback
from operator import add

from pyspark import SparkContext

CHECKSUM_MOD = (1 << 61) - 1


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--control-dir", required=True)
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--keys", type=int, default=400_000)
    parser.add_argument("--map-partitions", type=int, default=6)
    parser.add_argument("--reduce-partitions", type=int, default=6)
    parser.add_argument("--first-read-delay", type=float, default=0.0,
                        help="seconds each task of action 1's reading stage waits before it reads:"
                             " a window in which a test can lose an executor mid-stage")
    parser.add_argument("--pause", action="store_true")
    parser.add_argument("--pause-timeout", type=float, default=600.0)
    return parser.parse_args(argv)


def write_json(control_dir, name, value):
    """Writes <control-dir>/<name> atomically, so a reader never sees half a file."""
    path = os.path.join(control_dir, name)
    with open(path + ".tmp", "w") as out:
        json.dump(value, out)
    os.replace(path + ".tmp", path)


def wait_for_file(control_dir, name, timeout):
    path = os.path.join(control_dir, name)
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout}s")
        time.sleep(0.1)


def pairs_of_partition(records, partitions):
    """The records of one map partition: a contiguous range of i, as (i % keys, i)."""

    def generate(index, keys):
        start = records * index // partitions
        end = records * (index + 1) // partitions
        return ((i % keys, i) for i in range(start, end))

    return generate


def count_after(delay):
    def count_partition(rows):
        if delay > 0:
            time.sleep(delay)
        yield sum(1 for _ in rows)

    return count_partition


def summarise(key_and_sum):
    key, total = key_and_sum
    return (1, total, (key * 1_000_003 + total) % CHECKSUM_MOD)


def merge_summaries(a, b):
    return (a[0] + b[0], a[1] + b[1], (a[2] + b[2]) % CHECKSUM_MOD)


def expected_summary(records, keys):
    """What action 2 must return, in closed form (no Spark involved)."""
    n_keys = min(keys, records)
    checksum = 0
    for key in range(n_keys):
        count = (records - 1 - key) // keys + 1
        total = count * key + keys * count * (count - 1) // 2
        checksum = (checksum + key * 1_000_003 + total) % CHECKSUM_MOD
    return (n_keys, records * (records - 1) // 2, checksum)


def run(args):
    sc = SparkContext()
    write_json(args.control_dir, "ready.json", {
        "appId": sc.applicationId,
        "uiWebUrl": sc.uiWebUrl,
        "sparkVersion": sc.version,
        "pid": os.getpid(),
    })

    generate = pairs_of_partition(args.records, args.map_partitions)
    keys = args.keys
    pairs = sc.parallelize(range(args.map_partitions), args.map_partitions).flatMap(
        lambda index: generate(index, keys))
    sums = pairs.reduceByKey(add, args.reduce_partitions)
    sums.setName("sums by key")

    started = time.monotonic()
    counted = sums.mapPartitions(count_after(args.first_read_delay)).sum()
    write_json(args.control_dir, "map-done.json", {
        "keys": counted,
        "seconds": round(time.monotonic() - started, 3),
    })

    if args.pause:
        wait_for_file(args.control_dir, "continue", args.pause_timeout)

    started = time.monotonic()
    answer = sums.map(summarise).reduce(merge_summaries)
    seconds = round(time.monotonic() - started, 3)
    expected = expected_summary(args.records, args.keys)
    write_json(args.control_dir, "result.json", {
        "answer": list(answer),
        "expected": list(expected),
        "correct": tuple(answer) == expected and counted == expected[0],
        "seconds": seconds,
    })

    if args.pause:
        wait_for_file(args.control_dir, "finish", args.pause_timeout)
    sc.stop()


def main(argv):
    args = parse_args(argv)
    os.makedirs(args.control_dir, exist_ok=True)
    try:
        run(args)
    except BaseException:
        write_json(args.control_dir, "error.json", {"traceback": traceback.format_exc()})
        raise


if __name__ == "__main__":
    main(sys.argv[1:])
