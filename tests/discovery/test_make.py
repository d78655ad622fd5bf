"""The make detector: Makefiles as people write them, checked by hand and, where GNU make is installed,
against make's own rule database (`make -pnRr`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_kit.discovery.base import DetectContext
from orchestrator_kit.discovery.make import detect_makefile
from orchestrator_kit.models import Task
from orchestrator_kit.repo import FileText, Workspace
from tests.conftest import errors_of, run_detectors

from .conftest import task_scanner

# Written at column 0 on purpose: recipe lines must start with a real TAB (\t).
SELF_DOCUMENTING = """\
# Project Makefile
SHELL := /bin/bash
.DEFAULT_GOAL := help
VERSION ?= $(shell git describe --tags)
IMAGE = ghcr.io/acme/app:$(VERSION)

.PHONY: help build test
help: ## Show this help
\t@awk 'BEGIN {FS = ":.*##"} /^[a-z-]+:.*##/ {print $$1}' $(MAKEFILE_LIST)

build: deps ## Build the binary
\tgo build -o bin/app ./cmd/app

# Run the unit tests
# with the race detector on.
test: build
\t-go test -race ./...

image: build
\tdocker build \\
\t  -t $(IMAGE) .
\t@echo built $(IMAGE)

.PHONY: release
release: test image
\t$(MAKE) push
\tgit tag v$(VERSION)

push:
\tdocker push $(IMAGE)

deps:
"""


scan = task_scanner("make", key=lambda t: t.id.split("#", 1)[1] if t.path == "Makefile" else t.id)


def commands(task: Task) -> list[tuple[str, int, int]]:
    return [(c.text, c.evidence.line_start, c.evidence.line_end) for c in task.commands]


def test_self_documenting_makefile(make_repo):
    tasks, diagnostics = scan(make_repo, {"Makefile": SELF_DOCUMENTING})
    assert diagnostics == []
    assert list(tasks) == ["help", "build", "test", "image", "release", "push", "deps"]

    help_ = tasks["help"]
    assert help_.id == "make:Makefile#help"
    assert help_.runner == "make"
    assert help_.invocation == "make help"
    assert help_.phony is True
    assert help_.description == "Show this help"
    assert help_.attributes == {"default_goal": "help"}
    assert (help_.evidence.line_start, help_.evidence.line_end) == (8, 9)
    assert commands(help_) == [
        ("""awk 'BEGIN {FS = ":.*##"} /^[a-z-]+:.*##/ {print $$1}' $(MAKEFILE_LIST)""", 9, 9)
    ]

    build = tasks["build"]
    assert build.depends_on == ["deps"]
    assert build.description == "Build the binary"
    assert commands(build) == [("go build -o bin/app ./cmd/app", 12, 12)]
    assert (build.evidence.line_start, build.evidence.line_end) == (11, 12)

    test = tasks["test"]
    assert test.description == "Run the unit tests with the race detector on."
    assert commands(test) == [("go test -race ./...", 17, 17)]  # the `-` prefix is make's, not the shell's
    assert test.depends_on == ["build"]

    image = tasks["image"]
    assert image.phony is False
    assert image.description is None
    assert commands(image) == [("docker build -t $(IMAGE) .", 20, 21), ("echo built $(IMAGE)", 22, 22)]
    assert (image.evidence.line_start, image.evidence.line_end) == (19, 22)

    release = tasks["release"]
    assert release.phony is True  # from the second .PHONY line
    assert release.depends_on == ["test", "image", "push"]  # `$(MAKE) push` runs push
    assert commands(release) == [("$(MAKE) push", 26, 26), ("git tag v$(VERSION)", 27, 27)]

    assert (tasks["push"].evidence.line_start, tasks["push"].evidence.line_end) == (29, 30)
    deps = tasks["deps"]
    assert (deps.evidence.line_start, deps.evidence.line_end) == (32, 32)
    assert deps.commands == []
    assert all(t.attributes.get("default_goal") is None for name, t in tasks.items() if name != "help")


def _make_database(directory: Path) -> dict[str, list[str]]:
    """GNU make's own view of the targets: `make -pnRr` prints every rule it read (nothing is run)."""
    proc = subprocess.run(
        ["make", "-pnRr", "-f", "Makefile", "--no-print-directory", ".DEFAULT_GOAL_UNUSED_TARGET"],
        cwd=directory, capture_output=True, text=True, check=False, timeout=30,
    )
    targets: dict[str, list[str]] = {}
    lines = proc.stdout.split("\n")
    in_files = False
    for index, line in enumerate(lines):
        if line.startswith("# Files"):
            in_files = True
        elif line.startswith("# files hash-table stats") or line.startswith("# VPATH Search Paths"):
            in_files = False
        if not in_files or not line or line.startswith(("#", "\t", " ")) or ":" not in line:
            continue
        if index and lines[index - 1].startswith("# Not a target"):
            continue
        name, _, rest = line.partition(":")
        if name.startswith(".") or rest.startswith("="):
            continue
        targets[name] = rest.lstrip(":").replace("|", " ").split()
    return targets


