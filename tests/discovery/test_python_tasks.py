"""Python task runners: pyproject.toml (entry points, poe, hatch, pdm), tox (ini, toml, pyproject) and nox.

Every expected value below was worked out by hand from the fixture and the tool's documentation."""

from __future__ import annotations

import time
import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_kit.discovery._python_common import TomlIndex
from orchestrator_kit.models import Task
from tests.conftest import errors_of, run_detectors

from .conftest import command_lines as lines

PYPROJECT = '''\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "acme"
version = "1.0"

[project.scripts]
acme = "acme.cli:main"
"acme-admin" = "acme.admin:run"

[project.gui-scripts]
acme-gui = "acme.gui:start"

[tool.poetry.scripts]
acme = "acme.cli:main"
legacy = { callable = "acme.legacy:main", extras = ["old"] }

[tool.poe]
envfile = ".env"

[tool.poe.tasks]
test = "pytest --cov=acme"
lint = { cmd = "ruff check .", help = "Lint the code" }
release = ["test", "_build", "publish"]
_build = "python -m build"
publish.shell = """
twine check dist/*
# upload
twine upload dist/*
"""
publish.help = "Upload to PyPI"
publish.deps = ["_build"]

[tool.poe.tasks.serve]
script = "acme.server:run(port=8000)"
help = "Dev server"
cwd = "app"

[tool.poe.tasks.check]
sequence = ["ruff format --check .", { ref = "lint" }]
default_item_type = "cmd"

[tool.hatch.envs.default.scripts]
cov = [
  "coverage run -m pytest",
  "- coverage combine",
  "coverage report",
]
all = ["cov", "typing"]
typing = "mypy src"

[tool.hatch.envs.docs]
detached = true
scripts.build = "mkdocs build --strict"

[[tool.hatch.envs.test.matrix]]
python = ["3.11", "3.12"]

[tool.hatch.envs.test.scripts]
run = "pytest {args}"

[tool.pdm.scripts]
_.env_file = ".env"
pre_test = "echo before"
test = { cmd = ["pytest", "-x", "tests dir"], help = "Run tests" }
post_test = { shell = "echo after && echo done" }
ci = { composite = ["lint", "test", "coverage xml"] }
lint = "ruff check ."
start = { call = "acme.app:main('dev')" }
pre_build = "echo building"
'''


def scan(make_repo, files: dict[str, str | bytes], *detectors: str) -> tuple[dict[str, Task], list]:
    inventory = run_detectors(make_repo(files), *detectors)
    assert errors_of(inventory) == []
    return {t.id: t for t in inventory.tasks}, list(inventory.diagnostics)


def span(task: Task) -> tuple[int, int]:
    return task.evidence.line_start, task.evidence.line_end


# ==================================================================== pyproject.toml


@pytest.fixture
def pyproject_tasks(make_repo) -> dict[str, Task]:
    tasks, diagnostics = scan(make_repo, {"pyproject.toml": PYPROJECT}, "pyproject-tasks")
    assert diagnostics == []
    return tasks


def test_entry_points(pyproject_tasks):
    acme = pyproject_tasks["pyproject:pyproject.toml#acme"]
    assert (acme.runner, acme.invocation, span(acme)) == ("pyproject", "acme", (10, 10))
    assert lines(acme) == [("acme.cli:main", 10, 10)]
    assert acme.attributes == {"entry_point": "acme.cli:main", "source": "project.scripts"}
    assert span(pyproject_tasks["pyproject:pyproject.toml#acme-admin"]) == (11, 11)  # a quoted key
    gui = pyproject_tasks["pyproject:pyproject.toml#acme-gui"]
    assert gui.attributes["gui"] == "true"
    assert span(gui) == (14, 14)
    legacy = pyproject_tasks["pyproject:pyproject.toml#legacy"]
    assert legacy.invocation == "poetry run legacy"
    assert lines(legacy) == [("acme.legacy:main", 18, 18)]
    # `acme` is declared for both PEP 621 and Poetry: one task
    assert [t for t in pyproject_tasks if t.endswith("#acme")] == ["pyproject:pyproject.toml#acme"]


