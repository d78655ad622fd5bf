"""The detector registry and the runner's file index."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from orchestrator_kit.discovery import _WantsIndex, load_detectors
from orchestrator_kit.discovery.base import Wants

SEGMENTS = st.sampled_from(
    [
        ".github", "workflows", "actions", "setup", "scripts", "bin", "docs", "runbooks", "k8s", "charts", "templates",
        "node_modules", "vendor", "src", "ops", "cron.d", "playbooks", "services", "a", "B", ".circleci",
    ]
)
NAMES = st.sampled_from(
    [
        "ci.yml", "ci.yaml", "action.yml", "Makefile", "makefile", "GNUmakefile", "rules.mk", "justfile", "Taskfile.yml",
        "package.json", "pyproject.toml", "tox.ini", "noxfile.py", "Dockerfile", "Dockerfile.dev", "app.Dockerfile",
        "docker-compose.yml", "compose.prod.yaml", "deployment.yaml", "Chart.yaml", "kustomization.yaml", "main.tf",
        "site.yml", "crontab", "backup.cron", "backup.timer", "backup.service", "README.md", "RELEASING.md",
        "runbook.md", "deploy.sh", "tool", "Jenkinsfile", "build.jenkinsfile", ".gitlab-ci.yml", "config.yml",
        "azure-pipelines.yml", "bitbucket-pipelines.yml", ".pre-commit-config.yaml", "mod.py", "image.png", "x.YML",
    ]
)


@given(st.lists(SEGMENTS, max_size=4), NAMES)
def test_the_index_picks_exactly_the_detectors_whose_wants_match(dirs, name):
    detectors = load_detectors()
    path = "/".join([*dirs, name])
    expected = [d.name for d in detectors if d.wants(path)]
    assert [d.name for d in _WantsIndex(detectors).wanting(path)] == expected


def test_wants_semantics():
    wants = Wants(names=frozenset({"Makefile"}), globs=("*.mk",), dirs=frozenset({"scripts"}),
                  prefixes=(".github/workflows/",), refine=lambda p: not p.endswith("skip.mk"))
    assert wants("Makefile") and wants("sub/x/Makefile") and wants("RULES.MK")
    assert wants("scripts/anything") and wants("a/scripts/b/c.txt") and wants(".github/workflows/x")
    assert not wants("makefile") and not wants("skip.mk") and not wants("x/.github/workflows/y")
    assert not wants("node_modules/pkg/Makefile") and not wants("vendor/scripts/x")


def test_detector_names_are_unique_and_every_module_registers_one():
    detectors = load_detectors()
    names = [d.name for d in detectors]
    assert len(names) == len(set(names))
    assert {"github-actions", "github-actions-composite"} <= set(names)


def test_the_collector_pause_is_counted_and_always_undone():
    import gc

    from orchestrator_kit.discovery import _collector_paused

    assert gc.isenabled()
    with _collector_paused():
        assert not gc.isenabled()
        with _collector_paused():  # a second scan in another thread of the MCP server
            assert not gc.isenabled()
        assert not gc.isenabled(), "the first scan is still running"
    assert gc.isenabled()
    try:
        with _collector_paused():
            raise RuntimeError("a detector bug")
    except RuntimeError:
        pass
    assert gc.isenabled()
    gc.disable()  # a caller that had turned it off keeps it off
    try:
        with _collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


class _Landed(BaseException):
    """An exception raised in the thread from outside (the MCP call budget's CallTimeout)."""


def test_an_exception_landing_as_the_collector_is_paused_leaves_it_on(monkeypatch):
    """Such an exception lands after a C call: here right after gc.disable(). It was before the count went up and
    before the `try`, so the collector stayed off for the rest of the server's life."""
    import gc
    import types

    from orchestrator_kit import discovery

    def disable_then_land() -> None:
        gc.disable()
        raise _Landed

    fake = types.SimpleNamespace(isenabled=gc.isenabled, enable=gc.enable, disable=disable_then_land)
    monkeypatch.setattr(discovery, "gc", fake)
    try:
        with discovery._collector_paused():
            raise AssertionError("not reached")
    except _Landed:
        pass
    finally:
        paused, on = discovery._pausers, gc.isenabled()
        gc.enable()
    assert (paused, on) == (0, True)


def test_a_call_budget_firing_into_scans_never_leaves_the_collector_off():
    """The real thing: a watchdog's exception landing wherever a loop of pauses is (before: 17 of 300 trials left
    the collector off)."""
    import contextlib
    import gc

    from orchestrator_kit import discovery
    from orchestrator_kit.deadlines import Watchdog

    watchdog = Watchdog(_Landed, name="test")
    with watchdog.within(20.0):
        pass  # its thread started before the first firing
    left_off = 0
    for _ in range(300):
        with contextlib.suppress(_Landed), watchdog.within(0.002):
            while True:
                with discovery._collector_paused():
                    pass
        left_off += discovery._pausers != 0 or not gc.isenabled()
        discovery._pausers = 0
        gc.enable()
    assert left_off == 0


@given(st.lists(st.tuples(st.lists(st.sampled_from(["Scripts", "scripts", "a", "B", "b", "vendor", "docs", "ci", ".github",
                                                      "workflows", "Build", "node_modules"]), max_size=3),
                          st.sampled_from(["Jenkinsfile-prod", "jenkinsfile_x", "crontab.daily", "Makefile.inc",
                                           "gnumakefile.x", ".justfile", "xjustfile", "Containerfile.dev", "dockerfile",
                                           "deploy.sh", "README.md", "main.tf", "x.yml", "mod.py", "CRONTAB"])),
                min_size=1, max_size=40))
def test_one_index_over_many_paths_picks_what_each_detector_wants(paths):
    """One index for a whole listing, as a scan uses it: folders seen again (in other cases too) and base names
    that only start like a glob's literal part."""
    detectors = load_detectors()
    index = _WantsIndex(detectors)
    for dirs, name in paths:
        path = "/".join([*dirs, name])
        assert [d.name for d in index.wanting(path)] == [d.name for d in detectors if d.wants(path)], path
