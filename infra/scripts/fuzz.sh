#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target in the module for FUZZTIME each (default 10s), one after another
# (go test -fuzz takes one target of one package at a time). New inputs that fail are written by Go
# under the package's testdata/fuzz/<FuzzName>/; commit them with the fix.
# FUZZ_PKGS limits the run to some packages (patterns as for go list).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

fuzztime="${FUZZTIME:-10s}"
# Packages with a fuzz target: directories holding a _test.go that declares func Fuzz...
# (A read loop, not mapfile: bash 3.2, macOS's, has none.)
pkgs=()
while IFS= read -r pkg; do
	pkgs+=("$pkg")
done < <(go list -f '{{.ImportPath}} {{.Dir}}' ${FUZZ_PKGS:-./...} |
	while read -r pkg dir; do
		if grep -qsE '^func Fuzz[A-Z0-9_]' "$dir"/*_test.go; then echo "$pkg"; fi
	done)

if [ "${#pkgs[@]}" -eq 0 ]; then
	echo "fuzz: no fuzz targets found"
	exit 0
fi

status=0
count=0
for pkg in "${pkgs[@]}"; do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
		count=$((count + 1))
		echo "== fuzz $pkg $target for $fuzztime"
		if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"; then
			echo "fuzz: $pkg $target FAILED (the failing input is under testdata/fuzz/$target)" >&2
			status=1
		fi
	done
done
echo "fuzz: $count targets, ${fuzztime} each: $([ "$status" -eq 0 ] && echo ok || echo FAILED)"
exit "$status"