def test_poe_tasks(pyproject_tasks):
    poe = {t.name: t for t in pyproject_tasks.values() if t.runner == "poe"}
    assert list(poe) == ["test", "lint", "release", "_build", "publish", "serve", "check"]
    assert {n: t.invocation for n, t in poe.items()}["serve"] == "poe serve"
    assert lines(poe["test"]) == [("pytest --cov=acme", 24, 24)]
    assert poe["test"].attributes == {"type": "cmd"}
    assert (poe["lint"].description, lines(poe["lint"])) == ("Lint the code", [("ruff check .", 25, 25)])
    assert poe["release"].depends_on == ["test", "_build", "publish"]  # array items are references
    assert poe["release"].commands == []
    assert poe["release"].attributes == {"type": "sequence"}
    assert poe["_build"].attributes == {"type": "cmd", "private": "true"}
    publish = poe["publish"]
    assert publish.attributes == {"type": "shell"}
    assert lines(publish) == [("twine check dist/*", 29, 29), ("twine upload dist/*", 31, 31)]
    assert (publish.description, publish.depends_on, span(publish)) == ("Upload to PyPI", ["_build"], (28, 34))
    serve = poe["serve"]
    assert serve.attributes == {"type": "script", "cwd": "app"}
    assert (lines(serve), serve.description, span(serve)) == (
        [("acme.server:run(port=8000)", 37, 37)], "Dev server", (36, 39)
    )
    check = poe["check"]  # default_item_type = "cmd": string items are commands
    assert (lines(check), check.depends_on, span(check)) == ([("ruff format --check .", 42, 42)], ["lint"], (41, 43))


def test_hatch_scripts(pyproject_tasks):
    cov = pyproject_tasks["hatch:pyproject.toml#default:cov"]
    assert (cov.name, cov.invocation, span(cov)) == ("cov", "hatch run cov", (46, 50))
    assert lines(cov) == [("coverage run -m pytest", 47, 47), ("coverage combine", 48, 48),
                          ("coverage report", 49, 49)]
    assert cov.attributes == {"env": "default", "ignore_exit_code": "coverage combine"}
    all_ = pyproject_tasks["hatch:pyproject.toml#default:all"]
    assert (all_.depends_on, all_.commands) == (["cov", "typing"], [])  # commands naming scripts run them
    docs = pyproject_tasks["hatch:pyproject.toml#docs:build"]
    assert (docs.invocation, lines(docs)) == ("hatch run docs:build", [("mkdocs build --strict", 56, 56)])
    run = pyproject_tasks["hatch:pyproject.toml#test:run"]
    assert run.invocation == "hatch run test:run"
    assert run.attributes == {"env": "test", "matrix": "python=3.11,3.12"}


def test_pdm_scripts(pyproject_tasks):
    pdm = {t.name: t for t in pyproject_tasks.values() if t.runner == "pdm"}
    assert list(pdm) == ["pre_test", "test", "post_test", "ci", "lint", "start", "pre_build"]  # `_` is options
    test = pdm["test"]
    assert test.invocation == "pdm run test"
    assert lines(test) == [("pytest -x 'tests dir'", 67, 67)]
    assert (test.description, test.hooks) == ("Run tests", ["pre_test", "post_test"])
    assert pdm["pre_test"].attributes == {"type": "cmd", "hook_of": "test"}
    assert pdm["post_test"].attributes == {"type": "shell", "hook_of": "test"}
    assert (pdm["ci"].depends_on, lines(pdm["ci"])) == (["lint", "test"], [("coverage xml", 69, 69)])
    assert lines(pdm["start"]) == [("acme.app:main('dev')", 71, 71)]
    assert pdm["pre_build"].attributes["hook_of"] == "build"  # PDM's own `build` command hook


