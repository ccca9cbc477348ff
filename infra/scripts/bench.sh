#!/usr/bin/env bash
# bench.sh is `make bench`: it runs every benchmark program infra/bench/<topic> (each prints one
# Markdown section) one after another, so that they do not compete for the CPU, and writes
# docs/benchmarks.md with the machine and the date on top. BENCH_TOPICS="lambda chat" runs some only.
# A topic that fails is marked FAILED in the file and makes the script exit non-zero. The sections
# "Soak" (make soak) and "CPU per chat turn" (a record) are carried over as they are.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

out="docs/benchmarks.md"
mkdir -p docs
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT

if [ -n "${BENCH_TOPICS:-}" ]; then
	read -r -a topics <<<"$BENCH_TOPICS"
else
	# Every infra/bench/<topic>, sorted (the glob is); bash 3.2 (macOS) has no mapfile.
	topics=()
	for d in infra/bench/*/; do
		d="${d%/}"
		topics+=("${d##*/}")
	done
fi

cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
[ -n "$cpu" ] || cpu="$(uname -m)"

{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\` (infra/scripts/bench.sh). Figures are from one run on the machine below;"
	echo "compare runs on the same machine only."
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
	echo "| CPU | $cpu |"
	echo "| cores | $(getconf _NPROCESSORS_ONLN) |"
	echo "| memory | $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || echo unknown) |"
	echo "| OS | $(uname -sr) |"
	echo "| Go | $(go env GOVERSION) |"
} >"$tmp"

status=0
for topic in "${topics[@]}"; do
	echo "bench: $topic" >&2
	echo >>"$tmp"
	start=$(date +%s)
	if ! go run "./infra/bench/$topic" >>"$tmp"; then
		printf '\n**%s: FAILED** (see the output of `make bench`)\n' "$topic" >>"$tmp"
		status=1
	fi
	echo "bench: $topic took $(($(date +%s) - start)) s" >&2
done

# Sections no benchmark program writes are kept: Soak (make soak, infra/soak) and CPU per chat turn
# (a record of a change, with the profiles before and after).
for kept in "Soak" "CPU per chat turn"; do
	if [ -f "$out" ] && grep -qxF "## $kept" "$out"; then
		echo >>"$tmp"
		awk -v h="## $kept" '/^## / { keep = ($0 == h) } keep' "$out" >>"$tmp"
	fi
done

cp "$tmp" "$out"
echo "bench: wrote $out" >&2
exit "$status"
