"""The just detector: justfiles as people write them, values checked by hand against the just manual."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_kit.discovery.base import DetectContext
from orchestrator_kit.discovery.justfile import detect_justfile
from orchestrator_kit.repo import FileText, Workspace
from tests.conftest import errors_of, run_detectors

from .conftest import command_lines as lines
from .conftest import task_scanner

JUSTFILE = """\
set dotenv-load
set shell := ["bash", "-uc"]

version := `git describe --tags`
export RUST_LOG := "info"
long := '''
a: b
'''

alias b := build
alias t := test

# Show recipes
default:
    @just --list

# Build the project
build target='debug' +features='':
    cargo build --profile {{target}} \\
        --features "{{features}}"
    @echo done

# Ship it
[group('ci')]
[confirm('Deploy to production?')]
deploy env="staging": build (test "all") && notify
\t./scripts/deploy.sh {{env}}
\t-kubectl rollout status deploy/app

test filter="":
  cargo test {{filter}}

[private]
notify:
    curl -fsS -X POST https://hooks.example.com/deploy

_cleanup:
    rm -rf target/tmp

[group: 'ci', no-cd, linux]
@lint:
    cargo clippy -- -D warnings

py:
    #!/usr/bin/env python3
    import sys
    # comment
    print(sys.version)

