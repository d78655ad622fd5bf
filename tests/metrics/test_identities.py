"""One person under several identities counts once (helm/helm: "Matt Farina" under two e-mails), on a real git
repository: git applies `.mailmap`, then identities with the same normalised name or the same GitHub noreply login
merge; placeholders and short one-word names never do."""

from __future__ import annotations

from unittest import mock

import pytest

from orchestrator_kit.metrics.history import history_metrics
from orchestrator_kit.metrics.identities import normalised_name

from ..conftest import GIT_ENV, git
from .conftest import Scripted, lines


def commit_as(repo: Scripted, name: str, email: str, when: str, files: dict[str, str]) -> None:
    repo.write(files)
    git(repo.root, "add", "-A")
    with mock.patch.dict(GIT_ENV, {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
                                   "GIT_COMMITTER_EMAIL": email, "GIT_AUTHOR_DATE": when,
                                   "GIT_COMMITTER_DATE": when}):
        git(repo.root, "commit", "-q", "-m", f"{name} at {when}")


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    """Eight identities, five people:

    * Matt Farina at work and at home, once as `matt  FARINA` (the same normalised name): 3 commits, 6 lines in pkg/;
    * octocat under both GitHub noreply forms, with different display names: 2 commits, 4 lines in pkg/;
    * Old Name <old@example.com>, mapped by .mailmap to New Name <new@example.com>: 1 + 1 commits;
    * two `root` users and two different "Tim"s: placeholders and short one-word names stay apart;
    * radek@ with two commits as "Radek Simko" and a newer one as "Sarah French", and Sarah under her own address:
      radek@ is Radek (its most frequent name), and does not merge with Sarah.
    """
    repo = Scripted(tmp_path_factory.mktemp("identities"))
    repo.write({".mailmap": "New Name <new@example.com> Old Name <old@example.com>\n"})
    day = iter(range(1, 28))

    def when() -> str:
        return f"2026-02-{next(day):02d}T10:00:00+00:00"

    commit_as(repo, "Matt Farina", "matt@work.example", when(), {"pkg/a.go": lines(2)})
    commit_as(repo, "Matt Farina", "matt@home.example", when(), {"pkg/a.go": lines(4)})
    commit_as(repo, "matt  FARINA", "matt@home.example.org", when(), {"pkg/a.go": lines(6)})
    commit_as(repo, "The Octocat", "583231+octocat@users.noreply.github.com", when(), {"pkg/b.go": lines(2)})
    commit_as(repo, "octo", "octocat@users.noreply.github.com", when(), {"pkg/b.go": lines(4)})
    commit_as(repo, "Old Name", "old@example.com", when(), {"docs/x.md": lines(1)})
    commit_as(repo, "New Name", "new@example.com", when(), {"docs/x.md": lines(2)})
    commit_as(repo, "root", "root@host-a", when(), {"docs/y.md": lines(1)})
    commit_as(repo, "root", "root@host-b", when(), {"docs/y.md": lines(2)})
    commit_as(repo, "Tim", "tim@one.example", when(), {"docs/z.md": lines(1)})
    commit_as(repo, "Tim", "tim@two.example", when(), {"docs/z.md": lines(2)})
    commit_as(repo, "Radek Simko", "radek@example.com", when(), {"lib/r.go": lines(1)})
    commit_as(repo, "Radek Simko", "radek@example.com", when(), {"lib/r.go": lines(2)})
    commit_as(repo, "Sarah French", "radek@example.com", when(), {"lib/r.go": lines(3)})  # newest: seen first
    commit_as(repo, "Sarah French", "sarah@example.com", when(), {"lib/s.go": lines(1)})
    return history_metrics(repo.root)


def test_identities_of_one_person_merge(people):
    authors = people.authors
    # 13 e-mails; .mailmap maps old@ onto new@ (git's own), leaving 12 identities; 3 folded: 2 Farina, 1 octocat
    assert (authors.identities, authors.total, authors.identities_merged) == (12, 9, 3)
    merged = {m.name: (m.emails, m.names) for m in authors.merged}
    assert merged == {
        "Matt Farina": (["matt@home.example", "matt@home.example.org", "matt@work.example"],
                        ["Matt Farina", "matt  FARINA"]),
        "The Octocat": (["583231+octocat@users.noreply.github.com", "octocat@users.noreply.github.com"],
                        ["The Octocat", "octo"]),
    }
    assert authors.notes == ["12 author identities merged into 9 people (3 identities folded into another: 1 by the "
                             "same GitHub noreply login, 2 by the same normalised name); .mailmap was applied by git "
                             "before"]
    top = {a.name: (a.email, a.commits) for a in authors.top}
    assert top["Matt Farina"][1] == 3 and top["The Octocat"][1] == 2
    assert top["New Name"] == ("new@example.com", 2)  # .mailmap: both commits under the new identity
    assert top["Radek Simko"] == ("radek@example.com", 3) and top["Sarah French"] == ("sarah@example.com", 1)
    assert sorted(a.email for a in authors.top if a.name in ("root", "Tim")) == [
        "root@host-a", "root@host-b", "tim@one.example", "tim@two.example"]


def test_bus_factor_and_fragmentation_count_people(people):
    pkg = next(d for d in people.bus_factor.directories if d.path == "pkg")
    # lines: Farina 2 + 2 + 2 = 6, octocat 2 + 2 = 4 -> Farina alone has 60%
    assert (pkg.bus_factor, pkg.authors) == (1, 2)
    assert [(a.author, a.share) for a in pkg.top_authors] == [("Matt Farina", 0.6), ("The Octocat", 0.4)]
    fragmented = {f.path: f.authors for f in people.fragmentation.files}
    assert "pkg/a.go" not in fragmented  # one person: fragmentation 0, not listed
    assert fragmented["docs/y.md"] == 2 and fragmented["docs/z.md"] == 2  # two roots, two Tims
    weeks = {w.week: w.authors for w in people.commit_frequency.weeks}
    # Feb 2-8 (days 2-8): Farina x2 (two identities), octocat x2 (two), Old/New Name (one, by .mailmap), root@host-a
    assert weeks["2026-W06"] == 4  # 6 identities without merging


@pytest.mark.parametrize(
    ("name", "normal"),
    [("Matt Farina", "matt farina"), ("  matt\tFARINA ", "matt farina"), ("Mätt-Farina", "matt farina"),
     ("strangelookingnerd", "strangelookingnerd"), ("Tim", None), ("root", None), ("Your Name", None),
     ("12345", None), ("dependabot[bot]", "dependabot bot")],
)
def test_normalised_names(name, normal):
    assert normalised_name(name) == normal


def test_the_report_says_identities_were_merged(people):
    from orchestrator_kit.report.metrics import history_markdown

    assert "; 9 authors (from 12 identities), " in "\n".join(history_markdown(people))