@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")
def test_targets_and_prerequisites_agree_with_gnu_make(make_repo):
    root = make_repo({"Makefile": SELF_DOCUMENTING + RULE_SYNTAX_FOR_ORACLE})
    version = subprocess.run(["make", "--version"], capture_output=True, text=True, check=False).stdout
    if "GNU Make" not in version:
        pytest.skip("not GNU make")
    expected = _make_database(root)
    inventory = run_detectors(root, "make")
    assert errors_of(inventory) == []
    ours = {t.name: t for t in inventory.tasks}
    # Build products (files with an extension, paths) are make's targets but not tasks a person runs.
    expected = {name: prereqs for name, prereqs in expected.items() if "." not in name and "/" not in name}
    assert set(ours) == set(expected)
    for name, prereqs in expected.items():
        # make lists prerequisites; we add the targets of `$(MAKE) x` calls after them
        assert ours[name].depends_on[: len(prereqs)] == prereqs, name


RULE_SYNTAX_FOR_ORACLE = """
fmt lint: tools
\tgolangci-lint run
a.txt b.txt &: gen.py
\tpython gen.py
objects = foo.o bar.o
foo.o bar.o: %.o: %.c | objdir
\tcc -c $< -o $@
version: ; @echo $(VERSION)
all: fmt \\
  lint \\
  test
clean::
\trm -rf bin
clean::
\trm -rf dist
URL = http://example.com:8080/x
B := c:d
C ::= d
D ?= e
E += f
export G := h
deploy: ENV=prod
deploy: export REGION := eu
deploy: push
\t./deploy.sh $(ENV)
tools:
"""


