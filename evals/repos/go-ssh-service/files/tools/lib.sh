# Shared shell helpers, sourced by the tools in this folder (not run on its own).
die() {
  echo "error: $*" >&2
  exit 1
}

require_clean_tree() {
  git diff --quiet || die "the work tree has changes"
}
