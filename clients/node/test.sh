#!/usr/bin/env bash
# clients/node/test.sh: the npm package's tests as CI runs them: `npm ci`
# (basic-ftp, TypeScript, vitest and Jest, from package-lock.json), then
# `node --test` over test/*.test.mjs.
#
# The binary: FTPFIXTURE_BINARY (CI sets it to target/release/ftpfixture);
# when it is unset, the checkout's target/release (else target/debug)
# binary if there is one, else what the package finds (PATH).
#
# Needs: node 18+ and npm, the npm registry (or its cache). Time on the
# 2-core machine: about 35 s, most of it npm ci.
set -euo pipefail
cd "$(dirname "$0")"

if [ -z "${FTPFIXTURE_BINARY:-}" ]; then
    for candidate in ../../target/release/ftpfixture ../../target/debug/ftpfixture; do
        if [ -x "$candidate" ]; then
            FTPFIXTURE_BINARY="$(cd "$(dirname "$candidate")" && pwd)/ftpfixture"
            export FTPFIXTURE_BINARY
            break
        fi
    done
fi
echo "clients/node/test.sh: binary ${FTPFIXTURE_BINARY:-(from the platform package or PATH)}; node $(node --version), npm $(npm --version)" >&2

npm ci --no-audit --no-fund --loglevel=error

# The test files run in parallel (they wait on child processes more than
# they compute), where node has the flag (20.10+; node 18 runs them one by one).
concurrency=()
if node --help 2>/dev/null | grep -q -- '--test-concurrency'; then
    concurrency=(--test-concurrency=4)
fi
node --test ${concurrency[@]+"${concurrency[@]}"} test/*.test.mjs