def test_hatch_toml(make_repo):
    tasks, _ = scan(make_repo, {"hatch.toml": "[envs.lint.scripts]\nstyle = [\n  'ruff check',\n  'black --check .',\n]\n"},
                    "pyproject-tasks")
    style = tasks["hatch:hatch.toml#lint:style"]
    assert lines(style) == [("ruff check", 3, 3), ("black --check .", 4, 4)]
    assert span(style) == (2, 5)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        pytest.param("[project]\nname = \n", 2, "invalid TOML", id="invalid-toml"),
        pytest.param("[a]\nx=1\n[a]\n", 3, "invalid TOML", id="duplicate-table"),
        pytest.param('a = """never closed\n', 1, "invalid TOML", id="unterminated-at-end"),
        pytest.param('[project]\nscripts = ["a"]\n', 2, "[project.scripts] is not a table", id="scripts-array"),
        pytest.param("[project.scripts]\nx = 5\n", 2, "entry point 'x'", id="entry-point-number"),
        pytest.param("[tool.poetry]\nscripts = 'x'\n", 2, "[tool.poetry.scripts]", id="poetry-scripts-string"),
        pytest.param("[tool.poetry.scripts]\nx = { extras = [] }\n", 2, "poetry script 'x'", id="poetry-no-target"),
        pytest.param("[tool.poe]\ntasks = 1\n", 2, "[tool.poe.tasks] is not a table", id="poe-tasks-number"),
        pytest.param("[tool.poe.tasks]\nx = 1\n", 2, "poe task 'x'", id="poe-task-number"),
        pytest.param("[tool.poe.tasks.x]\nhelp = 'no type'\n", 1, "poe task 'x'", id="poe-task-without-type"),
        pytest.param("[tool.hatch]\nenvs = []\n", 2, "hatch 'envs'", id="hatch-envs-array"),
        pytest.param("[tool.hatch.envs.a]\nscripts = 'x'\n", 2, "'scripts' is not a table", id="hatch-scripts-str"),
        pytest.param("[tool.hatch.envs.a.scripts]\nx = [1, 2]\n", 2, "hatch script 'a:x'", id="hatch-script-ints"),
        pytest.param("[tool.pdm]\nscripts = []\n", 2, "[tool.pdm.scripts]", id="pdm-scripts-array"),
        pytest.param("[tool.pdm.scripts]\nx = { help = 'h' }\n", 2, "pdm script 'x'", id="pdm-script-no-kind"),
    ],
)
def test_bad_pyproject_becomes_a_diagnostic(make_repo, text, line, reason):
    _, diagnostics = scan(make_repo, {"pyproject.toml": text}, "pyproject-tasks")
    assert [(d.line, reason in d.reason) for d in diagnostics] == [(line, True)]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("# nothing\n", id="comment"),
        pytest.param("[project]\nname='x'\n", id="no-tasks"),
        pytest.param("[tool.poe.tasks]\nx = { sequence = 'not a list' }\ny = { ref = 5 }\nz = { switch = 1 }\n",
                     id="odd-poe"),
        pytest.param("[tool.pdm.scripts]\nx = { composite = [1, '', { a = 1 }] }\ny = { cmd = 5 }\n", id="odd-pdm"),
        pytest.param("[tool.hatch.envs]\na = 1\nb = { scripts = {} }\n", id="odd-hatch"),
        pytest.param("x = " + "[" * 2000 + "]" * 2000 + "\n", id="deep-arrays"),
        pytest.param("[tool.poe.tasks]\n'we\"ird' = \"echo \\\"q\\\" \\\\ \\u00e9\"\n", id="escapes"),
    ],
)
def test_odd_pyproject_never_crashes(make_repo, text):
    inventory = run_detectors(make_repo({"pyproject.toml": text}), "pyproject-tasks", "tox")
    assert errors_of(inventory) == []


def test_escaped_values_still_find_their_line(make_repo):
    text = '[tool.poe.tasks]\n"we\\"ird" = "echo \\"q\\" \\\\ \\u00e9"\n'
    tasks, _ = scan(make_repo, {"pyproject.toml": text}, "pyproject-tasks")
    task = tasks['poe:pyproject.toml#we"ird']
    assert lines(task) == [('echo "q" \\ é', 2, 2)]


