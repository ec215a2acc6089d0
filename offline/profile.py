"""`make profile`: where the time of one plan of a synthetic factory goes (cProfile, after a warm-up).

Prints the functions with the most own time and the own time grouped by where the code lives, so a change
to the program's structure can be judged by what it costs the SDK, not only by the total. cProfile sees the
main thread, where the SDK's event loop serialises inputs and resolves outputs; the mock monitor's few
microseconds per request on its worker threads are not in it. Profiling slows everything down about
twofold: compare shares, not seconds, with `make bench`.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from collections import Counter

from offline.plan import PROJECT_DIR, run_stack
from offline.synthetic import synthetic_stack

# (label, substring of the code's file path), first match wins
OURS = "factory-floor (components/, offline/, __main__.py)"
GROUPS = (
    ("pulumi SDK: serialisation (runtime/rpc.py)", "pulumi/runtime/rpc.py"),
    ("pulumi SDK: outputs (output.py)", "pulumi/output.py"),
    ("pulumi SDK: typed inputs/outputs (_types.py)", "pulumi/_types.py"),
    ("pulumi SDK: registration (runtime/resource.py, resource.py)", "pulumi/runtime/resource.py"),
    ("pulumi SDK: registration (runtime/resource.py, resource.py)", "pulumi/resource.py"),
    ("pulumi SDK: other", "site-packages/pulumi/"),
    ("pulumi_kubernetes", "pulumi_kubernetes/"),
    ("protobuf / grpc", "google/protobuf"),
    ("asyncio", "asyncio/"),
    ("typing / inspect", "typing.py"),
    ("typing / inspect", "inspect.py"),
    ("stack traces (traceback, pathlib)", "traceback.py"),
    ("stack traces (traceback, pathlib)", "pathlib.py"),
)


def _group(filename: str) -> str:
    if filename.startswith(str(PROJECT_DIR)) and "site-packages" not in filename:
        return OURS
    return next((label for label, part in GROUPS if part in filename), "other (builtins, stdlib)")


def profile(lines: int) -> pstats.Stats:
    settings = synthetic_stack(lines)
    run_stack(settings)  # warm-up: imports, pydantic schemas, first event loop
    profiler = cProfile.Profile()
    profiler.enable()
    run_stack(settings)
    profiler.disable()
    return pstats.Stats(profiler)


def report(stats: pstats.Stats, top: int) -> list[str]:
    raw = stats.stats  # type: ignore[attr-defined]  # (file, line, name) -> (cc, nc, own, cumulative, callers)
    total = sum(entry[2] for entry in raw.values())
    groups: Counter[str] = Counter()
    for (filename, _, _), entry in raw.items():
        groups[_group(filename)] += entry[2]
    lines = [f"own time {total:.2f} s on the main thread, by where the code lives:"]
    lines += [f"  {share / total:6.1%}  {label}" for label, share in groups.most_common()]
    lines += ["", f"top {top} functions by own time:"]
    ranked = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:top]
    for (filename, line, name), entry in ranked:
        where = filename.split("site-packages/")[-1].split("python3.11/")[-1]
        lines.append(f"  {entry[2] / total:6.1%}  {entry[1]:>8} calls  {where}:{line}({name})")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100, help="lines of the synthetic factory")
    parser.add_argument("--top", type=int, default=15, help="functions to list")
    args = parser.parse_args(argv)
    print("\n".join(report(profile(args.lines), args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
