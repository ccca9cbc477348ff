#!/usr/bin/env bash
# test.sh is `make test`: the prerequisites first (each missing one named with its install command),
# go vet, then every Go test with dynalite running (infra/scripts/with-dynalite.sh), in two rounds on
# 2 cores:
#   1. the packages of the required checks, verbose: the store contract suite on SQLite and on dynalite,
#      the media storage on files and on s3rver, the users function's bootstrap under the Lambda emulator, cfn-lint and the SAM translator on
#      template.yaml, and the browser checks on make run and make gateway (their packages run whole);
#   2. every other package, with go test's normal output;
# and ends with the closing summary, "Required checks", naming each one's verdict. A required check
# whose test skipped or failed for a missing test dependency is NOT RUN, with the dependency named.
#
# The exit status is non-zero when anything failed, or a required check is missing from its package;
# with CI=true also when any required check did not run.
# GOTEST_FLAGS adds flags to both rounds (for example GOTEST_FLAGS=-race). TEST_PACKAGES (go list
# patterns, for example "./infra/template/ ./infra/e2e/") limits go vet and both rounds to those
# packages, for a trial run; the required checks outside them are listed as not selected.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

module="github.com/secondme/twin"
flags=(-count=1 -p 2 -timeout 5m ${GOTEST_FLAGS:-})
e2e="$module/infra/e2e"

# label|package|test name pattern (extended regex, whole top-level test name)
required=(
	"store contract suite on SQLite|$module/pkg/store/sqlitestore|TestContract"
	"store contract suite on dynalite|$module/pkg/store/dynamostore|TestContract"
	"media storage on files and on s3rver|$module/pkg/blob|TestContract"
	"users bootstrap under the Lambda emulator|$module/functions/users|Test.*Emulator.*"
	"cfn-lint template.yaml|$module/infra/template|TestCfnLint"
	"SAM translator on template.yaml|$module/infra/template|TestSAMTranslator"
	"browser journey on make run|$e2e|TestBrowserJourneyLocal"
	"browser journey on make gateway|$e2e|TestBrowserJourneyGateway"
	"first run to a first match on make run|$e2e|TestBrowserFirstRunLocal"
	"markup shown as text on make run|$e2e|TestBrowserMarkupLocal"
	"a portrait made offline, seen on a match card on make run|$e2e|TestBrowserAvatarLocal"
)

# chromium finds Chromium as infra/e2e does: CHROMIUM ("none": absent), else Debian's.
chromium() {
	[ "${CHROMIUM:-}" = none ] && return 1
	for c in "${CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
		[ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && return 0
	done
	return 1
}

# prerequisites names each missing prerequisite with the command that installs it. Go is required;
# without another one the checks that need it are NOT RUN (a failure under CI=true).
prerequisites() {
	local missing=() pip="python3 -m pip install cfn-lint==1.51.0 aws-sam-translator==1.110.0 (Debian 12: add --break-system-packages)"
	if ! command -v go >/dev/null 2>&1; then
		echo "make test: Go is missing: install Go 1.26 from https://go.dev/dl/ and put it on PATH" >&2
		exit 1
	fi
	local want have
	want="$(awk '$1 == "go" { print $2 }' go.mod)"
	have="$(go env GOVERSION)"
	if [ "$(printf '%s\n' "go$want" "$have" | sort -V | head -1)" != "go$want" ]; then
		missing+=("Go >= $want (found $have): install it from https://go.dev/dl/")
	fi
	if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
		missing+=("Node.js >= 20 (found $(node --version 2>/dev/null || echo none)): PATH=\"\$(infra/scripts/install-node.sh):\$PATH\" (Node 20 from the npm registry), or apt-get install -y nodejs npm where Debian has 20")
	fi
	if ! command -v npm >/dev/null 2>&1; then
		missing+=("npm: apt-get install -y npm")
	fi
	if [ ! -x infra/dynalite/node_modules/.bin/dynalite ]; then
		missing+=("dynalite: npm ci --prefix infra/dynalite")
	fi
	if [ ! -x infra/s3rver/node_modules/.bin/s3rver ]; then
		missing+=("s3rver (the S3 media storage tests): npm ci --prefix infra/s3rver")
	fi
	if [ ! -f infra/e2e/axe/node_modules/axe-core/axe.min.js ]; then
		missing+=("axe-core (the browser checks' accessibility audit): npm ci --prefix infra/e2e/axe")
	fi
	if ! command -v python3 >/dev/null 2>&1; then
		missing+=("Python 3: apt-get install -y python3 python3-pip")
	fi
	if ! command -v cfn-lint >/dev/null 2>&1; then
		missing+=("cfn-lint 1.51.0: $pip")
	fi
	if ! python3 -c 'import samtranslator' >/dev/null 2>&1; then
		missing+=("aws-sam-translator 1.110.0: $pip")
	fi
	if ! chromium; then
		missing+=("chromium: apt-get install -y chromium")
	fi
	if [ "${#missing[@]}" -eq 0 ]; then
		echo "== prerequisites: all there"
		return
	fi
	echo "== prerequisites: ${#missing[@]} missing; the checks that need them will be NOT RUN"
	printf '  missing %s\n' "${missing[@]}"
}

if [ "${1:-}" != "--with-dynalite" ]; then
	prerequisites
	echo "== go vet ${TEST_PACKAGES:-./...}"
	go vet ${TEST_PACKAGES:-./...}
	if command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ]; then
		exec infra/scripts/with-dynalite.sh "$0" --with-dynalite
	fi
	echo "== no Node.js >= 20: running without dynalite"
	exec "$0" --with-dynalite
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/make-test.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# Portable to bash 3.2 (macOS): read loops instead of mapfile, a list instead of an associative array.
selected=()
while IFS= read -r pkg; do
	selected+=("$pkg")
