#!/usr/bin/env bash
# bubblewrap (Debian `bubblewrap`): the sandbox in which `validate` runs `make -n` on a Makefile (see
# src/orchestrator_kit/automation/sandbox.py). Without it, make is never run and the Makefile is checked by reading.
# Safe to run again.
set -euo pipefail
if ! command -v bwrap >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends bubblewrap
fi
bwrap --version
