"""One composition for every face: `scan`, `opportunities`, the MCP tool and `generate --from-opportunity` read the
same window of history and give the same matrix; the window is in every output; the limits are the same."""

from __future__ import annotations

import json

import pytest
from mcp import Client

from orchestrator_kit.assessment import DEFAULT_MAX_COMMITS, MAX_PATHS, MAX_SINCE_CHARS, MAX_TOP, assess
from orchestrator_kit.errors import InputError
from orchestrator_kit.metrics.models import OpportunityMatrix, ScanReport
from orchestrator_kit.samples import build_sample_repo
from orchestrator_kit.server import build_server

from .test_cli_metrics import SAMPLE, cli

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    return build_sample_repo(SAMPLE, tmp_path_factory.mktemp("assess") / "acme-shop").path


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _numbers(matrix: OpportunityMatrix) -> list[tuple[str, float, float]]:
    return [(o.id, o.frequency_per_year.value, o.hours_saved_per_year) for o in matrix.opportunities]


async def test_every_face_gives_the_same_matrix_from_the_same_window(acme):
    library = assess(acme).matrix
    scanned = ScanReport.model_validate_json(cli("scan", str(acme), "--format", "json", "--opportunities").stdout)
    alone = OpportunityMatrix.model_validate_json(cli("opportunities", str(acme), "--format", "json").stdout)
    async with Client(build_server([acme])) as client:
        result = await client.call_tool("opportunity_matrix", {"max_tokens": 100_000})
    served = OpportunityMatrix.model_validate(result.structured_content["matrix"])
    assert scanned.opportunities is not None and library.opportunities
    for other in (scanned.opportunities, alone, served):
        assert _numbers(other) == _numbers(library)
        assert other.window == library.window
    window = library.window
    assert window is not None and window.commits == 13 and window.complete
    assert window.max_commits == DEFAULT_MAX_COMMITS and window.first_commit and window.last_commit


def test_every_output_says_the_window(acme):
    markdown = cli("opportunities", str(acme), "--format", "markdown").stdout
    table = cli("opportunities", str(acme)).stdout
    scan = cli("scan", str(acme), "--format", "markdown").stdout
    line = "Git history read: 13 commits from "
    assert line in markdown and line in table and line in scan
    assert "(the whole history)" in markdown


def test_a_bounded_window_says_so(acme):
    matrix = assess(acme, max_commits=5).matrix
    assert matrix.window is not None and matrix.window.commits == 5 and not matrix.window.complete
    assert matrix.window.describe().endswith("(the newest 5 only)")
    out = cli("opportunities", str(acme), "--max-commits", "5", "--format", "json").stdout
    assert json.loads(out)["window"]["commits"] == 5


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_commits": 0}, "max_commits must be between 1"),
        ({"top": MAX_TOP + 1}, "top must be between 1"),
        ({"since": "x" * (MAX_SINCE_CHARS + 1)}, "since is over"),
        ({"paths": ["a"] * (MAX_PATHS + 1)}, "At most 100 paths"),
        ({"since": "last tuesday"}, "neither a date"),
    ],
)
def test_the_library_checks_the_limits_every_face_declares(acme, options, message):
    with pytest.raises(InputError, match=message):
        assess(acme, **options)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-commits", "0"], "Invalid value for '--max-commits'"),
        (["--max-commits", "10000001"], "Invalid value for '--max-commits'"),
        (["--since", "x" * 101], "since is over 100 characters"),
    ],
)
def test_the_cli_has_the_same_limits(acme, args, message):
    proc = cli("opportunities", str(acme), *args)
    assert proc.returncode == 2 and message in proc.stderr + proc.stdout
