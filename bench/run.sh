#!/bin/sh
# bench/run.sh [--quick] [--rounds N] [--out FILE] ...: the side-by-side benchmarks (see bench/run.py --help).
exec python3 "$(dirname "$0")/run.py" "$@"
