#!/usr/bin/env bash
# Full-build time of two jianbao binaries on the same seeds, interleaved in one run, so that the
# ratio is measured on the same machine state (2 shared cores drift by ±20 % over minutes).
#
#   benches/indexing/ab.sh BEFORE_BIN AFTER_BIN SEEDS_DIR [RUNS]
#   # e.g. the commit before a change, built into its own target dir:
#   git worktree add /tmp/before <rev> && (cd /tmp/before && CARGO_TARGET_DIR=/tmp/before-target cargo build --release --bin jianbao)
#   cargo build --release && benches/indexing/ab.sh /tmp/before-target/release/jianbao target/release/jianbao ../shared/corpus/xwlb 5
#
# Prints each run's wall time and peak RSS, then the medians and AFTER/BEFORE.
set -euo pipefail
before=$1 after=$2 seeds=$3 runs=${4:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -a tb ta
for i in $(seq 1 "$runs"); do
    for which in before after; do
        bin=${!which}
        rm -rf "$work/data"
        /usr/bin/time -f "%e %M" -o "$work/time" "$bin" --seeds-dir "$seeds" --data-dir "$work/data" index >/dev/null 2>&1
        read -r secs kb < "$work/time"
        echo "run $i $which: ${secs} s, peak RSS $((kb / 1024)) MB"
        if [ "$which" = before ]; then tb+=("$secs"); else ta+=("$secs"); fi
    done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mb=$(median "${tb[@]}"); ma=$(median "${ta[@]}")
echo "median before ${mb} s, after ${ma} s, after/before $(awk -v a="$ma" -v b="$mb" 'BEGIN {printf "%.3f", a/b}')"