RULE_CASES = [
    pytest.param("fmt lint: tools\n\tgolangci-lint run\n",
                 {"fmt": (["tools"], ["golangci-lint run"]), "lint": (["tools"], ["golangci-lint run"])},
                 id="multi-target"),
    pytest.param("gen-a gen-b &: gen.py\n\tpython gen.py\n",
                 {"gen-a": (["gen.py"], ["python gen.py"]), "gen-b": (["gen.py"], ["python gen.py"])},
                 id="grouped-targets"),
    pytest.param("foo bar: %: %.c\n\tcc -c $< -o $@\n",
                 {"foo": (["foo.c"], ["cc -c $< -o $@"]), "bar": (["bar.c"], ["cc -c $< -o $@"])},
                 id="static-pattern"),
    pytest.param("version: ; @echo $(VERSION)\n", {"version": ([], ["echo $(VERSION)"])}, id="inline-recipe"),
    pytest.param("build: main.go | bin\n\tgo build\n", {"build": (["main.go", "bin"], ["go build"])},
                 id="order-only"),
    pytest.param("all: fmt \\\n  lint \\\n  test\n", {"all": (["fmt", "lint", "test"], [])}, id="continued-prereqs"),
    pytest.param("clean::\n\trm -rf bin\nclean::\n\trm -rf dist\n", {"clean": ([], ["rm -rf bin", "rm -rf dist"])},
                 id="double-colon"),
    pytest.param("URL = http://example.com:8080/x\nB := c:d\nC ::= d\nD ?= e\nE += f\nF != echo g:h\n"
                 "export G := h\noverride H = i:j\nI :::= k\nreal: ; true\n",
                 {"real": ([], ["true"])}, id="assignments-are-not-rules"),
    pytest.param("define HELP\nfake: rule\n\techo no\nendef\ndefine OUTER =\ndefine INNER\nx: y\nendef\nendef\n"
                 "after:\n\techo yes\n",
                 {"after": ([], ["echo yes"])}, id="define-blocks-skipped"),
    pytest.param("ifeq ($(CI),true)\nci: build\n\techo ci\nelse ifdef LOCAL\nlocal:\n\techo local\nelse\n"
                 "other:\nendif\n",
                 {"ci": (["build"], ["echo ci"]), "local": ([], ["echo local"]), "other": ([], [])},
                 id="conditionals-keep-all-branches"),
    pytest.param(".SUFFIXES:\n.c.o:\n\tcc -c $<\n%.o: %.c\n\tcc -c $<\n.DEFAULT:\n\techo\n.PHONY: go\ngo:\n",
                 {"go": ([], [])}, id="special-and-pattern-targets"),
    pytest.param(".RECIPEPREFIX = >\nbuild:\n> go build\n>   @go vet\n", {"build": ([], ["go build", "go vet"])},
                 id="recipeprefix"),
    pytest.param("$(BINARY): $(SOURCES) go.mod\n\tgo build -o $@\n", {}, id="variable-target-names-are-files"),
    pytest.param("CMDS := api worker\n.PHONY: $(CMDS)\n$(CMDS):\n\tgo build ./cmd/$@\n",
                 {"api": ([], ["go build ./cmd/$@"]), "worker": ([], ["go build ./cmd/$@"])},
                 id="variable-target-list-expanded"),
    pytest.param("t: $(call deps, a b) x\n", {"t": (["$(call deps, a b)", "x"], [])}, id="function-call-prereq"),
    pytest.param("notes:\n\t# a shell comment\n\t@-rm -f x\n\t\n\techo \\#literal\n",
                 {"notes": ([], ["rm -f x", "echo \\#literal"])}, id="recipe-prefixes-and-comments"),
    pytest.param("install:\nexport:\ninclude:\n", {"install": ([], []), "export": ([], []), "include": ([], [])},
                 id="targets-named-like-directives"),
]


@pytest.mark.parametrize(("text", "expected"), RULE_CASES)
def test_rule_syntax(make_repo, text, expected):
    tasks, _ = scan(make_repo, {"Makefile": text})
    got = {name: (t.depends_on, [c.text for c in t.commands]) for name, t in tasks.items()}
    assert got == expected


def test_order_only_static_pattern_and_double_colon_attributes(make_repo):
    tasks, _ = scan(make_repo, {"Makefile": "foo: %: %.c | objdir\n\tcc\nclean::\n\trm a\nb: c | d e\n"})
    assert tasks["foo"].depends_on == ["foo.c", "objdir"]
    assert tasks["foo"].attributes["static_pattern"] == "%"
    assert tasks["foo"].attributes["order_only"] == "objdir"
    assert tasks["clean"].attributes["double_colon"] == "true"
    assert tasks["b"].attributes["order_only"] == "d e"


def test_target_specific_variables_are_not_rules(make_repo):
    text = "deploy: ENV=prod\ndeploy: export REGION := eu\n%.o: CFLAGS += -O2\ndeploy: push\n\t./deploy.sh $(ENV)\n"
    tasks, _ = scan(make_repo, {"Makefile": text})
    assert list(tasks) == ["deploy"]
    deploy = tasks["deploy"]
    assert deploy.depends_on == ["push"]
    assert deploy.attributes["target_variables"] == "ENV = prod; export REGION := eu"
    assert (deploy.evidence.line_start, deploy.evidence.line_end) == (4, 5)
    assert deploy.attributes["default_goal"] == "deploy"


def test_only_a_target_variable_makes_no_task(make_repo):
    tasks, _ = scan(make_repo, {"Makefile": "ghost: X = 1\nreal:\n\ttrue\n"})
    assert list(tasks) == ["real"]


