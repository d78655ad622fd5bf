"""Manual procedures in Markdown: release docs, runbooks, contributing checklists, READMEs, and bad input."""

from __future__ import annotations

import time

import pytest

from orchestrator_kit.discovery.procedures import (
    block_commands,
    find_markers,
    is_inline_command,
    is_ops_doc,
    is_procedure_doc,
    strip_front_matter,
)

from ..conftest import errors_of, run_detectors

DETECTOR = "markdown-procedures"
GITHUB_TOKEN = "ghp_R4nd0mT0k3nV4lu3Xq9Lm2Pz8Kw5Jt7Hs1Dc6"


def scan(root):
    inventory = run_detectors(root, DETECTOR)
    assert errors_of(inventory) == []
    return inventory


def lines_of(evidence):
    return (evidence.path, evidence.line_start, evidence.line_end)


def commands_of(step):
    return [(c.text, c.evidence.line_start, c.evidence.line_end) for c in step.commands]


# ------------------------------------------------------------------ which files


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("README.md", True),
        ("Readme.markdown", True),
        ("services/api/README.md", True),
        ("RELEASING.md", True),
        ("RELEASE.md", True),
        ("CONTRIBUTING.md", True),
        ("DEPLOY.md", True),
        ("OPERATIONS.md", True),
        ("MAINTAINING.md", True),
        ("UPGRADING.md", True),
        ("RUNBOOK.md", True),
        ("docs/index.md", True),
        ("doc/guide/setup.md", True),
        ("runbooks/db-failover.md", True),
        ("ops/notes.md", True),
        ("playbooks/restore.md", True),
        ("wiki/Home.md", True),
        (".github/CONTRIBUTING.md", True),
        ("notes/how-to-rollback.md", True),
        ("incident-response.md", True),
        ("oncall.md", True),
        ("backup_and_restore.md", True),
        ("db-migration-guide.md", True),
        ("notes/random.md", False),  # not an operational doc by name or folder
        ("docs/deploy.txt", True),  # plain text in a docs folder
        ("requirements.txt", False),  # plain text elsewhere is not documentation
        ("docs/runbook.rst", True),
        ("docs/ops/restore.adoc", True),
        ("push.html.md.erb", True),  # a documentation site's source, wherever it lives
        ("layout.html.erb", False),
        ("DB_README.md", True),
        ("Scripts/Release_Readme.md", True),
        ("docs-src/upgrade.md", True),
        ("AGENTS.md", False),  # written for AI agents
        ("CLAUDE.md", False),
        (".github/copilot-instructions.md", False),
        (".github/prompts/release.prompt.md", False),
        ("docs/adr/0007-use-postgres.md", False),  # decision records
        ("docs/decisions/use-kafka.md", False),
        ("CHANGELOG.md", False),
        ("docs/changelog.md", False),
        ("LICENSE.md", False),
        ("CODE_OF_CONDUCT.md", False),
        ("docs/release-notes/v1.2.md", False),
        ("docs/release-notes.md", False),
        (".github/ISSUE_TEMPLATE/bug_report.md", False),
        (".github/pull_request_template.md", False),
        (".github/PULL_REQUEST_TEMPLATE/release.md", False),
        ("PULL_REQUEST_TEMPLATE.md", False),
        ("node_modules/pkg/README.md", False),
        ("vendor/lib/RELEASING.md", False),
    ],
)
def test_which_files_are_read(path, wanted):
    assert is_procedure_doc(path) is wanted


@pytest.mark.parametrize(
    ("path", "ops"),
    [
        ("RELEASING.md", True),
        ("UPGRADING.md", True),
        ("docs/runbooks/db.md", True),
        ("deploy/README.md", True),
        ("docs/backup-restore.md", True),
        ("README.md", False),
        ("CONTRIBUTING.md", False),
        ("docs/guide.md", False),
    ],
)
def test_which_files_are_about_operations(path, ops):
    assert is_ops_doc(path) is ops


# ------------------------------------------------------------------ the variants people write