done < <(go list ${TEST_PACKAGES:-./...})

# Round 1: the selected packages of the required checks; seen lists them, one a line.
seen=""
round1=()
for r in "${required[@]}"; do
	IFS='|' read -r _ pkg _ <<<"$r"
	if printf '%s\n' "${selected[@]}" | grep -qxF "$pkg" && ! printf '%s' "$seen" | grep -qxF "$pkg"; then
		seen="$seen$pkg"$'\n'
		round1+=("./${pkg#"$module"/}")
	fi
done

status=0
echo "== go test: required checks (${round1[*]:-})"
if [ "${#round1[@]}" -gt 0 ]; then
	go test "${flags[@]}" -v "${round1[@]}" >"$tmp/round1.log" 2>&1 || status=1
else
	: >"$tmp/round1.log"
fi
# Top-level results, tab-separated: package, test, result, duration, and the dependency a "missing
# test dependency: ..." line in the test's output named (- for none). go test -v prints each package
# whole, ending with its ok or FAIL line; === RUN/CONT/NAME lines say whose output follows.
awk '
	function top(name) { sub(/\/.*/, "", name); return name }
	/^=== (RUN|CONT|NAME) / { cur = top($3); next }
	/missing test dependency: / {
		d = $0; sub(/.*missing test dependency: /, "", d)
		if (!(cur in dep)) dep[cur] = d
	}
	/^--- (PASS|FAIL|SKIP): Test[^ ]* / { r = $2; sub(/:$/, "", r); dur = $4; gsub(/[()]/, "", dur); res[++n] = $3 "\t" r "\t" dur; name[n] = $3 }
	($1 == "ok" || $1 == "FAIL") && $2 ~ /\// {
		for (i = 1; i <= n; i++) print $2 "\t" res[i] "\t" ((name[i] in dep) ? dep[name[i]] : "-")
		n = 0; delete dep
	}
' "$tmp/round1.log" >"$tmp/results"

if [ "$status" -ne 0 ]; then
	echo
	echo "== required checks' output (passing tests left out)"
	grep -vE '^(=== (RUN|PAUSE|CONT|NAME)|\s*--- PASS)' "$tmp/round1.log" || true
else
	grep -E '^(ok|FAIL)\s' "$tmp/round1.log" || true
fi

# Round 2: everything else that is selected.
rest=()
while IFS= read -r pkg; do
	rest+=("$pkg")
done < <(printf '%s\n' "${selected[@]}" | grep -vxF -f <(printf '%s_\n' "$seen"))
echo
echo "== go test ${flags[*]} (the other ${#rest[@]} packages)"
if [ "${#rest[@]}" -gt 0 ]; then
	go test "${flags[@]}" "${rest[@]}" || status=1
fi

# The closing summary.
echo
echo "Required checks:"
notrun=0
unselected=0
for r in "${required[@]}"; do
	IFS='|' read -r label pkg pattern <<<"$r"
	dir="${pkg#"$module"/}"
	lines="$(awk -F'\t' -v p="$pkg" -v re="^($pattern)$" '$1 == p && $2 ~ re' "$tmp/results")"
	deps="$(awk -F'\t' '$5 != "-" { print $5 }' <<<"$lines" | sort -u | paste -sd ';' -)"
	if ! printf '%s' "$seen" | grep -qxF "$pkg"; then
		verdict="-"
		detail="not selected by TEST_PACKAGES"
		unselected=$((unselected + 1))
	elif grep -qE "^FAIL[[:space:]]+$pkg[[:space:]]+\[(build|setup) failed\]" "$tmp/round1.log"; then
		verdict="FAIL"
		detail="$dir did not build"
		status=1
	elif [ -z "$lines" ]; then
		verdict="NOT RUN"
		detail="no $pattern in $dir"
		status=1
	elif [ -n "$deps" ]; then
		verdict="NOT RUN"
		detail="missing test dependency: $deps"
		notrun=$((notrun + 1))
	elif grep -q $'\tFAIL\t' <<<"$lines"; then
		verdict="FAIL"
		status=1
	elif grep -q $'\tSKIP\t' <<<"$lines"; then
		verdict="SKIPPED"
	else
		verdict="PASS"
	fi
	if [ -n "$lines" ] && [ -z "$deps" ]; then
		detail="$(awk -F'\t' '{ printf "%s%s %s", sep, $2, $4; sep = ", " }' <<<"$lines") in $dir"
	fi
	printf '  %-8s %-42s (%s)\n' "$verdict" "$label" "$detail"
done
if [ "$notrun" -gt 0 ]; then
	echo
	if [ "${CI:-}" = true ]; then
		echo "$notrun required check(s) did NOT RUN for a missing test dependency: this fails the run in CI."
		status=1
	else
		echo "$notrun required check(s) did NOT RUN for a missing test dependency (named above): install it"
		echo "and run make test again. Under CI=true this fails the run."
	fi
elif [ "$status" -eq 0 ] && [ "$unselected" -eq 0 ]; then
	echo
	echo "Every required check ran and passed."
fi
if [ "$unselected" -gt 0 ]; then
	echo "$unselected required check(s) not selected by TEST_PACKAGES: this was a partial run."
fi
exit "$status"
