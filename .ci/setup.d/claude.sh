#!/usr/bin/env bash
# The Claude Code CLI for tests/plugin (plugin validation, local marketplace install, and the proof run of our agents
# inside `claude -p` against the loopback fake Messages API). From the npm package @anthropic-ai/claude-code, pinned;
# its native binary comes from the package's platform optional dependency (also on npm), so nothing else downloads.
# Installed into .ci/tools/claude/ (ignores itself in git). Appends CLAUDE_CLI to .ci/env. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/../.."

CLAUDE_CODE_VERSION="2.1.332"
TOOLS=".ci/tools/claude"

mkdir -p "$TOOLS"
printf '*\n' > "$TOOLS/.gitignore"
if ! "$TOOLS/node_modules/.bin/claude" --version 2>/dev/null | grep -q "^$CLAUDE_CODE_VERSION "; then
  npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION"
fi
CLAUDE_CLI="$(cd "$TOOLS/node_modules/.bin" && pwd)/claude"

touch .ci/env
grep -v -e '^export CLAUDE_CLI=' .ci/env > .ci/env.tmp || true
mv .ci/env.tmp .ci/env
printf 'export CLAUDE_CLI=%q\n' "$CLAUDE_CLI" >> .ci/env
"$CLAUDE_CLI" --version
