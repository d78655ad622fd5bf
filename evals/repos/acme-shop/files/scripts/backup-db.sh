#!/usr/bin/env bash
# Dump the shop database and upload it to S3.
# Usage: backup-db.sh ENVIRONMENT
set -euo pipefail

env="${1:?usage: backup-db.sh ENVIRONMENT}"
stamp="$(date +%Y%m%d-%H%M%S)"
pg_dump --format=custom --dbname="shop_${env}" --file="/tmp/shop-${stamp}.dump"
aws s3 cp "/tmp/shop-${stamp}.dump" "s3://acme-backups/postgres/${env}/shop-${stamp}.dump"
aws s3 cp "/tmp/shop-${stamp}.dump" "s3://acme-backups/postgres/latest.dump"