# The index must agree with tomllib on every key it claims to have seen.
_TOML_DOCS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b-c", '"q.d"', "'lit'", "x.y"]),
        st.sampled_from(['"s"', "'l'", '"""m\nl"""', "'''r\n'''", "1", "[1,\n 2]", '{ k = "v" }', "true",
                         '["#", "]"]', '"a#b" # c']),
    ),
    min_size=1, max_size=6, unique_by=lambda kv: kv[0],
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_TOML_DOCS, st.sampled_from(["", "[t]\n", "[ t . 'u' ]\n", "[[arr]]\n"]))
def test_toml_index_finds_every_top_key(pairs, header):
    text = header + "".join(f"{key} = {value}\n" for key, value in pairs)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return  # e.g. `x.y` and `a` clash; only valid documents are indexed
    index = TomlIndex(text)
    table = {"": (), "[t]\n": ("t",), "[ t . 'u' ]\n": ("t", "u"), "[[arr]]\n": ("arr",)}[header]
    assert data is not None
    expected_line = 1 + (1 if header else 0)
    for key, value in pairs:
        path = tuple(p.strip("'\"") for p in ([key] if key.startswith(("'", '"')) else key.split(".")))
        found = index.span(table + path)
        assert found is not None, key
        assert found[0] == expected_line
        expected_line += value.count("\n") + 1


# ==================================================================== tox

TOX_INI = """\
[tox]
envlist = py{311,312}-django{42,50}, lint
    docs
skip_missing_interpreters = true

[testenv]
description = run tests with {basepython}
deps =
    pytest
    django42: Django>=4.2,<4.3
commands_pre = python -m pip list
commands =
    py311: pytest --cov {posargs:tests}
    !py311: pytest {posargs:tests}
    python -c "print('#done')" # trailing comment

[testenv:lint]
description = lint the code
skip_install = true
commands = ruff check . \\
    --fix

[testenv:docs]
depends = py{311,312}-django42
commands = sphinx-build docs build

[testenv:{format,fmt}]
commands = ruff format .

[testenv:.pkg]
x = 1
"""


def test_tox_ini(make_repo):
    tasks, diagnostics = scan(make_repo, {"tox.ini": TOX_INI}, "tox")
    assert diagnostics == []
    by_name = {t.name: t for t in tasks.values()}
    assert list(by_name) == ["py311-django42", "py311-django50", "py312-django42", "py312-django50", "lint", "docs",
                             "format", "fmt"]
    py311 = by_name["py311-django42"]
    assert (py311.id, py311.invocation, span(py311)) == ("tox:tox.ini#py311-django42", "tox -e py311-django42", (6, 15))
    assert py311.description == "run tests with {basepython}"
    assert lines(py311) == [("python -m pip list", 11, 11), ("pytest --cov {posargs:tests}", 13, 13),
                            ("python -c \"print('#done')\"", 15, 15)]
    assert py311.attributes == {"commands_from": "testenv", "declared_in": "env list"}
    assert [c.text for c in by_name["py312-django50"].commands] == [
        "python -m pip list", "pytest {posargs:tests}", "python -c \"print('#done')\""
    ]
    lint = by_name["lint"]
    assert (span(lint), lint.description) == ((17, 21), "lint the code")
    assert lines(lint) == [("python -m pip list", 11, 11), ("ruff check . --fix", 20, 20)]
    assert lint.attributes == {"skip_install": "true", "commands_from": "testenv:lint"}
    docs = by_name["docs"]
    assert docs.depends_on == ["py311-django42", "py312-django42"]
    assert lines(docs)[-1] == ("sphinx-build docs build", 25, 25)
    assert span(by_name["fmt"]) == (27, 28)


def test_tox_factor_conditional_commands_in_a_generative_section(make_repo):
    text = (
        "[testenv:lint-{black,ruff,shellcheck}]\n"              # 1
        "description = Lint the source code\n"                  # 2
        "commands_pre =\n"                                       # 3
        "    shellcheck: bash -c 'git ls-files > files'\n"      # 4
        "commands =\n"                                           # 5
        "    black: black --check --diff {posargs} .\n"         # 6
        "    ruff: ruff check {posargs} .\n"                    # 7
        "    shellcheck: xargs -a files shellcheck\n"           # 8
        "    lint-ruff: ruff format --check .\n"                # 9
    )
    tasks, _ = scan(make_repo, {"tox.ini": text}, "tox")
    got = {t.name: [(c.text, c.evidence.line_start) for c in t.commands] for t in tasks.values()}
    assert got == {
        "lint-black": [("black --check --diff {posargs} .", 6)],
        "lint-ruff": [("ruff check {posargs} .", 7), ("ruff format --check .", 9)],
        "lint-shellcheck": [("bash -c 'git ls-files > files'", 4), ("xargs -a files shellcheck", 8)],
    }
    assert {t.description for t in tasks.values()} == {"Lint the source code"}
    assert {span(t) for t in tasks.values()} == {(1, 9)}