def test_sub_make_calls(make_repo):
    text = (
        "all:\n"
        "\t$(MAKE) lint test\n"
        "\t$(MAKE) -C docs html\n"
        "\tcd web && make build\n"
        "\t+make -j 4 -s package VERSION=1\n"
        "\t${MAKE} --no-print-directory -f other.mk x\n"
        "\tcd . && $(MAKE) $@-extra\n"
    )
    tasks, _ = scan(make_repo, {"Makefile": text})
    assert tasks["all"].depends_on == ["lint", "test", "package"]
    assert tasks["all"].attributes["sub_make"] == (
        "$(MAKE) -C docs html; cd web && make build; ${MAKE} --no-print-directory -f other.mk x"
    )


def test_target_in_two_rules_is_one_task(make_repo):
    text = "test: unit\n\nlint:\n\truff check\n\ntest: lint\n\tpytest\n"
    tasks, diagnostics = scan(make_repo, {"Makefile": text})
    assert set(tasks) == {"test", "lint"}  # listed by evidence: the recipe rule of test comes last
    test = tasks["test"]
    assert test.depends_on == ["unit", "lint"]
    assert commands(test) == [("pytest", 7, 7)]
    assert (test.evidence.line_start, test.evidence.line_end) == (6, 7)  # the rule with the recipe
    assert test.attributes["rule_lines"] == "1, 6"
    assert diagnostics == []


def test_second_recipe_overrides_the_first_like_make(make_repo):
    tasks, diagnostics = scan(make_repo, {"Makefile": "build:\n\techo one\n\nbuild:\n\techo two\n"})
    assert [c.text for c in tasks["build"].commands] == ["echo two"]
    assert (tasks["build"].evidence.line_start, tasks["build"].evidence.line_end) == (4, 5)
    assert len(diagnostics) == 1
    assert diagnostics[0].line == 4
    assert "overriding recipe" in diagnostics[0].reason
    assert diagnostics[0].detector == "make"


def test_spaces_instead_of_tab_is_reported(make_repo):
    tasks, diagnostics = scan(make_repo, {"Makefile": "build:\n    go build ./...\n"})
    assert tasks["build"].commands == []
    assert [(d.line, "missing separator" in d.reason) for d in diagnostics] == [(2, True)]


@pytest.mark.parametrize(
    ("text", "description"),
    [
        pytest.param("build: ## Build it\n\tgo build\n", "Build it", id="double-hash-same-line"),
        pytest.param("build: deps # compile\n\tgo build\ndeps:\n", "compile", id="single-hash-same-line"),
        pytest.param("## build: Build the image\nbuild:\n\tdocker build .\n", "Build the image",
                     id="help-comment-above-with-name"),
        pytest.param("##########\n# Build the image\n##########\nbuild:\n", "Build the image", id="banner-comment"),
        pytest.param("# Build the image\n\nbuild:\n", None, id="blank-line-breaks-it"),
        pytest.param("# one\n# two\nbuild:\n", "one two", id="two-comment-lines"),
        pytest.param("# above\nbuild: ## inline wins\n", "inline wins", id="inline-beats-above"),
        pytest.param("# Build it\n.PHONY: build\nbuild:\n", "Build it", id="comment-above-phony-line"),
        pytest.param("# Not this\n.PHONY: build\n\nbuild:\n", None, id="phony-then-blank-line"),
        pytest.param("# Not this\n.PHONY: other\nX = 1\nbuild:\n", None, id="phony-then-assignment"),
    ],
)
def test_descriptions(make_repo, text, description):
    tasks, _ = scan(make_repo, {"Makefile": text})
    assert tasks["build"].description == description


@pytest.mark.parametrize(
    ("text", "holder", "goal"),
    [
        pytest.param(".PHONY: all\n%.o: %.c\n\tcc\n.hidden:\nall: build\nbuild:\n", "all", "all",
                     id="first-ordinary-target"),
        pytest.param("build:\ntest:\n.DEFAULT_GOAL := test\n", "test", "test", id="default-goal-variable"),
        pytest.param("build:\n.DEFAULT_GOAL = $(GOAL)\n", "build", "$(GOAL)", id="default-goal-unknown"),
    ],
)
def test_default_goal(make_repo, text, holder, goal):
    tasks, _ = scan(make_repo, {"Makefile": text})
    assert {n: t.attributes.get("default_goal") for n, t in tasks.items() if "default_goal" in t.attributes} == {
        holder: goal
    }


