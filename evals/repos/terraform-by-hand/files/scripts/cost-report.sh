#!/usr/bin/env bash
# Mail last month's AWS cost per environment.
set -euo pipefail
aws ce get-cost-and-usage --time-period "Start=$(date -d 'last month' +%Y-%m-01),End=$(date +%Y-%m-01)" \
  --granularity MONTHLY --metrics UnblendedCost --group-by Type=TAG,Key=environment \
  | mail -s "atlas cost report" infra@atlas.example
