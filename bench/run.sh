#!/bin/sh
# Usage: bench/run.sh NAME [ARGS...]   runs dist/main/engine/bench/NAME.js after a build.
set -eu
cd "$(dirname "$0")/.."
name="${1:?usage: bench/run.sh NAME [ARGS...] (NAME: device-probe, train-step)}"
shift
npm run --silent build:node || echo "bench: build reported type errors (tsc still emitted); running anyway" >&2
exec node "dist/main/engine/bench/$name.js" "$@"