mod docker
import 'ci.just'
"""


scan = task_scanner("just", key=lambda t: t.name, path="justfile")


def test_realistic_justfile(make_repo):
    tasks, diagnostics = scan(make_repo, {"justfile": JUSTFILE})
    assert diagnostics == []
    assert list(tasks) == ["default", "build", "deploy", "test", "notify", "_cleanup", "lint", "py"]

    default = tasks["default"]
    assert default.id == "just:justfile#default"
    assert default.invocation == "just default"
    assert default.description == "Show recipes"
    assert lines(default) == [("just --list", 15, 15)]
    assert (default.evidence.line_start, default.evidence.line_end) == (14, 15)

    build = tasks["build"]
    assert build.description == "Build the project"
    assert build.attributes == {"parameters": "target='debug' +features=''", "aliases": "b"}
    assert lines(build) == [
        ('cargo build --profile {{target}} --features "{{features}}"', 19, 20),
        ("echo done", 21, 21),
    ]
    assert (build.evidence.line_start, build.evidence.line_end) == (18, 21)

    deploy = tasks["deploy"]
    assert deploy.description == "Ship it"  # the comment above the attributes
    assert deploy.depends_on == ["build", "test"]
    assert deploy.hooks == ["notify"]  # after `&&`: runs after the recipe
    assert deploy.attributes == {
        "group": "ci",
        "confirm": "Deploy to production?",
        "parameters": 'env="staging"',
    }
    assert lines(deploy) == [("./scripts/deploy.sh {{env}}", 27, 27), ("kubectl rollout status deploy/app", 28, 28)]
    assert (deploy.evidence.line_start, deploy.evidence.line_end) == (26, 28)

    test = tasks["test"]
    assert test.description is None
    assert test.attributes == {"parameters": 'filter=""', "aliases": "t"}
    assert lines(test) == [("cargo test {{filter}}", 31, 31)]

    assert tasks["notify"].attributes == {"private": "true"}
    assert tasks["_cleanup"].attributes == {"private": "true"}
    assert tasks["lint"].attributes == {
        "group": "ci", "platforms": "linux", "just_attributes": "no-cd", "quiet": "true"
    }
    assert lines(tasks["lint"]) == [("cargo clippy -- -D warnings", 42, 42)]

    py = tasks["py"]
    assert py.attributes == {"shebang": "#!/usr/bin/env python3"}
    assert lines(py) == [("import sys", 46, 46), ("print(sys.version)", 48, 48)]
    assert (py.evidence.line_start, py.evidence.line_end) == (44, 48)


@pytest.mark.parametrize(
    ("text", "name", "depends", "hooks", "parameters"),
    [
        pytest.param("a:\n  echo\n", "a", [], [], None, id="bare"),
        pytest.param("a: b c\n", "a", ["b", "c"], [], None, id="deps"),
        pytest.param("a: (b 'x y') (c \"1\" var)\n", "a", ["b", "c"], [], None, id="deps-with-arguments"),
        pytest.param("a: b && c (d 'x')\n", "a", ["b"], ["c", "d"], None, id="subsequent-deps"),
        pytest.param("a: docker::build\n", "a", ["docker::build"], [], None, id="module-dep"),
        pytest.param("a x y='1' *rest:\n", "a", [], [], "x y='1' *rest", id="params"),
        pytest.param("a $TOKEN:\n", "a", [], [], "$TOKEN", id="exported-param"),
        pytest.param("a sep=':' url=\"http://x:1\": b\n", "a", ["b"], [], "sep=':' url=\"http://x:1\"",
                     id="colons-in-defaults"),
        pytest.param("a arch=(os() + '-x'): b\n", "a", ["b"], [], "arch=(os() + '-x')", id="expression-default"),
        pytest.param("test-unit: # run unit tests\n", "test-unit", [], [], None, id="dash-name-trailing-comment"),
    ],
)
def test_recipe_headers(make_repo, text, name, depends, hooks, parameters):
    tasks, diagnostics = scan(make_repo, {"justfile": text})
    assert diagnostics == []
    task = tasks[name]
    assert task.depends_on == depends
    assert task.hooks == hooks
    assert task.attributes.get("parameters") == parameters


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a:\n\techo 1\n\n\techo 2\n", [("echo 1", 2, 2), ("echo 2", 4, 4)], id="tab-body-blank-inside"),
        pytest.param("a:\n        echo 1\n        @-echo 2\n", [("echo 1", 2, 2), ("echo 2", 3, 3)],
                     id="eight-spaces-and-prefixes"),
        pytest.param("a:\n  # comment\n  echo {{{{not-interpolated}}\n", [("echo {{{{not-interpolated}}", 3, 3)],
                     id="comment-line-skipped"),
        pytest.param("[script('bash')]\na:\n  set -e\n  echo hi\n", [("set -e", 3, 3), ("echo hi", 4, 4)],
                     id="script-attribute"),
        pytest.param("a:\n  echo 1\nb:\n  echo 2\n", [("echo 1", 2, 2)], id="body-ends-at-next-recipe"),
    ],
)
def test_recipe_bodies(make_repo, text, expected):
    tasks, _ = scan(make_repo, {"justfile": text})
    assert lines(tasks["a"]) == expected


def test_just_calls_in_bodies_are_dependencies(make_repo):
    text = (
        "alias i := install\n"
        "setup:\n"
        "    just install && just --quiet lint\n"
        "    just --list\n"
        "    adjust x\n"
        "    just i\n"
        "install:\n"
        "lint:\n"
        "fmt:\n"
        "    just i\n"
    )
    tasks, _ = scan(make_repo, {"justfile": text})
    assert tasks["setup"].depends_on == ["install", "lint"]  # `--list` is an option; `adjust` is not `just`
    assert tasks["fmt"].depends_on == ["install"]  # through the alias


def test_statements_are_not_recipes(make_repo):
    text = (
        "set positional-arguments := true\n"
        "x := 'a: b'\n"
        "export Y := \"c: d\"\n"
        "unexport Z\n"
        "multi := (\n"
        "  'e: f'\n"
        ")\n"
        "cmd := ```\n"
        "  echo g: h\n"
        "```\n"
        "alias r := real\n"
        "mod? optional 'extra/optional.just'\n"
        "import? 'missing.just'\n"
        "real:\n"
    )
    tasks, diagnostics = scan(make_repo, {"justfile": text})
    assert list(tasks) == ["real"]
    assert tasks["real"].attributes == {"aliases": "r"}
    assert diagnostics == []


@pytest.mark.parametrize(
    ("text", "description"),
    [
        pytest.param("# Build it\nbuild:\n", "Build it", id="comment-above"),
        pytest.param("# Build it\n\nbuild:\n", None, id="blank-line-between"),
        pytest.param("# first\n# Build it\nbuild:\n", "Build it", id="last-comment-line-only"),
        pytest.param("# above\n[doc('From attribute')]\nbuild:\n", "From attribute", id="doc-attribute-wins"),
        pytest.param("# Build it\n[private]\n[no-exit-message]\nbuild:\n", "Build it", id="above-attributes"),
        pytest.param("#!/usr/bin/env just --justfile\nbuild:\n", None, id="shebang-is-not-doc"),
    ],
)
def test_doc_comments(make_repo, text, description):
    tasks, _ = scan(make_repo, {"justfile": text})
    assert tasks["build"].description == description


@pytest.mark.parametrize(
    ("files", "path", "invocation"),
    [
        pytest.param({"justfile": "x:\n"}, "justfile", "just x", id="justfile"),
        pytest.param({"Justfile": "x:\n"}, "Justfile", "just x", id="capital"),
        pytest.param({".justfile": "x:\n"}, ".justfile", "just x", id="hidden"),
        pytest.param({"JUSTFILE": "x:\n"}, "JUSTFILE", "just x", id="upper"),
        pytest.param({"services/api/justfile": "x:\n"}, "services/api/justfile", "just services/api/x", id="subdir"),
        pytest.param({"justfile": "mod docker\n", "docker.just": "x:\n"}, "docker.just", "just docker::x",
                     id="module-file"),
        pytest.param({"justfile": "mod tools\n", "tools/mod.just": "x:\n"}, "tools/mod.just", "just tools::x",
                     id="module-folder"),
        pytest.param({"justfile": "mod infra 'deploy/infra.just'\n", "deploy/infra.just": "x:\n"},
                     "deploy/infra.just", "just infra::x", id="module-explicit-path"),
        pytest.param({"justfile": "import 'just/ci.just'\n", "just/ci.just": "x:\n"}, "just/ci.just", "just x",
                     id="import"),
        pytest.param({"orphan.just": "x:\n"}, "orphan.just", "just -f orphan.just x", id="undeclared"),
        pytest.param({"a.just": "import 'b.just'\n", "b.just": "import 'a.just'\nx:\n"}, "b.just", "just -f a.just x",
                     id="import-loop"),
    ],
)
def test_file_names_and_invocations(make_repo, files, path, invocation):
    tasks, _ = scan(make_repo, files, path=path)
    assert tasks["x"].invocation == invocation
    assert tasks["x"].id == f"just:{path}#x"


def test_vendored_justfiles_are_ignored(make_repo):
    inventory = run_detectors(make_repo({"node_modules/p/justfile": "x:\n", "vendor/justfile": "y:\n"}), "just")
    assert inventory.tasks == []


@pytest.mark.parametrize(
    ("content", "diagnostic_line"),
    [
        pytest.param("", None, id="empty"),
        pytest.param("# nothing\n\n", None, id="comment-only"),
        pytest.param("[private\nx:\n", 1, id="unclosed-attribute"),
        pytest.param("this is not just syntax\nx:\n", 1, id="garbage-line"),
        pytest.param("long := '''\nx: y\n", None, id="unterminated-triple-quote"),
        pytest.param("x:\n" + "  echo " + "a" * 100_000 + "\n", None, id="huge-line"),
        pytest.param("x:\n  echo \\", None, id="continuation-at-end"),
        pytest.param("   indented: at top\n", None, id="stray-indentation"),
        pytest.param("[]\nx:\n", 1, id="empty-attribute"),
    ],
)
def test_odd_input(make_repo, content, diagnostic_line):
    inventory = run_detectors(make_repo({"justfile": content}), "just")
    assert errors_of(inventory) == []
    assert [d.line for d in inventory.diagnostics] == ([diagnostic_line] if diagnostic_line else [])


def test_secrets_in_bodies_and_attributes_are_redacted(make_repo):
    token = "ghp_" + "Qq1Ww2Ee3Rr4Tt5Yy6Uu7Ii8Oo9Pp0Aa1Ss2Dd"
    text = f"[confirm('Use {token}?')]\npush key='{token}':\n    curl -H 'Authorization: token {token}' x\n"
    tasks, _ = scan(make_repo, {"justfile": text})
    push = tasks["push"]
    assert token not in push.commands[0].text
    assert all(token not in value for value in push.attributes.values())
    assert "[REDACTED" in push.attributes["parameters"]


def test_unclosed_attribute_is_reported_with_reason(make_repo):
    _, diagnostics = scan(make_repo, {"justfile": "[private\nx:\n"})
    assert "attribute line not understood" in diagnostics[0].reason
    assert diagnostics[0].detector == "just"


_JUST_ALPHABET = st.sampled_from(
    ["\n", " ", "\t", "    ", ":", ":=", "&&", "(", ")", "[", "]", "'", '"', "'''", "```", "#", "#!", "@", "-", "+",
     "*", "$", "=", "a", "b", "_c", "::", "alias ", "mod ", "import ", "set ", "export ", "{{", "}}", "\\", ","]
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_JUST_ALPHABET, max_size=60).map("".join))
def test_fuzzed_justfiles_never_raise(tmp_path, text):
    ctx = DetectContext(Workspace(tmp_path), ["justfile"])
    detect_justfile(ctx, FileText(path="justfile", text=text, encoding="utf-8", size=len(text)))
    for task in ctx.findings.tasks:
        assert 1 <= task.evidence.line_start <= task.evidence.line_end <= text.count("\n") + 1
