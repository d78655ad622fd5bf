#!/usr/bin/env bash
# A wheelhouse for tests/plugin/test_bootstrap.py: every wheel the plugin's bootstrap needs to install orchestrator-kit
# into a fresh virtual environment (its dependencies at the versions of constraints.txt, plus the setuptools build
# backend), downloaded here from the package index so that the test itself installs with PIP_NO_INDEX=1 (offline),
# as a new user's machine would from the index. Into .ci/tools/plugin/ (ignores itself in git). Appends
# PLUGIN_WHEELHOUSE to .ci/env. Safe to run again: pip skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."

TOOLS=".ci/tools/plugin"
mkdir -p "$TOOLS/wheelhouse"
printf '*\n' > "$TOOLS/.gitignore"
python3 -m pip download --quiet --disable-pip-version-check --dest "$TOOLS/wheelhouse" \
  --constraint constraints.txt . "setuptools>=68" wheel
WHEELHOUSE="$(cd "$TOOLS/wheelhouse" && pwd)"

touch .ci/env
grep -v -e '^export PLUGIN_WHEELHOUSE=' .ci/env > .ci/env.tmp || true
mv .ci/env.tmp .ci/env
printf 'export PLUGIN_WHEELHOUSE=%q\n' "$WHEELHOUSE" >> .ci/env
echo "plugin wheelhouse: $(ls "$WHEELHOUSE" | wc -l) files"
