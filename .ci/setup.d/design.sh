#!/usr/bin/env bash
# Mermaid rendering for tests/design/test_render_mmdc.py: Debian chromium plus npm @mermaid-js/mermaid-cli (mmdc).
# Puppeteer's own browser download is skipped (PUPPETEER_SKIP_DOWNLOAD=1): mmdc drives the Debian chromium through
# a puppeteer config file. Everything npm installs goes to .ci/tools/design/, which ignores itself in git.
# Appends MMDC and MMDC_PUPPETEER_CONFIG to .ci/env. Safe to run again: installed parts are kept.
set -euo pipefail
cd "$(dirname "$0")/../.."

# mermaid-cli 12 needs Node >= 22.13; 11.x supports Node 18.19 and 20 (the engines field of the package).
MERMAID_CLI_VERSION="11.17.0"
TOOLS=".ci/tools/design"

if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium
fi
CHROMIUM="$(command -v chromium)"

mkdir -p "$TOOLS"
printf '*\n' > "$TOOLS/.gitignore"
if [ ! -x "$TOOLS/node_modules/.bin/mmdc" ]; then
  PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error \
    "@mermaid-js/mermaid-cli@$MERMAID_CLI_VERSION"
fi
MMDC="$(cd "$TOOLS/node_modules/.bin" && pwd)/mmdc"

# --no-sandbox: CI containers run as root, where chromium refuses its sandbox.
cat > "$TOOLS/puppeteer.json" <<EOF
{"executablePath": "$CHROMIUM", "args": ["--no-sandbox", "--disable-gpu"]}
EOF
CONFIG="$(cd "$TOOLS" && pwd)/puppeteer.json"

touch .ci/env
grep -v -e '^export MMDC=' -e '^export MMDC_PUPPETEER_CONFIG=' .ci/env > .ci/env.tmp || true
mv .ci/env.tmp .ci/env
printf 'export MMDC=%q\nexport MMDC_PUPPETEER_CONFIG=%q\n' "$MMDC" "$CONFIG" >> .ci/env
"$MMDC" --version
