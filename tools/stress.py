"""Crash injection at scale (``make stress``): kill place order, cancellations and renewal
runs with SIGKILL at random points and check the database after each kill.

    python tools/stress.py --trials 1000            # a fresh base seed each run
    python tools/stress.py --trials 1000 --seed 7   # the same 1 000 trials again
    python tools/stress.py --replay 7-123           # one trial (the seed a failure names)

Prints a progress line while it runs (standard error) and ONE summary line at the end,
e.g. ``stress: 1000 trials (place order 250, …), 612 killed mid-transaction, 0 partial
writes, integrity ok``; exits 1 on any partial write or other failure (each is listed
with its seed, and the damaged database is kept). How a trial works:
``tests/stress/crash_harness.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "stress"))

import crash_harness as harness  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=None, help="base seed (default: random)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--replay", action="append", default=[], metavar="SEED",
                        help="run the trial with this seed (e.g. 7-123); repeatable")  # fmt: skip
    parser.add_argument("--folder", type=Path, default=None,
                        help="work folder (default: a temporary one, kept on failure)")  # fmt: skip
    args = parser.parse_args(argv)

    base = args.seed if args.seed is not None else int.from_bytes(os.urandom(3), "big")
    folder = args.folder or Path(tempfile.mkdtemp(prefix="billing-stress-"))
    specs = [{"seed": seed} for seed in args.replay] or None
    total = len(specs) if specs else args.trials
    tty = sys.stderr.isatty()
    if not specs:
        print(f"stress: base seed {base} (trial seeds {base}-0 … {base}-{total - 1})",
              file=sys.stderr)  # fmt: skip
    summary = harness.Summary()
    started = time.monotonic()
    last = 0.0
    for result in harness.run_trials(folder, total, base_seed=base, jobs=args.jobs, specs=specs):
        summary.add(result)
        now = time.monotonic()
        step = max(total // 10, 1)
        due = now - last > 0.5 if tty else summary.trials % step == 0
        if due or summary.trials == total:
            last = now
            line = (
                f"stress: {summary.trials}/{total} trials, {summary.partial} partial writes, "
                f"{len(summary.failures)} failures, {now - started:.0f} s"
            )
            print(f"\r{line}" if tty else line, end="" if tty else "\n", file=sys.stderr,
                  flush=True)  # fmt: skip
    if tty:
        print(file=sys.stderr)
    for note in summary.notes:
        print(f"note: {note}", file=sys.stderr)
    for failure in summary.failures:
        print(failure, file=sys.stderr)
    print(summary.line(), flush=True)
    if summary.ok:
        if args.folder is None:
            shutil.rmtree(folder, ignore_errors=True)
        return 0
    print(f"stress: databases of the failed trials kept in {folder}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
