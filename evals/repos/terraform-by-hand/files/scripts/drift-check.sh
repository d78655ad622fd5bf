#!/usr/bin/env bash
# Report drift between the code and each environment (exit code 2 from plan means changes).
set -euo pipefail
for env in staging production; do
  (cd "envs/$env" && terraform init -input=false >/dev/null && terraform plan -detailed-exitcode -input=false -lock=false) || status=$?
  if [ "${status:-0}" -eq 2 ]; then
    echo "drift in $env" | mail -s "terraform drift: $env" infra@atlas.example
  fi
done