RELEASING = """
---
title: Release process
owner: platform
---
# Releasing

<!-- TODO: ssh into the old box -->
Releases are cut from `main` by a maintainer.

1. Bump the version and commit:
   ```sh
   $ bump-my-version bump minor
   Old version: 1.2.0
   $ git commit -am "Release $VERSION"
   ```
2. Tag the release and push the tag:

   ```bash
   git tag -s "v$VERSION" \\
     -m "v$VERSION"
   git push origin "v$VERSION"
   ```
3. Publish to PyPI with `make publish`, then
   check the [release page](https://example.com/releases).

## Hotfix

- [ ] Cherry-pick the fix onto `release/1.x`
- [x] Run `./scripts/smoke.sh staging`
  - wait for green

## Notes

Nothing to run here.
"""


def test_releasing_with_numbered_steps_and_shell_blocks(make_repo):
    inventory = scan(make_repo({"RELEASING.md": RELEASING}))
    assert [p.id for p in inventory.procedures] == ["RELEASING.md#releasing", "RELEASING.md#releasing/hotfix"]
    release, hotfix = inventory.procedures

    assert release.title == "Releasing"
    assert release.heading_path == ["Releasing"]
    assert lines_of(release.evidence) == ("RELEASING.md", 5, 24)
    # The HTML comment's "ssh" is not read; the words are found in document order, each once.
    assert release.markers == ["release", "bump", "tag", "publish"]
    assert [(s.kind, s.text) for s in release.steps] == [
        ("numbered", "Bump the version and commit:"),
        ("numbered", "Tag the release and push the tag:"),
        ("numbered", "Publish to PyPI with `make publish`, then check the release page."),
    ]
    assert [lines_of(s.evidence)[1:] for s in release.steps] == [(10, 15), (16, 22), (23, 24)]
    # Prompts stripped and the output line skipped; a continued line is one command over two lines.
    assert commands_of(release.steps[0]) == [
        ("bump-my-version bump minor", 12, 12),
        ('git commit -am "Release $VERSION"', 14, 14),
    ]
    assert commands_of(release.steps[1]) == [
        ('git tag -s "v$VERSION" -m "v$VERSION"', 19, 20),
        ('git push origin "v$VERSION"', 21, 21),
    ]
    assert commands_of(release.steps[2]) == [("make publish", 23, 23)]
    assert release.automation_coverage == 0.0  # commands, none of them automated in this repo

    assert hotfix.heading_path == ["Releasing", "Hotfix"]
    assert lines_of(hotfix.evidence) == ("RELEASING.md", 26, 30)
    assert hotfix.markers == ["release", "cherry-pick"]
    assert [(s.kind, s.text) for s in hotfix.steps] == [
        ("checklist", "Cherry-pick the fix onto `release/1.x`"),
        ("checklist", "Run `./scripts/smoke.sh staging` - wait for green"),  # the nested item is folded in
    ]
    assert [lines_of(s.evidence)[1:] for s in hotfix.steps] == [(28, 28), (29, 30)]
    assert commands_of(hotfix.steps[0]) == []  # `release/1.x` is a branch, not a command
    assert commands_of(hotfix.steps[1]) == [("./scripts/smoke.sh staging", 29, 29)]


RUNBOOK = """
# Database failover

Use this when the primary is down. SSH to the bastion first.

```console
$ ssh ops@bastion.example.com
Welcome to bastion
$ psql "$DATABASE_URL" -c 'select pg_is_in_recovery();'
 pg_is_in_recovery
-------------------
 f
```

## Restore from backup

```bash
pg_restore --clean \\
  --dbname "$DATABASE_URL" latest.dump
sudo systemctl restart app
```
"""


