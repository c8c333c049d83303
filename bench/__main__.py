"""Run every benchmark, or those named on the command line: ``python -m bench [NAME...]``."""

from __future__ import annotations

import sys

from . import BENCHMARKS


def main(argv: list[str]) -> int:
    chosen = [b for b in BENCHMARKS if not argv or b.__name__ in argv]
    unknown = set(argv) - {b.__name__ for b in BENCHMARKS}
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; known: {', '.join(b.__name__ for b in BENCHMARKS)}", file=sys.stderr)
        return 2
    for benchmark in chosen:
        for name, value in benchmark().items():
            print(f"{name}: {value:.2f}" if isinstance(value, float) else f"{name}: {value}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
