"""Scaling of ``validate`` with the number of image sets and of ``scan`` with the size of the
metadata (issue 12), each against a baseline measured in the same run.

    python benchmarks/bench_scaling.py [--repeat 3] [--sets 2000 4000 10000]

validate: entries with ``--sets`` image sets (the real-header-like fixture's set repeated, as
``bench_validate.py`` builds them), validated in-process with compiled schemas by the linear
driver and, as the baseline, by the same driver evaluating node by node with plain libxml2
(what ``validate`` did before issue 12; skipped above 4,000 sets, where it takes minutes); then
``python -m empiar_validate validate -q`` end to end in a fresh process. The per-set cost at the
largest size over the smallest says whether the cost is linear (1.0) or not.

scan: the sample dataset with metadata of 10,000 authors (JSON, 1 MB) and a YAML list of
15,000 authors (1 MB), end to end in a fresh process, against the same scan with the fixture
metadata; and the metadata parse in-process against the old way (``json.loads`` plus PyYAML's
pure-Python composer for line numbers; PyYAML's pure-Python loader for YAML).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def best(run, repeat: int) -> float:  # type: ignore[no-untyped-def]
    """Median seconds of ``repeat`` runs (one warm-up first)."""
    run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


CPU: list[float] = []  # CPU seconds (user + system) of each fresh process, in order


def fresh(args: list[str]) -> float:
    """Wall seconds of ``python -m empiar_validate ARGS``; its CPU seconds go to :data:`CPU`
    (steadier than wall time on a shared machine)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "empiar_validate", *args], cwd=ROOT,
                          capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1) or b"Traceback" in proc.stderr:
        raise SystemExit(proc.stderr.decode()[-2000:])
    return wall


def fresh_median(args: list[str], repeat: int) -> tuple[float, float]:
    """(median wall, median CPU) seconds of ``repeat`` fresh processes."""
    walls = [fresh(args) for _ in range(repeat)]
    return statistics.median(walls), statistics.median(CPU[-repeat:])


def validate_section(tmp: Path, sizes: list[int], repeat: int) -> None:
    from bench_validate import large_entry

    from empiar_validate.validation import load_schemas, validate_file
    from empiar_validate.validation import schematron_engine as engine

    schemas = load_schemas()
    per_set = {}
    print("validate: seconds, median of", repeat)
    print(f"  {'image sets':>10} {'linear':>8} {'node by node':>13} {'ratio':>6} "
          f"{'fresh process wall / CPU':>25}")
    for n in sizes:
        path = tmp / f"sets{n}.xml"
        path.write_text(large_entry(n), encoding="utf-8")
        assert validate_file(path, schemas).valid
        fast = best(lambda p=path: validate_file(p, schemas), repeat)
        per_set[n] = fast / n
        slow_text, ratio = "skipped", ""
        if n <= 4000:
            cls = engine._Libxml2
            cls.linear_uniqueness = cls.batch_checks = cls.split_unions = False
            try:
                slow = best(lambda p=path: validate_file(p, schemas), max(1, repeat // 2))
            finally:
                cls.linear_uniqueness = cls.batch_checks = cls.split_unions = True
            slow_text, ratio = f"{slow:.2f}", f"{slow / fast:.1f}x"
        wall, cpu = fresh_median(["validate", "-q", str(path)], repeat)
        print(f"  {n:>10} {fast:>8.2f} {slow_text:>13} {ratio:>6} {wall:>17.2f} / {cpu:.2f}"
              + ("   (target < 5 s)" if n == 10_000 else ""))
    lo, hi = min(sizes), max(sizes)
    print(f"  per-set cost at {hi} over {lo}: {per_set[hi] / per_set[lo]:.2f} "
          "(1.0 = linear; quadratic would be " f"{hi / lo:.1f})")


def scan_section(tmp: Path, repeat: int) -> None:
    import yaml

    from empiar_validate.scan import metadata

    base = json.loads((ROOT / "fixtures" / "metadata.json").read_text(encoding="utf-8"))
    authors = dict(base, authors=[{"name": f"('Author{i}', 'A')", "order_id": i}
                                  for i in range(10_000)])
    big_json = tmp / "authors10000.json"
    big_json.write_text(json.dumps(authors, indent=2), encoding="utf-8")
    listing = dict(base, authors=[{"name": f"('Author{i}', 'AB')", "order_id": i,
                                   "author_orcid": None} for i in range(15_000)])
    big_yaml = tmp / "authors15000.yaml"
    big_yaml.write_text(yaml.safe_dump(listing, sort_keys=False), encoding="utf-8")
    dataset, out = str(ROOT / "fixtures" / "dataset"), str(tmp / "entry.xml")
    small, small_cpu = fresh_median(
        ["scan", dataset, "--metadata", str(ROOT / "fixtures" / "metadata.json"), "-o", out,
         "-q"], repeat)
    print(f"scan of the sample dataset, fresh process, wall / CPU seconds (median of {repeat});"
          f" baseline: the fixture metadata {small:.2f} / {small_cpu:.2f}")
    for path in (big_json, big_yaml):
        wall, cpu = fresh_median(["scan", dataset, "--metadata", str(path), "-o", out, "-q"],
                                 repeat)
        size = path.stat().st_size / 1e6
        print(f"  {path.name} ({size:.2f} MB): {wall:.2f} / {cpu:.2f}, "
              f"{wall / small:.2f}x / {cpu / small_cpu:.2f}x the baseline"
              + ("   (target < 3 s)" if path == big_json else ""))
    text_json, text_yaml = big_json.read_text(), big_yaml.read_text()

    def old_json() -> None:
        json.loads(text_json)
        yaml.SafeLoader(text_json).get_single_node()  # the old line-number pass

    print("metadata parse in-process, seconds (median of", repeat, ")")
    new = best(lambda: metadata.load_metadata(str(big_json), "m.json"), repeat)
    old = best(old_json, max(1, repeat // 2))
    print(f"  JSON 10,000 authors: one parse {new:.3f}, old json + PyYAML composer {old:.3f}, "
          f"ratio {old / new:.1f}x (and the old code did it twice per command)")
    new = best(lambda: metadata.load_metadata(str(big_yaml), "m.yaml"), repeat)
    old = best(lambda: yaml.load(text_yaml, Loader=yaml.SafeLoader), max(1, repeat // 2))
    print(f"  YAML 15,000 authors: one parse {new:.3f}, old pure-Python PyYAML {old:.3f}, "
          f"ratio {old / new:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sets", type=int, nargs="+", default=[2000, 4000, 10000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        validate_section(Path(tmp), sorted(args.sets), args.repeat)
        scan_section(Path(tmp), args.repeat)


if __name__ == "__main__":
    main()