def test_runbook_with_ssh_and_psql(make_repo):
    inventory = scan(make_repo({"docs/runbooks/database.md": RUNBOOK}))
    failover, restore = inventory.procedures
    assert failover.id == "docs/runbooks/database.md#database-failover"
    assert lines_of(failover.evidence) == ("docs/runbooks/database.md", 1, 12)
    assert failover.markers == ["failover", "ssh", "psql"]
    assert [(s.kind, lines_of(s.evidence)[1:]) for s in failover.steps] == [("code", (5, 12))]
    # console output (lines without a prompt) is not a command
    assert commands_of(failover.steps[0]) == [
        ("ssh ops@bastion.example.com", 6, 6),
        ("psql \"$DATABASE_URL\" -c 'select pg_is_in_recovery();'", 8, 8),
    ]

    assert restore.id == "docs/runbooks/database.md#database-failover/restore-from-backup"
    assert restore.heading_path == ["Database failover", "Restore from backup"]
    assert lines_of(restore.evidence) == ("docs/runbooks/database.md", 14, 20)
    assert restore.markers == ["failover", "restore", "pg_restore", "systemctl", "restart"]
    assert commands_of(restore.steps[0]) == [
        ('pg_restore --clean --dbname "$DATABASE_URL" latest.dump', 17, 18),
        ("sudo systemctl restart app", 19, 19),
    ]
    assert restore.steps[0].text.startswith("pg_restore --clean \\\n")


CONTRIBUTING = """
# Contributing

## Development setup

```bash
python -m venv .venv
pip install -e ".[dev]"
```

## Pull request checklist

- [ ] Tests pass locally (`pytest -q`)
- [ ] The changelog has an entry
- [x] Docs updated
"""


def test_contributing_checklist_is_kept_and_dev_setup_is_not(make_repo):
    inventory = scan(make_repo({"CONTRIBUTING.md": CONTRIBUTING}))
    assert [p.id for p in inventory.procedures] == ["CONTRIBUTING.md#contributing/pull-request-checklist"]
    checklist = inventory.procedures[0]
    assert checklist.markers == []  # kept because a checklist in CONTRIBUTING is hand work by itself
    assert lines_of(checklist.evidence) == ("CONTRIBUTING.md", 10, 14)
    assert [(s.kind, s.text, s.evidence.line_start) for s in checklist.steps] == [
        ("checklist", "Tests pass locally (`pytest -q`)", 12),
        ("checklist", "The changelog has an entry", 13),
        ("checklist", "Docs updated", 14),
    ]
    assert commands_of(checklist.steps[0]) == [("pytest -q", 12, 12)]


def test_readme_with_only_installation_commands_has_no_procedure(make_repo):
    root = make_repo(
        {
            "README.md": """
            # mytool

            ## Installation

            ```bash
            pip install mytool
            ```

            See RELEASING.md for how releases are deployed (prose does not make this an operation).

            ## Usage

            1. Create a config file.
            2. Run `mytool check`.

            ## Roadmap

            - [x] Windows support
            - [ ] Plugins
            """
        }
    )
    assert scan(root).procedures == []


def test_readme_deployment_section_is_kept(make_repo):
    root = make_repo(
        {
            "README.md": """
            # app

            Install with `pip install app`.

            ## Deployment

            ```sh
            docker build -t registry.example.com/app:1.0 .
            docker push registry.example.com/app:1.0
            kubectl -n prod set image deploy/app app=registry.example.com/app:1.0
            ```
            """
        }
    )
    (procedure,) = scan(root).procedures
    assert procedure.id == "README.md#app/deployment"
    assert procedure.markers == ["deploy", "docker push", "kubectl"]
    assert [c.text for c in procedure.steps[0].commands] == [
        "docker build -t registry.example.com/app:1.0 .",
        "docker push registry.example.com/app:1.0",
        "kubectl -n prod set image deploy/app app=registry.example.com/app:1.0",
    ]
    assert [c.evidence.line_start for c in procedure.steps[0].commands] == [8, 9, 10]


def test_step_headings_are_folded_into_their_parent(make_repo):
    root = make_repo(
        {
            "UPGRADING.md": """
            # Upgrading to v2

            ### Step 1: Back up the database

            Run `pg_dump -Fc app > app.dump` on the primary.

            ### Step 2: Migrate

            ```sh
            ./manage.py migrate
            ```

            ## Troubleshooting

            If it fails, roll back by hand.
            """
        }
    )
    (procedure,) = scan(root).procedures
    assert procedure.id == "UPGRADING.md#upgrading-to-v2"
    assert lines_of(procedure.evidence) == ("UPGRADING.md", 1, 11)
    assert [(s.kind, s.text, lines_of(s.evidence)[1:]) for s in procedure.steps] == [
        ("numbered", "Step 1: Back up the database", (3, 5)),
        ("numbered", "Step 2: Migrate", (7, 11)),
    ]
    assert commands_of(procedure.steps[0]) == [("pg_dump -Fc app > app.dump", 5, 5)]
    assert commands_of(procedure.steps[1]) == [("./manage.py migrate", 10, 10)]
    assert procedure.markers == ["pg_dump", "migrate"]


