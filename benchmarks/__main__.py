"""Run the benchmarks: `python -m benchmarks [ID ...] [--json] [--quick]`.

Each `benchmarks/b<N>_*.py` module has `ID = "B<N>"` and `run(quick: bool) -> list[Figure]`
(it may be `async`). `--quick` runs a tiny size, to keep them working in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path


def _modules() -> dict[str, object]:
    found = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name[:1] == "b" and info.name[1:2].isdigit():
            module = importlib.import_module(f"benchmarks.{info.name}")
            found[module.ID] = module
    return dict(sorted(found.items(), key=lambda item: int(item[0][1:])))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("ids", nargs="*", metavar="ID", help="benchmarks to run (default: all)")
    parser.add_argument("--json", action="store_true", help="one JSON object per figure and line")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check they still run")
    parser.add_argument(
        "--tenants",
        type=int,
        metavar="N",
        help="fleet size for the benchmarks that take one (B5, B8), e.g. 10000",
    )
    args = parser.parse_args()
    modules = _modules()
    unknown = [i for i in args.ids if i.upper() not in modules]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(modules)}")
    chosen = [i.upper() for i in args.ids] or list(modules)
    if len(chosen) > 1:
        # One process per benchmark, so memory figures (RSS) are not inflated by the others.
        flags = [f for f, on in (("--json", args.json), ("--quick", args.quick)) if on]
        if args.tenants:
            flags += ["--tenants", str(args.tenants)]
        failed = [
            bench_id
            for bench_id in chosen
            if subprocess.run([sys.executable, "-m", "benchmarks", bench_id, *flags]).returncode
        ]
        if failed:
            print(f"benchmarks failed: {', '.join(failed)}", file=sys.stderr)
        return 1 if failed else 0
    for bench_id in chosen:
        module = modules[bench_id]
        if not args.json:
            print(
                f"# {bench_id}: {(module.__doc__ or '').strip().splitlines()[0]}", file=sys.stderr
            )
        run = module.run
        sized = args.tenants and "tenants" in inspect.signature(run).parameters
        result = run(args.quick, tenants=args.tenants) if sized else run(args.quick)
        figures = asyncio.run(result) if inspect.iscoroutine(result) else result
        for figure in figures:
            print(figure.as_json() if args.json else figure.as_text(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
