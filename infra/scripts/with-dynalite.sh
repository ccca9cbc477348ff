#!/usr/bin/env bash
# with-dynalite.sh CMD ARGS... runs CMD with a DynamoDB test server (dynalite, in memory) on a free
# 127.0.0.1 port, exported as DYNAMO_ENDPOINT together with dummy AWS credentials and region for the SDK.
# dynalite is always stopped afterwards, and the script exits with CMD's status.
#
# When DYNAMO_ENDPOINT is set already, CMD runs as it is against that endpoint.
# dynalite comes from infra/dynalite (pinned in package.json and package-lock.json); when its
# node_modules is missing, the script runs `npm ci` there if npm is available.
set -euo pipefail

if [ "$#" -eq 0 ]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi

if [ -n "${DYNAMO_ENDPOINT:-}" ]; then
	exec "$@"
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="$root/infra/dynalite"
bin="$dir/node_modules/.bin/dynalite"

fail() {
	echo "with-dynalite: $*" >&2
	exit 1
}

command -v node >/dev/null 2>&1 ||
	fail "node is not installed; dynalite needs Node.js >= 20 (Debian: apt-get install nodejs npm)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || fail "node $(node --version) is too old; dynalite needs Node.js >= 20"

if [ ! -x "$bin" ]; then
	command -v npm >/dev/null 2>&1 ||
		fail "dynalite is not installed in $dir/node_modules and npm is missing; install npm, then run: npm ci --prefix infra/dynalite"
	echo "with-dynalite: installing dynalite (npm ci in infra/dynalite)" >&2
	(cd "$dir" && npm ci --no-audit --no-fund >&2) ||
		fail "npm ci in infra/dynalite failed (it needs the npm registry); see the output above"
	[ -x "$bin" ] || fail "npm ci ran but $bin is missing"
fi

log="$(mktemp "${TMPDIR:-/tmp}/dynalite.XXXXXX")"
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port asks the kernel for a free port on 127.0.0.1. Another process may take it before dynalite
# binds it, so the start below retries with a new port when dynalite exits early.
free_port() {
	node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })'
}

# answers reports whether something accepts TCP connections on 127.0.0.1:$1.
answers() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

port=""
for attempt in 1 2 3; do
	p="$(free_port)"
	# Tables are ACTIVE at once (the defaults wait 500 ms), which keeps per-test tables cheap.
	"$bin" --host 127.0.0.1 --port "$p" --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 >"$log" 2>&1 &
	pid=$!
	# Wait up to 15 s (150 x 0.1 s) for it to answer.
	for _ in $(seq 150); do
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		if answers "$p"; then
			port="$p"
			break 2
		fi
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		cat "$log" >&2
		fail "dynalite did not answer on 127.0.0.1:$p within 15 s"
	fi
	wait "$pid" 2>/dev/null || true
	pid=""
	if ! grep -q EADDRINUSE "$log"; then
		cat "$log" >&2
		fail "dynalite exited at start (log above)"
	fi
	echo "with-dynalite: port $p was taken, retrying ($attempt)" >&2
done
[ -n "$port" ] || fail "dynalite could not bind a free port after 3 attempts"

export DYNAMO_ENDPOINT="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID="dynalite"
export AWS_SECRET_ACCESS_KEY="dynalite"
unset AWS_SESSION_TOKEN AWS_PROFILE
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_EC2_METADATA_DISABLED=true
echo "with-dynalite: dynalite on $DYNAMO_ENDPOINT" >&2

status=0
"$@" || status=$?
exit "$status"