def test_bullets_are_steps_only_next_to_numbered_items(make_repo):
    root = make_repo(
        {
            "DEPLOY.md": """
            # Deploy

            - Make sure CI is green.
            1. Run `make deploy`.

            ## Staging

            - Ask in #ops first
            - then run:
              ```sh
              make deploy ENV=staging
              ```
            """
        }
    )
    deploy, staging = scan(root).procedures
    # CommonMark: a bullet list, then an ordered list; the bullet is a step because the section has numbers.
    assert [(s.kind, s.text) for s in deploy.steps] == [
        ("bullet", "Make sure CI is green."),
        ("numbered", "Run `make deploy`."),
    ]
    # Only bullets here: they are not steps, but the code block inside one still is.
    assert [(s.kind, s.text, lines_of(s.evidence)[1:]) for s in staging.steps] == [
        ("code", "make deploy ENV=staging", (10, 12)),
    ]


def test_code_blocks_without_a_shell_language(make_repo):
    root = make_repo(
        {
            "RUNBOOK.md": """
            # Restart

            Indented:

                $ systemctl restart worker
                ● worker.service - active

            ```text
            kubectl -n prod rollout restart deploy/worker
            ```

            ```text
            Error: connection refused
            ```

            ```yaml
            replicas: 3
            ```
            """
        }
    )
    (procedure,) = scan(root).procedures
    assert [(s.kind, lines_of(s.evidence)[1:]) for s in procedure.steps] == [("code", (5, 6)), ("code", (8, 10))]
    assert commands_of(procedure.steps[0]) == [("systemctl restart worker", 5, 5)]
    assert commands_of(procedure.steps[1]) == [("kubectl -n prod rollout restart deploy/worker", 9, 9)]


def test_powershell_and_cmd_blocks(make_repo):
    root = make_repo(
        {
            "docs/deploy-windows.md": """
            # Deploy on Windows

            ```powershell
            # comment
            Invoke-Deploy `
              -Env prod
            .\\build.ps1
            ```

            ```cmd
            REM comment
            deploy.bat prod
            ```
            """
        }
    )
    (procedure,) = scan(root).procedures
    assert [commands_of(s) for s in procedure.steps] == [
        [("Invoke-Deploy -Env prod", 5, 6), (".\\build.ps1", 7, 7)],
        [("deploy.bat prod", 12, 12)],
    ]


def test_same_heading_twice_gets_unique_ids_and_setext_headings_count(make_repo):
    root = make_repo(
        {
            "RUNBOOK.md": """
            Runbook
            =======

            ## Restart
            1. ssh app1
            ## Restart
            1. ssh app2
            ## Restart-2
            1. ssh app3
            """
        }
    )
    ids = [p.id for p in scan(root).procedures]
    assert ids == ["RUNBOOK.md#runbook/restart", "RUNBOOK.md#runbook/restart-2", "RUNBOOK.md#runbook/restart-2-2"]
    assert len(set(ids)) == 3


def test_text_before_the_first_heading_is_a_procedure_too(make_repo):
    text = "<!-- owner: edge team -->\n\n1. Log in to the CDN console\n2. Click *Purge all*\n"
    root = make_repo({"runbooks/purge-cache.md": text})
    (procedure,) = scan(root).procedures
    assert procedure.id == "runbooks/purge-cache.md#top"
    assert procedure.title == "purge-cache.md"
    assert procedure.heading_path == []
    assert lines_of(procedure.evidence) == ("runbooks/purge-cache.md", 1, 4)
    assert procedure.markers == ["log in", "console", "click"]
    assert [s.text for s in procedure.steps] == ["Log in to the CDN console", "Click Purge all"]
    assert procedure.automation_coverage is None  # no command at all


