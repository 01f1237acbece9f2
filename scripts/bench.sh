#!/usr/bin/env bash
# Benchmark relplan against git itself on synthetic histories (see BENCHMARKS.md).
#
#   scripts/bench.sh [SIZE...]          default sizes: 10000 100000
#
# Needs: git, python3, GNU time at /usr/bin/time (Debian/Ubuntu: `apt-get install time`).
# Env:   RUNS (default 3; the median is reported), BENCH_DIR (default target/bench),
#        RELPLAN (default: builds and uses target/release/relplan).
# Repositories are generated once with `git fast-import` and kept in BENCH_DIR.
# Each pair of commands runs alternately (in a random order each round) on the same
# range, so both see the same machine load; ratios (relplan / git) are the figures
# to compare across machines.
#
# `scope` is measured twice: as configured by default, where commits whose message
# says nothing are classified by their changed paths (tree diffs git log does not
# do), and with `commits.paths = []`, which reads exactly what `git log` reads.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(10000 100000)
runs="${RUNS:-3}"
bench_dir="${BENCH_DIR:-$here/target/bench}"

if [ ! -x /usr/bin/time ]; then
    echo "bench.sh needs GNU time at /usr/bin/time for peak memory: apt-get install time" >&2
    exit 2
fi
if [ -z "${RELPLAN:-}" ]; then
    (cd "$here" && cargo build --release --quiet)
    RELPLAN="${CARGO_TARGET_DIR:-$here/target}/release/relplan"
fi
mkdir -p "$bench_dir"
messages_only="$bench_dir/messages-only.toml"
printf '[commits]\npaths = []\n' > "$messages_only"

# measure NAME CMD...: median wall seconds and max RSS (MiB) over $runs runs.
declare -A wall rss
measure_pair() { # measure_pair KEY_A "cmd a" KEY_B "cmd b"
    local ka="$1" ca="$2" kb="$3" cb="$4" i
    local ta=() tb=() ma=0 mb=0 out
    for ((i = 0; i < runs; i++)); do
        # Which goes first is drawn each round: a fixed order biased one side by
        # 20-30% on a shared machine (caches, frequency, the other tenant's load).
        local first=a
        ((RANDOM % 2)) && first=b
        for side in $first $([ $first = a ] && echo b || echo a); do
            if [ "$side" = a ]; then
                /usr/bin/time -o "$bench_dir/.time" -f "%e %M" bash -c "exec $ca" >/dev/null 2>&1; out=$(tail -1 "$bench_dir/.time")
                ta+=("${out% *}"); ma=$(( ${out#* } > ma ? ${out#* } : ma ))
            else
                /usr/bin/time -o "$bench_dir/.time" -f "%e %M" bash -c "exec $cb" >/dev/null 2>&1; out=$(tail -1 "$bench_dir/.time")
                tb+=("${out% *}"); mb=$(( ${out#* } > mb ? ${out#* } : mb ))
            fi
        done
    done
    wall[$ka]=$(printf '%s\n' "${ta[@]}" | sort -g | sed -n "$(( (runs + 1) / 2 ))p")
    wall[$kb]=$(printf '%s\n' "${tb[@]}" | sort -g | sed -n "$(( (runs + 1) / 2 ))p")
    rss[$ka]=$(( ma / 1024 )); rss[$kb]=$(( mb / 1024 ))
}
ratio() { python3 -c "import sys; a,b=map(float,sys.argv[1:]); print(f'{a/b:.2f}' if b>0 else 'n/a')" "$1" "$2"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%d)  git: $(git --version | cut -d' ' -f3)  relplan: $("$RELPLAN" --version | cut -d' ' -f2)  runs: $runs (median)"
echo
echo "| commits | git log messages | relplan scope | ratio | scope, messages only | ratio | git log --name-status | relplan plan | ratio | RSS git / scope / git ns / plan (MiB) | previous tag: relplan next-version / git describe |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for n in "${sizes[@]}"; do
    repo="$bench_dir/repo-$n"
    if [ ! -d "$repo/.git" ]; then
        echo "generating $repo ..." >&2
        rm -rf "$repo" && git init -q -b main "$repo"
        python3 "$here/scripts/gen-repo.py" "$n" | git -C "$repo" fast-import --quiet
    fi
    cd "$repo"
    range="v0.1.0..main"
    export CI=  # no progress lines in the measurement
    measure_pair gm "git log --format=%H%x00%B $range" \
                 sc "$RELPLAN scope --quiet --format json --from v0.1.0 --to main"
    measure_pair gm2 "git log --format=%H%x00%B $range" \
                 so "$RELPLAN scope --quiet --format json --config $messages_only --from v0.1.0 --to main"
    measure_pair gn "git log --no-renames --name-status $range" \
                 pl "$RELPLAN plan 9.9.9 --quiet --offline --date 2030-01-01 --dry-run --from v0.1.0 --to main"
    measure_pair gd "git describe --tags --abbrev=0 main" \
                 nv "$RELPLAN next-version --quiet --to main"
    commits=$(git rev-list --count "$range")
    echo "| $commits | ${wall[gm]}s | ${wall[sc]}s | $(ratio "${wall[sc]}" "${wall[gm]}") | ${wall[so]}s | $(ratio "${wall[so]}" "${wall[gm2]}") | ${wall[gn]}s | ${wall[pl]}s | $(ratio "${wall[pl]}" "${wall[gn]}") | ${rss[gm]} / ${rss[sc]} / ${rss[gn]} / ${rss[pl]} | ${wall[nv]}s / ${wall[gd]}s ($(git tag | wc -l) tags) |"
    cd "$here"
done