TOX_TOML = """\
requires = ["tox>=4.21"]
env_list = ["3.13", "3.12", "lint", "type"]

[env_run_base]
description = "run the test suite with pytest"
deps = ["pytest>=8"]
commands = [
  ["pytest", { replace = "posargs", default = ["tests"], extend = true }],
  ["coverage", "report"],
]

[env.lint]
description = "run linters"
skip_install = true
commands = [["ruff", "check", { replace = "posargs", default = ["."], extend = true }]]

[env.type]
depends = ["lint"]
commands = [["mypy", "src"]]
"""


def test_tox_toml(make_repo):
    tasks, diagnostics = scan(make_repo, {"tox.toml": TOX_TOML}, "tox")
    assert diagnostics == []
    by_name = {t.name: t for t in tasks.values()}
    assert list(by_name) == ["3.13", "3.12", "lint", "type"]
    base = by_name["3.13"]
    assert (base.invocation, span(base), base.description) == ("tox -e 3.13", (4, 10), "run the test suite with pytest")
    assert lines(base) == [("pytest {posargs:tests}", 8, 8), ("coverage report", 9, 9)]
    lint = by_name["lint"]
    assert (span(lint), lines(lint)) == ((12, 15), [("ruff check {posargs:.}", 15, 15)])
    assert lint.attributes["skip_install"] == "true"
    type_ = by_name["type"]
    assert (type_.depends_on, lines(type_), type_.description) == (
        ["lint"], [("mypy src", 19, 19)], "run the test suite with pytest"
    )


def test_tox_in_pyproject_legacy_and_native(make_repo):
    legacy = '[project]\nname = "x"\n\n[tool.tox]\nlegacy_tox_ini = """\n[tox]\nenvlist = py311\n\n[testenv]\ncommands = pytest\n"""\n'
    tasks, _ = scan(make_repo, {"pyproject.toml": legacy}, "tox")
    assert [(t.name, lines(t), span(t)) for t in tasks.values()] == [("py311", [("pytest", 10, 10)], (9, 10))]


def test_tox_native_pyproject(make_repo):
    native = '[tool.tox]\nenv_list = ["lint"]\n\n[tool.tox.env.lint]\ncommands = [["ruff", "check", "src dir"]]\n'
    tasks, _ = scan(make_repo, {"pyproject.toml": native}, "tox")
    assert [(t.name, lines(t), span(t)) for t in tasks.values()] == [("lint", [("ruff check 'src dir'", 5, 5)], (4, 5))]


def test_tox_setup_cfg(make_repo):
    tasks, _ = scan(make_repo, {"setup.cfg": "[metadata]\nname = x\n\n[tox:tox]\nenvlist = py3\n\n[testenv]\ncommands = pytest\n"},
                    "tox")
    assert [t.id for t in tasks.values()] == ["tox:setup.cfg#py3"]
    tasks, _ = scan(make_repo, {"setup.cfg": "[metadata]\nname = x\n"}, "tox")
    assert tasks == {}


@pytest.mark.parametrize(
    ("files", "used", "ignored"),
    [
        pytest.param({"tox.ini": "[tox]\nenvlist = a\n", "tox.toml": 'env_list = ["b"]\n'}, "tox.ini", "tox.toml",
                     id="ini-beats-toml"),
        pytest.param({"setup.cfg": "[tox:tox]\nenvlist = a\n", "pyproject.toml": '[tool.tox]\nenv_list = ["b"]\n'},
                     "setup.cfg", "pyproject.toml", id="setup-cfg-beats-pyproject"),
        pytest.param({"pyproject.toml": '[tool.tox]\nenv_list = ["a"]\n', "tox.toml": 'env_list = ["b"]\n'},
                     "pyproject.toml", "tox.toml", id="pyproject-beats-toml"),
    ],
)
def test_tox_reads_the_first_configuration(make_repo, files, used, ignored):
    tasks, diagnostics = scan(make_repo, files, "tox")
    assert {t.path for t in tasks.values()} == {used}
    assert [(d.path, d.severity, "not used" in d.reason) for d in diagnostics] == [(ignored, "info", True)]