def test_secrets_are_redacted_in_steps_and_commands(make_repo):
    root = make_repo(
        {
            "RELEASING.md": f"""
            # Release

            1. Publish with token `{GITHUB_TOKEN}`:
               ```sh
               curl -H "Authorization: token {GITHUB_TOKEN}" https://api.github.com/repos/o/r/releases
               ```
            """
        }
    )
    (procedure,) = scan(root).procedures
    dumped = procedure.model_dump_json()
    assert GITHUB_TOKEN[4:] not in dumped
    assert "[REDACTED" in procedure.steps[0].commands[0].text


# ------------------------------------------------------------------ the pieces


@pytest.mark.parametrize(
    ("lang", "lines", "expected"),
    [
        ("bash", ["# comment", "make a", "", "make b"], [("make a", 1, 1), ("make b", 3, 3)]),
        ("bash", ["$ make a", "output", "$ make b"], [("make a", 0, 0), ("make b", 2, 2)]),
        ("sh", ["docker run \\", "  -it x"], [("docker run -it x", 0, 1)]),
        ("sh", ["make a &&", "  make b"], [("make a && make b", 0, 1)]),
        ("powershell", ["Get-Foo `", "  -Bar 1"], [("Get-Foo -Bar 1", 0, 1)]),
        ("powershell", ["PS C:\\src> ./build.ps1", "done"], [("./build.ps1", 0, 0)]),
        ("console", ["$ whoami", "# systemctl restart nginx", "# this is output"],
         [("whoami", 0, 0), ("systemctl restart nginx", 1, 1)]),
        ("console", ["$ ssh host \\", "> uptime", " 10:00 up"], [("ssh host uptime", 0, 1)]),
        ("console", ["make build"], [("make build", 0, 0)]),  # a session block with no prompt at all
        ("bash", ["cat <<'EOF' > f.yml", "a: 1", "EOF", "make x"], [("cat <<'EOF' > f.yml\na: 1\nEOF", 0, 2),
                                                                  ("make x", 3, 3)]),
        ("bash", ["cat <<EOF", "never closed"], [("cat <<EOF\nnever closed", 0, 1)]),
        ("cmd", ["REM comment", ":: also", "build.bat"], [("build.bat", 2, 2)]),
        ("cmd", ["C:\\src> build.bat ^", "  --release", "done."], [("build.bat --release", 0, 1)]),
        ("powershell", ["cd C:\\", "./build.ps1"], [("cd C:\\", 0, 0), ("./build.ps1", 1, 1)]),
        ("bash", ["$", "$ ls"], [("ls", 1, 1)]),
        ("bash", ["make a", "...", "make b"], [("make a", 0, 0), ("make b", 2, 2)]),
        ("bash", ["echo done \\"], [("echo done \\", 0, 0)]),  # a dangling continuation at the end
        ("bash", ["X=$(a |", "  b", ")", "make x"], [("X=$(a | b )", 0, 2), ("make x", 3, 3)]),
        ("bash", ["echo '(' ", "ls"], [("echo '('", 0, 0), ("ls", 1, 1)]),
        ("bash", [], []),
    ],
)
def test_block_commands(lang, lines, expected):
    assert block_commands(lines, lang) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("make deploy", True),
        ("make", False),  # a tool's name, not a command
        ("git", False),
        ("./scripts/release.sh", True),
        ("./gradlew publish", True),
        ("./config.yaml", False),
        ("$ kubectl get pods", True),
        ("FOO=1 make x", True),
        ("sudo systemctl restart app", True),
        ("release/1.x", False),
        ("v1.2.3", False),
        ("main", False),
        ("a\nb", False),
        ("", False),
    ],
)
def test_inline_commands(text, expected):
    assert is_inline_command(text) is expected


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["Deployment to prod"], ["deploy"]),
        (["redeploy the thing"], []),
        (["Log in to the AWS console and click Save"], ["log in", "aws", "console", "click"]),
        (["AZ outage"], []),
        (["az login"], ["az", "log in"]),
        (["MANUALLY restart", "restart again, manually"], ["manually", "restart"]),
        (["helm upgrade --install app ./chart"], ["helm upgrade"]),
        (["the tagline"], []),
        (["roll back", "rollback", "rolled back"], ["rollback"]),
        (["terraform plan then terraform apply"], ["terraform plan", "terraform apply"]),
        (["pg_dumpall > all.sql", "pg_restore x"], ["pg_dump", "pg_restore"]),
        (["Go to Settings", "go\tto"], ["go to"]),
        ([""], []),
    ],
)
def test_markers(texts, expected):
    assert find_markers(texts) == expected


