"""Job-matrix combinations, shared by the CI detectors whose matrices are exclusion rules over axes (GitHub Actions,
CircleCI, Jenkins). Each system keeps its own matching rules; this module only enumerates, within a bound.
Not a detector module: the leading underscore keeps the package loader from importing it as one."""

from __future__ import annotations

import itertools

# Above this many combinations a matrix is not enumerated: its fan-out is then approximated by its callers.
MATRIX_ENUMERATION_LIMIT = 4096


def matrix_size(dimensions: dict[str, list[str]]) -> int:
    """The number of combinations: the product of the axes' sizes (1 for no axis)."""
    size = 1
    for values in dimensions.values():
        size *= len(values)
    return size


def matrix_combinations(dimensions: dict[str, list[str]]) -> list[dict[str, str]] | None:
    """Every combination as {axis: value}, or None when there are more than MATRIX_ENUMERATION_LIMIT."""
    if matrix_size(dimensions) > MATRIX_ENUMERATION_LIMIT:
        return None
    keys = list(dimensions)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*dimensions.values())]