def test_tox_pyproject_without_tox_is_not_shadowed(make_repo):
    tasks, diagnostics = scan(make_repo, {"pyproject.toml": "[project]\nname='x'\n", "tox.toml": 'env_list = ["b"]\n'},
                              "tox")
    assert [t.id for t in tasks.values()] == ["tox:tox.toml#b"]
    assert diagnostics == []


@pytest.mark.parametrize(
    ("envlist", "names"),
    [
        pytest.param("py3{10-13}", ["py310", "py311", "py312", "py313"], id="range"),
        pytest.param("py{39,310}-{cov,nocov}", ["py39-cov", "py39-nocov", "py310-cov", "py310-nocov"], id="product"),
        pytest.param("py311{,-slow}", ["py311", "py311-slow"], id="empty-factor"),
        pytest.param("a,\n  b , c", ["a", "b", "c"], id="commas-and-lines"),
    ],
)
def test_generative_envlists(make_repo, envlist, names):
    tasks, _ = scan(make_repo, {"tox.ini": f"[tox]\nenvlist = {envlist}\n"}, "tox")
    assert [t.name for t in tasks.values()] == names


def test_huge_generative_envlist_is_capped(make_repo):
    envlist = "e{1-99}-f{1-99}"
    tasks, diagnostics = scan(make_repo, {"tox.ini": f"[tox]\nenvlist = {envlist}\n"}, "tox")
    assert len(tasks) == 512
    assert [(d.line, "9801 environments" in d.reason) for d in diagnostics] == [(2, True)]


@pytest.mark.parametrize(
    ("files", "line", "reason"),
    [
        pytest.param({"tox.toml": "env_list = [\n"}, 1, "at end of document", id="invalid-tox-toml"),
        pytest.param({"tox.toml": 'env_list = "a"\n'}, 1, "'env_list' is not an array", id="env-list-string"),
    ],
)
def test_bad_tox_config(make_repo, files, line, reason):
    _, diagnostics = scan(make_repo, files, "tox")
    assert [(d.line, reason in d.reason) for d in diagnostics] == [(line, True)]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("no section header\nkey = value\n", id="no-section"),
        pytest.param("[tox]\nenvlist = {unclosed\n[testenv]\ncommands = \\\n", id="unclosed-brace-and-continuation"),
        pytest.param("[testenv:{a,b}-{c,d}]\ncommands =\n    a: x\n    !c: y\n    http://host: z\n", id="factors"),
        pytest.param("[tox]\nenvlist = py{1-999999999}\n", id="absurd-range"),
        pytest.param("[testenv]\na" + " " * 50_000 + "b\n", id="long-line-without-separator"),
    ],
)
def test_odd_tox_ini_never_crashes(make_repo, text):
    started = time.perf_counter()
    inventory = run_detectors(make_repo({"tox.ini": text}), "tox")
    assert errors_of(inventory) == []
    assert time.perf_counter() - started < 5


# ==================================================================== nox

NOXFILE = '''\
"""Nox sessions."""
import nox
from nox import session as sess

PYTHONS = ["3.11", "3.12"]
nox.options.sessions = ["lint", "tests"]


@nox.session(python=PYTHONS, tags=["ci"])
def tests(session: nox.Session) -> None:
    """Run the test suite.

    Extra paragraph.
    """
    session.install("-e", ".[test]")
    session.run("pytest", "--cov", *session.posargs)
    session.notify("coverage")


@nox.session(name="lint", python=False, reuse_venv=True)
def run_linters(s):
    s.run(
        "ruff",
        "check",
        ".",
        external=True,
    )


@sess(requires=["tests"])
def coverage(session):
    session.run("coverage", "report", f"--fail-under={MIN}")


@nox.session
@nox.parametrize("django", ["4.2", "5.0"])
def django(session, django):
    session.install(f"django=={django}")
    session.run("python", "-c", "print('hi there')")


def helper(session):
    session.run("not", "a", "session")
'''