def test_front_matter_is_blanked_with_line_numbers_kept():
    assert strip_front_matter("---\na: 1\n---\n# T\n") == "\n\n\n# T\n"
    assert strip_front_matter("+++\na = 1\n+++\nx") == "\n\n\nx"
    assert strip_front_matter("---\nno end\n# T") == "---\nno end\n# T"
    assert strip_front_matter("---\nJust a rule, then prose.\n---\n") == "---\nJust a rule, then prose.\n---\n"
    assert strip_front_matter("") == ""


# ------------------------------------------------------------------ bad and odd input


@pytest.mark.parametrize(
    "content",
    [
        "",
        "\n\n\n",
        "---\ntitle: only front matter\n---\n",
        "<!--\n## Old deploy\n1. ssh old-box\n-->\n",
        "# Deploy\n\n| step | command |\n|---|---|\n| 1 | `make deploy` |\n",
        "# Deploy\n\n```yaml\ndeploy: true\n```\n",
        "####### not a heading\n",
        b"\xff\xfe\x00\x00binary-ish",
        "> " * 300 + "1. ssh deep\n",
        "".join("  " * i + "- item\n" for i in range(300)),
        "# Deploy\n" + "`" * 5000 + "\n",
    ],
)
def test_odd_documents_do_not_crash(make_repo, content):
    root = make_repo({"docs/DEPLOY.md": content})
    inventory = scan(root)
    assert inventory.procedures == [] or all(p.path == "docs/DEPLOY.md" for p in inventory.procedures)


def test_hidden_and_non_shell_content_gives_no_procedure(make_repo):
    root = make_repo(
        {
            "docs/a.md": "<!--\n## Old deploy\n1. ssh old-box\n-->\n",
            "docs/b.md": "# Deploy\n\n```yaml\ndeploy: true\n```\n",
            "docs/c.md": "# Deploy\n\n| step | command |\n|---|---|\n| 1 | `make deploy` |\n",
        }
    )
    assert scan(root).procedures == []


def test_unclosed_fence_runs_to_the_end(make_repo):
    root = make_repo({"DEPLOY.md": "# Deploy\n```sh\nmake deploy\n"})
    (procedure,) = scan(root).procedures
    assert lines_of(procedure.steps[0].evidence) == ("DEPLOY.md", 2, 3)
    assert commands_of(procedure.steps[0]) == [("make deploy", 3, 3)]


def test_latin1_document_is_read(make_repo):
    root = make_repo({"docs/deploiement.md": "# D\xe9ploiement\n\n1. ssh prod\n".encode("latin-1")})
    inventory = scan(root)
    (procedure,) = inventory.procedures
    assert procedure.title == "Déploiement"
    assert procedure.markers == ["ssh"]


def test_a_big_document_is_read_in_linear_time(make_repo):
    section = "## Restart {n}\n\n1. ssh host{n}\n2. Run:\n   ```sh\n   sudo systemctl restart app{n}\n   ```\n\n"
    root = make_repo({"RUNBOOK.md": "# Runbook\n\n" + "".join(section.format(n=n) for n in range(3000))})
    started = time.perf_counter()
    inventory = scan(root)
    elapsed = time.perf_counter() - started
    assert len(inventory.procedures) == 3000
    last = inventory.procedures[-1]
    assert last.id == "RUNBOOK.md#runbook/restart-2999"
    assert commands_of(last.steps[1]) == [("sudo systemctl restart app2999", 3 + 2999 * 8 + 5, 3 + 2999 * 8 + 5)]
    assert elapsed < 8


