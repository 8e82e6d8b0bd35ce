"""Cost of ``empiar-validate validate``: a 1,000-image-set entry, and a small entry against the
cost of merely importing lxml and pyschematron.

    python benchmarks/bench_validate.py [--sets 1000] [--repeat 7]

It writes, into a temporary directory, the real-header-like fixture and an entry with ``--sets``
image sets (the fixture's image set repeated with distinct names and directories, so every rule
runs on every set and the entry is valid). It then reports medians of ``--repeat`` runs:

- in-process: parse + XSD + Schematron for the large entry, schemas already compiled;
- end to end: ``python -m empiar_validate validate -q FILE`` in a fresh process (interpreter
  start, imports, schema compilation, validation), for the large and the small entry;
- the floor: ``python -c "import lxml.etree, pyschematron"`` in a fresh process.

Targets (docs/performance.md): large entry <= 2 s end to end; small entry <= 1.5 x the floor.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "fixtures" / "xml" / "valid" / "real-header-like.xml"


def large_entry(sets: int) -> str:
    """The real-header-like fixture with its image set repeated ``sets`` times."""
    text = REAL.read_text(encoding="utf-8")
    match = re.search(r"    <imageSet>.*?</imageSet>\n", text, re.S)
    assert match is not None
    one = match.group(0)
    copies = []
    for i in range(sets):
        copy = one.replace("/data/CMG-fork_movies", f"/data/CMG-fork_movies_{i:04d}")
        copy = copy.replace("data/CMG-fork_movies/", f"data/CMG-fork_movies_{i:04d}/")
        copy = copy.replace("<name>Unaligned", f"<name>Session {i:04d}: unaligned")
        copies.append(copy)
    return text[: match.start()] + "".join(copies) + text[match.end():]


def median_seconds(run, repeat: int) -> float:
    run()  # warm the page cache and any lazy state
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(runs: list, repeat: int) -> list[tuple[float, float]]:
    """(median, minimum) seconds of each callable, the callables run in turn ``repeat`` times.

    The minimum is the better estimate of the intrinsic cost on a shared machine; the median
    says what a user typically waits."""
    for run in runs:
        run()
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for run, bucket in zip(runs, times, strict=True):
            start = time.perf_counter()
            run()
            bucket.append(time.perf_counter() - start)
    return [(statistics.median(bucket), min(bucket)) for bucket in times]


SPLIT = (
    "import time, sys; t0 = time.perf_counter(); import lxml.etree, pyschematron; "
    "t1 = time.perf_counter(); from empiar_validate.cli import main; "
    "rc = main(['validate', '-q', sys.argv[1]]); t2 = time.perf_counter(); "
    "sys.stderr.write(f'{t1 - t0} {t2 - t1}')"
)


def split_costs(path: Path, repeat: int) -> tuple[float, float]:
    """(imports of lxml + pyschematron, everything after them) inside fresh processes: less
    noisy than comparing two separate process timings on a busy machine."""
    imports, rest = [], []
    for _ in range(repeat):
        proc = subprocess.run([sys.executable, "-c", SPLIT, str(path)], capture_output=True,
                              cwd=ROOT, text=True)
        first, second = proc.stderr.split()[-2:]
        imports.append(float(first))
        rest.append(float(second))
    return statistics.median(imports), statistics.median(rest)


def fresh_process(args: list[str], *, expect: int = 0) -> None:
    proc = subprocess.run([sys.executable, *args], capture_output=True, cwd=ROOT)
    if proc.returncode != expect:
        raise SystemExit(f"{args}: exit {proc.returncode}\n{proc.stdout.decode()}"
                         f"{proc.stderr.decode()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from empiar_validate.validation import load_schemas, validate_file

    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "large.xml"
        big.write_text(large_entry(args.sets), encoding="utf-8")
        small = Path(tmp) / "small.xml"
        small.write_text(REAL.read_text(encoding="utf-8"), encoding="utf-8")

        schemas = load_schemas()
        result = validate_file(big, schemas)
        assert result.valid and not result.findings, result.findings[:3]

        in_process = median_seconds(lambda: validate_file(big, schemas), args.repeat)
        validate = ["-m", "empiar_validate", "validate", "-q"]
        # Fresh-process runs alternate, so load from other jobs hits all of them alike.
        big_cli, small_cli, floor = interleaved(
            [
                lambda: fresh_process([*validate, str(big)]),
                lambda: fresh_process([*validate, str(small)]),
                lambda: fresh_process(["-c", "import lxml.etree, pyschematron"]),
            ],
            args.repeat,
        )

        imports, after = split_costs(small, args.repeat)

    size_kb = len(large_entry(args.sets).encode()) // 1024
    print(f"entry with {args.sets} image sets ({size_kb} kB); seconds, median / min of "
          f"{args.repeat}")
    print(f"  validate in-process (schemas compiled):    {in_process:6.3f}")
    print(f"  validate, fresh process, end to end:       {big_cli[0]:6.3f} / {big_cli[1]:6.3f}"
          "   (target <= 2 s)")
    print("small entry (real-header-like, 1 image set)")
    print(f"  validate, fresh process, end to end:       {small_cli[0]:6.3f} / {small_cli[1]:6.3f}")
    print(f"  import lxml + pyschematron, fresh process: {floor[0]:6.3f} / {floor[1]:6.3f}")
    print(f"  ratio:                                     {small_cli[0] / floor[0]:6.2f} / "
          f"{small_cli[1] / floor[1]:6.2f}   (target <= 1.5 x)")
    print("  inside one process (median): import lxml + pyschematron "
          f"{imports:.3f} s, then schema compilation + validation {after:.3f} s")


if __name__ == "__main__":
    main()