def test_noxfile(make_repo):
    tasks, diagnostics = scan(make_repo, {"noxfile.py": NOXFILE}, "nox")
    assert diagnostics == []
    by_name = {t.name: t for t in tasks.values()}
    assert list(by_name) == ["tests", "lint", "coverage", "django"]
    tests = by_name["tests"]
    assert (tests.id, tests.invocation, span(tests)) == ("nox:noxfile.py#tests", "nox -s tests", (9, 17))
    assert tests.description == "Run the test suite."
    assert lines(tests) == [("pip install -e .[test]", 15, 15), ("pytest --cov <*session.posargs>", 16, 16)]
    assert tests.hooks == ["coverage"]
    assert tests.attributes == {"python": "3.11, 3.12", "tags": "ci", "default": "true"}
    lint = by_name["lint"]
    assert (lint.id, span(lint), lines(lint)) == ("nox:noxfile.py#lint", (20, 27), [("ruff check .", 22, 27)])
    assert lint.attributes == {"python": "false", "reuse_venv": "true", "default": "true"}
    coverage = by_name["coverage"]
    assert coverage.depends_on == ["tests"]
    assert lines(coverage) == [("coverage report <f'--fail-under={MIN}'>", 32, 32)]
    assert coverage.attributes == {"default": "false"}
    django = by_name["django"]
    assert span(django) == (35, 39)
    assert django.attributes == {"parametrize": "django: 4.2, 5.0", "default": "false"}
    assert lines(django) == [("pip install <f'django=={django}'>", 38, 38),
                             ("python -c \"print('hi there')\"", 39, 39)]


@pytest.mark.parametrize(
    ("source", "names"),
    [
        pytest.param("import nox as n\n@n.session()\ndef a(session): pass\n", ["a"], id="module-alias"),
        pytest.param("from nox import session\n@session\ndef a(s): s.run('x')\n", ["a"], id="from-import"),
        pytest.param("import nox_poetry\n@nox_poetry.session(python='3.12')\ndef a(session): pass\n", ["a"],
                     id="nox-poetry"),
        pytest.param("import other\n@other.session\ndef a(session): pass\n", [], id="not-nox"),
        pytest.param("import nox\n@nox.session\nasync def a(session): pass\n", ["a"], id="async"),
        pytest.param("import nox\nclass C:\n    @nox.session\n    def a(self): pass\n", [], id="method-not-top-level"),
    ],
)
def test_nox_session_forms(make_repo, source, names):
    tasks, _ = scan(make_repo, {"noxfile.py": source}, "nox")
    assert [t.name for t in tasks.values()] == names


def test_nox_python_from_unresolvable_expression(make_repo):
    source = "import nox\nimport os\n@nox.session(python=os.environ.get('PY'), venv_backend='uv')\ndef a(session):\n" \
             "    session.run(*ARGS, 'x', env={'A': '1'})\n"
    tasks, _ = scan(make_repo, {"noxfile.py": source}, "nox")
    task = tasks["nox:noxfile.py#a"]
    assert task.attributes == {"python": "<os.environ.get('PY')>", "venv_backend": "uv"}
    assert lines(task) == [("<*ARGS> x", 5, 5)]


@pytest.mark.parametrize(
    ("source", "line"),
    [
        pytest.param("import nox\ndef broken(:\n    pass\n", 2, id="syntax-error"),
        pytest.param("import nox\n\tx = 1\n", 2, id="indentation-error"),
    ],
)
def test_nox_bad_python_is_a_diagnostic(make_repo, source, line):
    _, diagnostics = scan(make_repo, {"noxfile.py": source}, "nox")
    assert len(diagnostics) == 1
    assert diagnostics[0].line == line
    assert diagnostics[0].detector == "nox"


def test_noxfile_is_never_executed(make_repo, tmp_path):
    marker = tmp_path / "executed"
    source = f"import nox\nopen({str(marker)!r}, 'w').write('x')\n@nox.session\ndef a(session): pass\n"
    tasks, _ = scan(make_repo, {"noxfile.py": source}, "nox")
    assert list(tasks) == ["nox:noxfile.py#a"]
    assert not marker.exists()


def test_deeply_nested_noxfile(make_repo):
    inventory = run_detectors(make_repo({"noxfile.py": "x = " + "(" * 5000 + ")" * 5000 + "\n"}), "nox")
    assert errors_of(inventory) == []