@pytest.mark.parametrize(
    ("files", "task_id", "invocation", "included_by"),
    [
        pytest.param({"makefile": "x:\n"}, "make:makefile#x", "make x", None, id="lowercase"),
        pytest.param({"GNUmakefile": "x:\n"}, "make:GNUmakefile#x", "make x", None, id="gnumakefile"),
        pytest.param({"services/api/Makefile": "x:\n"}, "make:services/api/Makefile#x", "make -C services/api x",
                     None, id="subdirectory"),
        pytest.param({"build/rules.mk": "x:\n"}, "make:build/rules.mk#x", "make -f build/rules.mk x", None,
                     id="mk-not-included"),
        pytest.param({"Makefile": "include mk/*.mk\n", "mk/go.mk": "x:\n"}, "make:mk/go.mk#x", "make x",
                     "Makefile", id="mk-included-by-glob"),
        pytest.param({"Makefile": "-include $(wildcard make/*.mk) # extras\n", "make/x.mk": "x:\n"},
                     "make:make/x.mk#x", "make x", "Makefile", id="mk-included-by-wildcard"),
        pytest.param({"Makefile": "ROOT := $(CURDIR)\ninclude $(ROOT)/tools/common.mk\n", "tools/common.mk": "x:\n"},
                     "make:tools/common.mk#x", "make x", "Makefile", id="mk-included-through-variable"),
        pytest.param({"Makefile": "include common.mk\n", "sub/common.mk": "x:\n"}, "make:sub/common.mk#x",
                     "make -f sub/common.mk x", None, id="same-name-elsewhere-is-not-included"),
        pytest.param({"sub/Makefile": "sinclude local.mk\n", "sub/local.mk": "x:\n"}, "make:sub/local.mk#x",
                     "make -C sub x", "sub/Makefile", id="mk-included-in-subdirectory"),
        pytest.param({"Makefile": "include Makefile.common\n", "Makefile.common": "x:\n"}, "make:Makefile.common#x",
                     "make x", "Makefile", id="makefile-common"),
    ],
)
def test_file_names_and_invocations(make_repo, files, task_id, invocation, included_by):
    inventory = run_detectors(make_repo(files), "make")
    assert errors_of(inventory) == []
    task = next(t for t in inventory.tasks if t.id == task_id)
    assert task.invocation == invocation
    assert task.attributes.get("included_by") == included_by


def test_vendored_makefiles_are_ignored(make_repo):
    inventory = run_detectors(
        make_repo({"vendor/lib/Makefile": "x:\n", "node_modules/pkg/Makefile": "y:\n", "third_party/a.mk": "z:\n",
                   "Makefile.am": "w:\n", "Makefile.in": "v:\n", "docs/Makefile.md": "u:\n"}),
        "make",
    )
    assert inventory.tasks == []


def test_secrets_in_recipes_are_redacted(make_repo):
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    tasks, _ = scan(make_repo, {"Makefile": f'release:\n\tcurl -H "Authorization: token {token}" https://x\n'})
    text = tasks["release"].commands[0].text
    assert token not in text
    assert "[REDACTED" in text
    tasks, _ = scan(make_repo, {"Makefile": f"deploy: GITHUB_TOKEN={token}\ndeploy:\n\tcd x && $(MAKE) up T={token}\n"})
    assert all(token not in value for value in tasks["deploy"].attributes.values())
    assert "[REDACTED" in tasks["deploy"].attributes["target_variables"]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("", id="empty"),
        pytest.param("# only a comment\n\n   \n", id="comments-only"),
        pytest.param("build: a \\", id="continuation-at-end-of-file"),
        pytest.param("define NEVER_ENDS\nx: y\n", id="unterminated-define"),
        pytest.param("}}}{{ :: = \\\n$($($(\n:\n=\n::\n&:\n|\n;\n", id="junk"),
        pytest.param("t: $(unbalanced\n\techo\n", id="unbalanced-reference"),
        pytest.param("x" * 200_000 + ": y\n", id="huge-line"),
        pytest.param(b"# caf\xe9\nbuild:\n\techo \xe9\n", id="latin-1"),
        pytest.param(b"build:\r\n\techo crlf\r\n", id="crlf"),
        pytest.param(".RECIPEPREFIX := >>\nx:\n>> echo\n", id="long-recipeprefix"),
        pytest.param("\tstray recipe before any rule\n", id="recipe-before-rule"),
    ],
)
def test_odd_input_never_crashes(make_repo, content):
    inventory = run_detectors(make_repo({"Makefile": content}), "make")
    assert errors_of(inventory) == []
    for task in inventory.tasks:
        assert task.evidence.line_start >= 1


