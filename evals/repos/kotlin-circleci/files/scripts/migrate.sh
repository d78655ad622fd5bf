#!/usr/bin/env bash
# Apply Flyway migrations to an environment: scripts/migrate.sh ENV
set -euo pipefail
flyway -configFiles="conf/flyway-$1.conf" migrate
