from tidyframe import melt, pivot


def test_melt_then_pivot_round_trips():
    rows = [{"id": 1, "a": 2, "b": 3}]
    assert pivot(melt(rows, ["id"]), "id", "variable", "value") == rows