def test_crlf_and_latin1_are_read(make_repo):
    tasks, _ = scan(make_repo, {"Makefile": b"build:\r\n\techo crlf\r\n"})
    assert [c.text for c in tasks["build"].commands] == ["echo crlf"]
    root = make_repo({"Makefile": b"# caf\xe9\nbuild:\n\techo \xe9\n"})
    inventory = run_detectors(root, "make")
    assert [c.text for c in inventory.tasks[0].commands] == ["echo é"]
    assert any("Latin-1" in d.reason for d in inventory.diagnostics)


_MAKE_ALPHABET = st.sampled_from(
    ["\t", " ", "\n", ":", "::", "=", ":=", "?=", "+=", "|", ";", "#", "##", "\\", "\\\n", "$(", ")", "${", "}", "%",
     ".PHONY", "define", "endef", "ifeq", "endif", "else", "include", "export", ".RECIPEPREFIX", "@", "-", "+",
     "$(MAKE)", "make", "-C", "a", "b", "build", "x.o", ".", "&", "&:"]
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_MAKE_ALPHABET, max_size=60).map("".join))
def test_fuzzed_makefiles_never_raise(tmp_path, text):
    ctx = DetectContext(Workspace(tmp_path), ["Makefile"])
    detect_makefile(ctx, FileText(path="Makefile", text=text, encoding="utf-8", size=len(text)))
    for task in ctx.findings.tasks:
        assert 1 <= task.evidence.line_start <= task.evidence.line_end
        assert task.evidence.line_end <= max(1, text.count("\n") + 1)


GO_SSH = """\
HOST ?= prod
CMDS := api worker
EXTRA = $(CMDS) migrate

ifeq ($(OS),Windows_NT)
BIN := bin/ledger.exe
clean:
\tdel /q bin
else ifeq ($(OS),Darwin)
clean:
\trm -rf bin dist
else
clean:
\trm -rf bin
endif

.PHONY: all $(EXTRA) deploy clean

all: $(EXTRA)

$(EXTRA):
\tgo build -o bin/$@ ./cmd/$@

deploy: all
\t./scripts/deploy.sh $(HOST)
\tbash tools/notify.sh
\tpython3 tools/check.py

bin/SHA256SUMS: all
\tcd bin && sha256sum * > SHA256SUMS
x264$(EXE): $(OBJS)
\t$(CC) -o $@ $^
config.mak:
\t./configure
"""


def test_variable_lists_file_targets_alternatives_and_missing_scripts(make_repo):
    tasks, diagnostics = scan(make_repo, {"Makefile": GO_SSH, "scripts/deploy.sh": "#!/bin/sh\n"})
    assert sorted(tasks) == ["all", "api", "clean", "deploy", "migrate", "worker"]
    assert tasks["api"].attributes["listed_in"] == "$(EXTRA)" and tasks["api"].phony is True
    assert tasks["all"].depends_on == ["api", "worker", "migrate"]
    clean = tasks["clean"]
    assert [c.text for c in clean.commands] == ["del /q bin"]  # the first branch; the others are alternatives
    assert clean.attributes["alternative_recipes"] == "10, 13"
    assert not any("overriding" in d.reason for d in diagnostics)
    assert sorted((d.line, d.reason) for d in diagnostics) == [
        (26, "target 'deploy' runs tools/notify.sh, which is not in the repository"),
        (27, "target 'deploy' runs tools/check.py, which is not in the repository"),
    ]


def test_two_recipes_in_the_same_branch_still_override(make_repo):
    text = "ifdef CI\nbuild:\n\tgo build\nbuild:\n\tgo build -race\nendif\n"
    tasks, diagnostics = scan(make_repo, {"Makefile": text})
    assert [c.text for c in tasks["build"].commands] == ["go build -race"]
    assert [d.line for d in diagnostics if "overriding" in d.reason] == [4]
