#!/usr/bin/env bash
# test.sh is `make test`: go vet, then every Go test with dynalite running (infra/scripts/with-dynalite.sh),
# in two rounds on 2 cores:
#   1. the required checks, verbose, with a summary naming each one: the store contract suite on SQLite
#      and on dynalite, the users function's bootstrap under the Lambda emulator, cfn-lint and the SAM
#      translator on template.yaml (their packages run whole);
#   2. every other package, with go test's normal output, which ends the run.
# The exit status is non-zero when anything failed, or when a required check did not run.
# GOTEST_FLAGS adds flags to both rounds (for example GOTEST_FLAGS=-race).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

module="github.com/secondme/twin"
flags=(-count=1 -p 2 -timeout 5m ${GOTEST_FLAGS:-})

# label|package|test name pattern (extended regex, whole top-level test name)
required=(
	"store contract suite on SQLite|$module/pkg/store/sqlitestore|TestContract"
	"store contract suite on dynalite|$module/pkg/store/dynamostore|TestContract"
	"users bootstrap under the Lambda emulator|$module/functions/users|Test.*Emulator.*"
	"cfn-lint template.yaml|$module/infra/template|TestCfnLint"
	"SAM translator on template.yaml|$module/infra/template|TestSAMTranslator"
)

if [ "${1:-}" != "--with-dynalite" ]; then
	echo "== go vet ./..."
	go vet ./...
	exec infra/scripts/with-dynalite.sh "$0" --with-dynalite
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/make-test.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# Round 1: the packages of the required checks that exist.
declare -A seen=()
round1=()
for r in "${required[@]}"; do
	IFS='|' read -r _ pkg _ <<<"$r"
	dir="${pkg#"$module"/}"
	if [ -d "$dir" ] && [ -z "${seen[$pkg]:-}" ]; then
		seen[$pkg]=1
		round1+=("./$dir")
	fi
done

status=0
echo "== go test: required checks (${round1[*]})"
if [ "${#round1[@]}" -gt 0 ]; then
	go test "${flags[@]}" -v "${round1[@]}" >"$tmp/round1.log" 2>&1 || status=1
fi
# Top-level results as "package test result duration".
awk '
	/^--- (PASS|FAIL|SKIP): Test[^ ]* / { res[++n] = $3 " " $2 " " $4 }
	($1 == "ok" || $1 == "FAIL") && $2 ~ /\// {
		for (i = 1; i <= n; i++) print $2 " " res[i]
		n = 0
	}
' "$tmp/round1.log" | tr -d '():' >"$tmp/results"

echo
echo "Required checks:"
for r in "${required[@]}"; do
	IFS='|' read -r label pkg pattern <<<"$r"
	lines="$(awk -v p="$pkg" -v re="^($pattern)$" '$1 == p && $2 ~ re' "$tmp/results")"
	if [ -z "$lines" ]; then
		verdict="NOT RUN"
		detail="no $pattern in ${pkg#"$module"/}"
		status=1
	elif grep -q " FAIL " <<<"$lines"; then
		verdict="FAIL"
		status=1
	elif grep -q " SKIP " <<<"$lines"; then
		verdict="SKIPPED"
	else
		verdict="PASS"
	fi
	if [ -n "$lines" ]; then
		detail="$(awk '{ printf "%s%s %s", sep, $2, $4; sep = ", " }' <<<"$lines") in ${pkg#"$module"/}"
	fi
	printf '  %-8s %-42s (%s)\n' "$verdict" "$label" "$detail"
done
if [ "$status" -ne 0 ]; then
	echo
	echo "== required checks' output (passing tests left out)"
	grep -vE '^(=== (RUN|PAUSE|CONT|NAME)|\s*--- PASS)' "$tmp/round1.log" || true
else
	grep -E '^(ok|FAIL)\s' "$tmp/round1.log" || true
fi

# Round 2: everything else.
mapfile -t rest < <(go list ./... | grep -vxF -f <(printf '%s\n' "${!seen[@]}"))
echo
echo "== go test ${flags[*]} ./... (the other ${#rest[@]} packages)"
go test "${flags[@]}" "${rest[@]}" || status=1
exit "$status"
