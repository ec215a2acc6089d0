"""`make bench-setup [REFS="HEAD other-ref"]`: what a fresh clone costs before its first answer.

For each git ref: `git clone` this repository into a new temporary directory, check the ref out there, then time
`make plan` and then `make test` in that clone (wall seconds each, as a new developer or CI would run them). Caches
are COLD and private to each ref: PIP_CACHE_DIR, UV_CACHE_DIR and XDG_CACHE_HOME point at fresh empty directories
inside that ref's temporary directory, so one ref never warms the other (nor does the machine's own cache).

Everything else is the caller's environment (PATH decides whether a `uv` is found; the Makefile bootstraps one
otherwise). Only committed content is measured: uncommitted changes are not in the clone.

Output of each make run goes to build/setup-timing/<n>-<commit>-{plan,test}.log. A table is printed and
build/setup-timing.json written: ref, commit, plan_s, test_s, their exit codes and the test count of pytest's
last summary line. Timings are measured, never asserted; the exit code is 1 when a make run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
# A nested make must behave as one typed in a fresh shell, not as a child of `make bench-setup`.
DROPPED_ENV = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")
PYTEST_SUMMARY = re.compile(r"\b\d+ (?:passed|failed|errors?)\b.* in [\d.]+s")
PYTEST_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)\b")


@dataclass
class RefTiming:
    ref: str
    commit: str
    plan_s: float
    plan_exit: int
    test_s: float
    test_exit: int
    tests: int | None  # tests pytest reported (passed + failed + errors + ...), None without a summary line
    tests_passed: int | None
    pytest_summary: str | None
    plan_log: str
    test_log: str


def git(repo: Path, *args: str) -> str:
    completed = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return completed.stdout.strip()


def cold_env(scratch: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in DROPPED_ENV}
    for variable, name in (("PIP_CACHE_DIR", "pip"), ("UV_CACHE_DIR", "uv"), ("XDG_CACHE_HOME", "xdg")):
        directory = scratch / "cache" / name
        directory.mkdir(parents=True)
        env[variable] = str(directory)
    return env


def timed_make(target: str, clone: Path, env: dict[str, str], log: Path, timeout_s: float) -> tuple[float, int]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        start = time.perf_counter()
        try:
            completed = subprocess.run(
                ["make", target],
                cwd=clone,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout_s,
                check=False,
            )
            code = completed.returncode
        except subprocess.TimeoutExpired:
            out.write(f"\nsetup_timing: `make {target}` timed out after {timeout_s:.0f} s\n")
            code = -1
        return round(time.perf_counter() - start, 2), code


def pytest_summary(log: Path) -> str | None:
    """pytest's last summary line (e.g. `454 passed, 2 warnings in 31.02s`), if the log has one."""
    lines = [line.strip("= \n") for line in log.read_text(errors="replace").splitlines()]
    return next((line for line in reversed(lines) if PYTEST_SUMMARY.search(line)), None)


def count_tests(summary: str | None) -> tuple[int | None, int | None]:
    """(all tests reported, passed) from a pytest summary line."""
    if summary is None:
        return None, None
    counts = {kind: int(n) for n, kind in PYTEST_COUNT.findall(summary)}
    return sum(counts.values()), counts.get("passed", 0)


def measure(repo: Path, ref: str, index: int, *, logs: Path, timeout_s: float, keep: bool) -> RefTiming:
    commit = git(repo, "rev-parse", "--verify", f"{ref}^{{commit}}")
    scratch = Path(tempfile.mkdtemp(prefix="setup-timing-"))
    try:
        clone = scratch / "repo"
        git(repo, "clone", "--quiet", "--no-checkout", str(repo), str(clone))
        git(clone, "checkout", "--quiet", "--detach", commit)
        env = cold_env(scratch)
        stem = f"{index}-{commit[:12]}"
        plan_log, test_log = logs / f"{stem}-plan.log", logs / f"{stem}-test.log"
        label = f"[{ref} {commit[:12]}]"
        print(f"{label} make plan (clone in {clone}) ...", file=sys.stderr, flush=True)
        plan_s, plan_exit = timed_make("plan", clone, env, plan_log, timeout_s)
        print(f"{label} make plan: {plan_s} s, exit {plan_exit}; make test ...", file=sys.stderr, flush=True)
        test_s, test_exit = timed_make("test", clone, env, test_log, timeout_s)
        print(f"{label} make test: {test_s} s, exit {test_exit}", file=sys.stderr, flush=True)
    finally:
        if keep:
            print(f"kept {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    summary = pytest_summary(test_log)
    tests, passed = count_tests(summary)
    return RefTiming(
        ref=ref,
        commit=commit,
        plan_s=plan_s,
        plan_exit=plan_exit,
        test_s=test_s,
        test_exit=test_exit,
        tests=tests,
        tests_passed=passed,
        pytest_summary=summary,
        plan_log=str(plan_log),
        test_log=str(test_log),
    )


def table(results: list[RefTiming]) -> str:
    header = ("ref", "commit", "plan_s", "plan_exit", "test_s", "test_exit", "tests", "plan+test_s")
    rows = [header] + [
        (
            r.ref,
            r.commit[:12],
            f"{r.plan_s:.1f}",
            str(r.plan_exit),
            f"{r.test_s:.1f}",
            str(r.test_exit),
            "-" if r.tests is None else str(r.tests),
            f"{r.plan_s + r.test_s:.1f}",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref", action="append", dest="refs", help="git ref to measure (repeatable; default HEAD)")
    parser.add_argument("--repo", type=Path, default=PROJECT_DIR, help="repository to clone (default: this one)")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "build" / "setup-timing.json")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds allowed per make run")
    parser.add_argument("--keep", action="store_true", help="keep each ref's temporary clone and caches")
    args = parser.parse_args(argv)
    refs: list[str] = args.refs or ["HEAD"]
    repo: Path = args.repo.resolve()
    out: Path = args.out
    logs = out.parent / "setup-timing"
    results = [
        measure(repo, ref, index, logs=logs, timeout_s=args.timeout, keep=args.keep)
        for index, ref in enumerate(refs, start=1)
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "method": "fresh git clone per ref; cold, private PIP_CACHE_DIR/UV_CACHE_DIR/XDG_CACHE_HOME; wall seconds",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "uv_on_path": shutil.which("uv")},
        "results": [asdict(result) for result in results],
    }
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(table(results))
    print(f"\nWrote {out}")
    return 0 if all(r.plan_exit == 0 and r.test_exit == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
