#!/bin/sh
# Delete image tags older than 30 days from the project's container registry.
set -eu
echo "cleaning registry tags older than 30 days"
