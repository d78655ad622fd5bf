#!/usr/bin/env bash
# XState itself, for tests/design/test_xstate_runs.py: the exported machines are run in XState, not only compared
# with expectations. npm's xstate goes to .ci/tools/xstate/ (git-ignored by its own .gitignore) and runs on the
# machine's Node 20. Appends XSTATE_DIR to .ci/env. Safe to run again: an installed copy is kept.
set -euo pipefail
cd "$(dirname "$0")/../.."

XSTATE_VERSION="5.33.3"
TOOLS=".ci/tools/xstate"

mkdir -p "$TOOLS"
printf '*\n' > "$TOOLS/.gitignore"
if [ ! -f "$TOOLS/node_modules/xstate/package.json" ]; then
  npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "xstate@$XSTATE_VERSION"
fi
DIR="$(cd "$TOOLS" && pwd)"

touch .ci/env
grep -v -e '^export XSTATE_DIR=' .ci/env > .ci/env.tmp || true
mv .ci/env.tmp .ci/env
printf 'export XSTATE_DIR=%q\n' "$DIR" >> .ci/env
node -e "console.log('xstate', require('$DIR/node_modules/xstate/package.json').version)"
