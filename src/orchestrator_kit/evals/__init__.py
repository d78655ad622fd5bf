"""Tool-level evals: ground truth per sample repository (`truth`), scorers (`items`, `match`, `score`), and the
suite that builds each sample, scans it and checks the scores against thresholds (`run`, `suite`)."""

from .match import Counts as Counts
from .run import score_checkout as score_checkout
from .run import score_sample as score_sample
from .run import tool_outputs as tool_outputs
from .score import Outputs as Outputs
from .score import RepoScore as RepoScore
from .score import score_repo as score_repo
from .truth import Truth as Truth
from .truth import load_truth as load_truth
from .truth import parse_truth as parse_truth