EDITOR_STEPS = """
# Editor integration

## PyCharm

1. Go to Preferences and open Tools.
2. Click the plus sign and add Black.
"""


def test_clicking_through_a_ui_alone_is_not_hand_work_outside_ops_docs(make_repo):
    root = make_repo(
        {
            "docs/integrations/editors.md": EDITOR_STEPS,
            "docs/runbooks/console.md": EDITOR_STEPS,  # in a runbook, the same clicks are operations
            "docs/admin.md": EDITOR_STEPS + "3. Then ssh to the host and restart the service.\n",
        }
    )
    inventory = run_detectors(root, "markdown-procedures")
    assert errors_of(inventory) == []
    assert sorted(p.path for p in inventory.procedures) == ["docs/admin.md", "docs/runbooks/console.md"]
    admin = next(p for p in inventory.procedures if p.path == "docs/admin.md")
    assert admin.markers == ["go to", "click", "ssh", "restart"]


def test_the_agent_text_search_over_joined_texts_finds_what_a_search_per_text_finds():
    """`_written_for_an_agent` searches the section's texts joined by newlines: a phrase cut between two texts must
    not be found, one inside a text must."""
    import random

    from orchestrator_kit.discovery.procedures import AGENT_TEXT, _Section, _written_for_an_agent

    pieces = ["ignore", " all", " previous", " instructions", "ignore all previous instructions", "system",
              " prompt", "you are an", " ai", "AI agents", "llm", " assistants", "xai", "\n", " ", "deploy", "the"]
    rng = random.Random(41)  # noqa: S311 - seeded test input, not security
    section = _Section(level=2, heading_path=["Release"], start=0)
    found = 0
    for _ in range(3000):
        texts = [("".join(rng.choice(pieces) for _ in range(rng.randint(0, 4))), rng.random() < 0.5)
                 for _ in range(rng.randint(0, 5))]
        expected = any(AGENT_TEXT.search(text) for text, _ in texts)
        found += expected
        assert _written_for_an_agent(section, texts) is expected, texts
    assert found > 300


INLINE_DOCUMENT = """\
# Deploy `prod` by *hand*

Run `make deploy` and then **check** the [dashboard](https://example.com/`x`) <span>now</span>.
Then  ssh   into `bastion`\\
and restart it. ![image `alt`](i.png) &amp; done `` a ` b ``.

- Tag the release with `git tag v1`
  and push it: `git push --tags`
- No code here, just *words* and <br> tags
"""


@pytest.mark.parametrize("text", [INLINE_DOCUMENT, "plain words only\n", "`only code`\n", "a <!-- c --> b\n"])
def test_both_inline_texts_from_one_walk_are_the_two_inline_texts(text):
    from orchestrator_kit.discovery import _mdtree
    from orchestrator_kit.discovery.procedures import _inline_text, _inline_texts, _walk

    tree = _mdtree.parse(text)
    inlines = [node for node in _walk(tree) if node.type == "inline"]
    assert inlines
    for inline in inlines:
        assert _inline_texts(inline) == (_inline_text(inline), _inline_text(inline, backticks=False))
    _mdtree.release(tree)


def test_an_id_under_a_very_long_heading_is_cut_at_a_word_and_stays_unique(make_repo):
    # a heading path of thousands of characters made an id `generate --from-procedure` refused (found by a hunt)
    long = " ".join(["rotate the database credentials"] * 40)  # 1,279 characters
    root = make_repo({"RUNBOOK.md": f"# {long}\n1. ssh db1\n# {long} again\n1. ssh db2\n"})
    ids = [p.id for p in scan(root).procedures]
    slugs = [i.removeprefix("RUNBOOK.md#") for i in ids]
    assert len(ids) == 2 and len(set(ids)) == 2
    assert all(len(s) <= 200 + 2 for s in slugs)  # cut to 200, then the uniqueness suffix
    assert slugs[0].startswith("rotate-the-database-credentials-rotate") and not slugs[0].endswith("-")
    assert slugs[1] == slugs[0] + "-2"
