#!/usr/bin/env bash
# Roll the new image out and roll back by itself when the rollout does not become healthy.
set -euo pipefail
image="$1"
kubectl set image deployment/pulse pulse="$image" -n pulse
if ! kubectl rollout status deployment/pulse -n pulse --timeout=300s; then
  kubectl rollout undo deployment/pulse -n pulse
  exit 1
fi
