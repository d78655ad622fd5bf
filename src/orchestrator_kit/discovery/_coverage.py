"""Coverage: what a scan did not look at, stated next to what it found (issue 20, item 5).

An empty list of tasks is not proof that a repository has none: it may build with Bazel, which no detector reads.
`coverage_notes` makes one pass over the file NAMES (nothing is read, so it costs a dictionary look-up per file)
and over the scan's findings and diagnostics, and returns `CoverageNote`s of four kinds:

* `unread`: files of a build, CI, scheduling or deployment tool we have no detector for (Bazel, sbt, CMake,
  Travis CI, Drone, Buildkite, Tekton, Dependabot, ...), from the `KINDS` table;
* `partial`: files a detector reads only in part (a Gradle build: custom tasks only, not the tasks its plugins add);
* `no-findings`: candidates a detector looked at and kept nothing from (root-level scripts without a shebang that
  sit in no scripts folder; runbook-like documents that gave no procedure);
* `unreadable`: files the scan could not read (binary, over the size cap, bad encoding, a link out of the root)
  and files a detector failed to parse, from the diagnostics, grouped by the lists they would have fed.

Files in vendored folders (node_modules, vendor, ...) and in test fixtures are left out, as the scan leaves them out.
Each note names the inventory lists it concerns (`lists`), so every list tool shows only its own notes.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..models import INVENTORY_NOUNS as NOUNS
from ..models import CoverageNote, Diagnostic, InventoryList
from .base import vendored
from .procedures import is_procedure_doc

EXAMPLES = 3  # paths named in a note

P: tuple[InventoryList, ...] = ("pipelines",)
T: tuple[InventoryList, ...] = ("tasks",)
S: tuple[InventoryList, ...] = ("schedules",)
I: tuple[InventoryList, ...] = ("infrastructure",)  # noqa: E741
EVERY: tuple[InventoryList, ...] = ("pipelines", "tasks", "schedules", "infrastructure", "procedures")


@dataclass(frozen=True)
class Kind:
    """A kind of file by its name: exact base `names`, base-name `globs` (lower case), or folder `prefixes` at the
    root. `partial` says what the detector that reads it leaves out; without it no detector reads the kind."""

    label: str
    lists: tuple[InventoryList, ...]
    names: frozenset[str] = frozenset()
    globs: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    partial: str | None = None

    def matches(self, path: str, base: str) -> bool:
        return (base in self.names or any(fnmatch.fnmatchcase(base.lower(), g) for g in self.globs)
                or path.startswith(self.prefixes))


def _names(*names: str) -> frozenset[str]:
    return frozenset(names)


KINDS: tuple[Kind, ...] = (
    # build tools: their targets are tasks
    Kind("a Gradle build", T, _names("build.gradle", "build.gradle.kts"),
         partial="read for the tasks it declares only; the tasks its plugins add (build, test, ...) are not listed"),
    Kind("a Maven build", T, _names("pom.xml"),
         partial="read for profiles and phase-bound plugin executions only; the standard lifecycle (mvn test, "
         "mvn package, ...) is not listed"),
    Kind("a Cargo package", T, _names("Cargo.toml"),
         partial="only .cargo/config aliases and an xtask crate are read as tasks; cargo build/test are not listed"),
    Kind("a Bazel build", T, _names("BUILD.bazel", "WORKSPACE", "WORKSPACE.bazel", "MODULE.bazel", ".bazelrc"),
         ("*.bzl",)),
    Kind("an sbt build", T, _names("build.sbt")),
    Kind("a Mill build", T, _names("build.sc", "build.mill")),
    Kind("a CMake build", T, _names("CMakeLists.txt", "CMakePresets.json")),
    Kind("a Meson build", T, _names("meson.build")),
    Kind("a Bazel-like build (Buck, Pants)", T, _names("BUCK", "pants.toml")),
    Kind("an Ant build", T, _names("build.xml")),
    Kind("an SCons build", T, _names("SConstruct")),
    Kind("an Earthly build (Earthfile)", T, _names("Earthfile")),
    Kind("a Mage build (magefile.go)", T, _names("magefile.go")),
    Kind("Invoke or Fabric tasks", T, _names("tasks.py", "fabfile.py")),
    Kind("doit tasks (dodo.py)", T, _names("dodo.py")),
    Kind("Django management commands (manage.py)", T, _names("manage.py")),
    Kind("a Grunt or Gulp build", T, globs=("gruntfile.js", "gruntfile.coffee", "gulpfile.js", "gulpfile.*.js",
                                          "gulpfile.ts")),
    Kind("a monorepo task runner (Nx, Turborepo, Lerna, Rush)", T,
         _names("nx.json", "turbo.json", "lerna.json", "rush.json")),
    Kind("an Elixir Mix project (mix.exs)", T, _names("mix.exs")),
    Kind("a Leiningen or Clojure deps project", T, _names("project.clj", "deps.edn", "bb.edn")),
    Kind("a Procfile", T, _names("Procfile")),
    Kind("a Tiltfile", I, _names("Tiltfile")),
    # CI systems without a detector: their pipelines are not listed
    Kind("a Travis CI config", P, _names(".travis.yml")),
    Kind("a Drone CI config", P, _names(".drone.yml", ".drone.jsonnet", ".drone.star")),
    Kind("a Woodpecker CI config", P, _names(".woodpecker.yml", ".woodpecker.yaml"), prefixes=(".woodpecker/",)),
    Kind("a Buildkite pipeline", P, prefixes=(".buildkite/",)),
    Kind("Tekton pipelines", P, prefixes=(".tekton/", "tekton/")),
    Kind("Argo Workflows", P, prefixes=(".argo/", "argo/", "argo-workflows/")),
    Kind("an AppVeyor config", P, _names("appveyor.yml", ".appveyor.yml")),
    Kind("a Cirrus CI config", P, _names(".cirrus.yml", ".cirrus.star")),
    Kind("a Semaphore pipeline", P, prefixes=(".semaphore/",)),
    Kind("a TeamCity config", P, prefixes=(".teamcity/",)),
    Kind("Bamboo specs", P, prefixes=("bamboo-specs/",)),
    Kind("a Harness pipeline", P, prefixes=(".harness/",)),
    Kind("a Codefresh pipeline", P, _names("codefresh.yml", "codefresh.yaml")),
    Kind("a Google Cloud Build config", P, _names("cloudbuild.yaml", "cloudbuild.yml", "cloudbuild.json")),
    Kind("an AWS CodeBuild buildspec", P, _names("buildspec.yml", "buildspec.yaml")),
    Kind("a Jenkins shared library (src/, resources/)", P, prefixes=("resources/org/",)),
    Kind("a Dagger module", P, _names("dagger.json")),
    # scheduled upkeep done by hosted bots
    Kind("a Dependabot config", S, _names("dependabot.yml", "dependabot.yaml")),
    Kind("a Renovate config", S, _names("renovate.json", "renovate.json5", ".renovaterc", ".renovaterc.json")),
    # deployment and infrastructure tools without a detector
    Kind("a Skaffold config", I, _names("skaffold.yaml", "skaffold.yml")),
    Kind("a Helmfile", I, _names("helmfile.yaml", "helmfile.yml")),
    Kind("a Pulumi project", I, _names("Pulumi.yaml", "Pulumi.yml")),
    Kind("a Serverless Framework service", I, _names("serverless.yml", "serverless.yaml")),
    Kind("an AWS SAM or CDK app", I, _names("template.yaml", "samconfig.toml", "cdk.json")),
    Kind("Nomad jobs", I, globs=("*.nomad", "*.nomad.hcl")),
    Kind("Packer templates", I, globs=("*.pkr.hcl", "*.pkr.json")),
    Kind("a Vagrantfile", I, _names("Vagrantfile")),
    Kind("a platform deploy config (Fly, Heroku, Netlify, Vercel, App Engine, Render)", I,
         _names("fly.toml", "app.json", "netlify.toml", "vercel.json", "app.yaml", "render.yaml")),
    Kind("Puppet manifests", I, globs=("*.pp",)),
    Kind("Salt states", I, globs=("*.sls",)),
)

# An index over KINDS, so a file costs a dict look-up, one regex and one prefix test, not one match per kind
# (a 100,000-file listing took 3 s matched kind by kind, about 0.1 s this way).
_BY_NAME: dict[str, list[Kind]] = {}
for _kind in KINDS:
    for _name in _kind.names:
        _BY_NAME.setdefault(_name, []).append(_kind)
_GLOBBED = [k for k in KINDS if k.globs]
_ANY_GLOB = re.compile("|".join(fnmatch.translate(g) for k in _GLOBBED for g in k.globs))
_PREFIXED = [k for k in KINDS if k.prefixes]
_ANY_PREFIX = tuple(p for k in _PREFIXED for p in k.prefixes)


def _glob_tails(globs: list[str]) -> tuple[str, ...] | None:
    """What each glob's matches end with (its text after the last wildcard): a name ending with none of them matches
    no glob, which `str.endswith` tells before the regex, whose leading `.*` alternatives are slow. None when a glob
    ends with a wildcard."""
    tails = tuple(re.split(r"[*?\[\]]", glob)[-1] for glob in globs)
    return tails if all(tails) else None


_GLOB_TAILS = _glob_tails([g for k in _GLOBBED for g in k.globs])


def _kinds_of(path: str, base: str, lower: str | None = None) -> list[Kind]:
    """The kinds `path` (base name `base`, lower-cased `lower`) is one of."""
    lower = base.lower() if lower is None else lower
    named = base in _BY_NAME
    globbed = (_GLOB_TAILS is None or lower.endswith(_GLOB_TAILS)) and _ANY_GLOB.match(lower) is not None
    prefixed = path.startswith(_ANY_PREFIX)
    if not (named or globbed or prefixed):
        return []
    found = list(_BY_NAME.get(base, ()))
    if globbed:
        found += [k for k in _GLOBBED if k.matches(path, base) and k not in found]
    if prefixed:
        found += [k for k in _PREFIXED if k.matches(path, base) and k not in found]
    return found


# Root-level files with a script language's extension that the scripts detector does not read (it reads script
# folders, and shell files anywhere); the names that are something else by convention are left out.
ROOT_SCRIPT_EXTENSIONS = (".py", ".rb", ".pl", ".js", ".mjs", ".cjs", ".ts", ".ps1", ".sh", ".bash", ".zsh")
NOT_ROOT_SCRIPTS = frozenset({
    "setup.py", "conftest.py", "noxfile.py", "manage.py", "tasks.py", "fabfile.py", "dodo.py", "magefile.go",
    "__init__.py", "gulpfile.js", "gruntfile.js", "webpack.config.js", "babel.config.js", "jest.config.js",
    "vite.config.js", "vite.config.ts", "rollup.config.js", "eslint.config.js", ".eslintrc.js", "prettier.config.js",
    "tailwind.config.js", "postcss.config.js", "vitest.config.ts", "jest.config.ts", "next.config.js",
    "svelte.config.js", "karma.conf.js", "tsconfig.ts", "docusaurus.config.js", "playwright.config.ts",
    "commitlint.config.js", ".prettierrc.js", "lint-staged.config.js", "nuxt.config.ts", "astro.config.mjs",
})
RUNBOOK_WORDS = ("runbook", "playbook", "releasing", "release-process", "deploy", "operations", "oncall", "on-call",
                 "incident", "maintenance", "upgrading", "disaster")
DOC_EXTENSIONS = (".md", ".markdown", ".rst", ".adoc", ".txt")

# The inventory lists each detector (or finalizer) feeds: its parse failures are coverage gaps of those lists.
DETECTOR_LISTS: dict[str, tuple[InventoryList, ...]] = {
    **dict.fromkeys(("github-actions", "github-actions-composite", "gitlab-ci", "gitlab-ci-included-files",
                     "gitlab-ci-child-pipelines", "circleci", "jenkins", "azure-pipelines", "azure-pipelines-templates",
                     "bitbucket-pipelines"), ("pipelines", "schedules")),
    **dict.fromkeys(("gradle", "maven", "cargo", "rake", "composer", "dotnet", "just", "make", "nox", "npm-scripts",
                     "pre-commit", "pyproject-tasks", "scripts", "root-scripts", "taskfile", "tox"), T),
    **dict.fromkeys(("crontab", "systemd-timer", "cron-or-rule"), S),
    **dict.fromkeys(("ansible", "compose", "docker", "helm", "kubernetes", "kustomize", "terraform"), I),
    "markdown-procedures": ("procedures",),
}
# The CI detectors: the ones that feed pipelines (`metrics --only pipelines` runs these and no other).
CI_DETECTORS = frozenset(name for name, lists in DETECTOR_LISTS.items() if "pipelines" in lists)


def _nouns(lists: Iterable[InventoryList]) -> str:
    return " and ".join(NOUNS[name] for name in lists)


SHOWN_PATH_CHARS = 120  # a path is repository data: a hostile 4,000-character name is shown cut in a note


def _shown(path: str) -> str:
    path = path.encode("unicode_escape").decode("ascii") if not path.isprintable() else path  # one line, always
    return path if len(path) <= SHOWN_PATH_CHARS else path[: SHOWN_PATH_CHARS - 3] + "..."


def _files(count: int, paths: Sequence[str]) -> str:
    shown = ", ".join(_shown(p) for p in paths[:EXAMPLES]) + (", ..." if count > EXAMPLES else "")
    return f"({shown})"


def _note(kind: str, lists: Iterable[InventoryList], paths: Sequence[str], text: str) -> CoverageNote:
    return CoverageNote(kind=kind, lists=list(lists), files=len(paths), paths=list(paths[:EXAMPLES]), note=text)


def coverage_notes(
    files: Sequence[str],
    *,
    found_paths: Callable[[InventoryList], set[str]],
    diagnostics: Sequence[Diagnostic],
    skip: Callable[[str], bool] = lambda path: False,
) -> list[CoverageNote]:
    """The coverage notes of one scan: `files` is the listing the scan worked on, `found_paths(list)` the paths that
    items of that inventory list came from, `skip(path)` whether a path lies in a test fixture (left out; a fixture
    is a folder, so it is asked once per folder)."""
    # Whether a folder (with its slash) is left out: vendored or a fixture, which only the folders decide.
    left_out: dict[str, bool] = {}
    by_kind: dict[Kind, list[str]] = {}
    root_scripts: list[str] = []
    runbooks: list[str] = []
    for path in files:
        slash = path.rfind("/")
        folder = path[: slash + 1]
        out = left_out.get(folder)
        if out is None:
            out = left_out[folder] = vendored(path) or skip(path)
        if out:
            continue
        base = path[slash + 1 :]
        lower = base.lower()
        for kind in _kinds_of(path, base, lower):
            by_kind.setdefault(kind, []).append(path)
        if "/" not in path and lower.endswith(ROOT_SCRIPT_EXTENSIONS) and lower not in NOT_ROOT_SCRIPTS \
                and not lower.startswith("."):
            root_scripts.append(path)
        if lower.endswith(DOC_EXTENSIONS) and any(w in path.lower() for w in RUNBOOK_WORDS) \
                and is_procedure_doc(path):  # the documents the procedures detector leaves out by design stay out
            runbooks.append(path)

    notes: list[CoverageNote] = []
    for kind, paths in by_kind.items():
        count = len(paths)
        where = _files(count, paths)
        what = _nouns(kind.lists)
        if kind.partial is not None:
            text = f"{kind.label} {where} {kind.partial}"
            notes.append(_note("partial", kind.lists, paths, text))
        else:
            files_word = "1 file" if count == 1 else f"{count} files"
            text = (f"{kind.label} ({files_word}: {where[1:-1]}) not read: no detector for it, so its {what} are "
                    "not listed")
            notes.append(_note("unread", kind.lists, paths, text))

    tasks = found_paths("tasks")
    scripts = [p for p in root_scripts if p not in tasks]
    if scripts:
        count = len(scripts)
        noun = "1 root-level script" if count == 1 else f"{count} root-level scripts"
        notes.append(_note("no-findings", T, scripts,
                           f"{noun} {_files(count, scripts)} not read as tasks (only files in scripts/, bin/, tools/ "
                           "or hack/ folders, and shell files with a shebang or the executable bit, are)"))
    procedures = found_paths("procedures")
    silent = [p for p in runbooks if p not in procedures]
    if silent:
        count = len(silent)
        noun = "1 runbook-like document" if count == 1 else f"{count} runbook-like documents"
        notes.append(_note("no-findings", ("procedures",), silent,
                           f"{noun} {_files(count, silent)} gave no manual procedure: no numbered steps, checklist or "
                           "command block was found under a CommonMark heading ('#Title' without a space, or a "
                           "heading in another format, hides its section); read_file shows it"))
    notes += _unreadable(diagnostics, skip, found_paths)
    return notes


def _unreadable(
    diagnostics: Sequence[Diagnostic], skip: Callable[[str], bool], found_paths: Callable[[InventoryList], set[str]]
) -> list[CoverageNote]:
    """Files not read (no detector named: the listing or the reader refused them), and files a detector complained
    about and took nothing from (a parse failure, or a form it does not read)."""
    unread: list[str] = []
    failed: dict[tuple[InventoryList, ...], list[str]] = {}
    for d in diagnostics:
        if skip(d.path) or d.severity == "info":
            continue
        if d.detector is None:
            unread.append(d.path)
            continue
        lists = DETECTOR_LISTS.get(d.detector, EVERY)
        if not any(d.path in found_paths(name) for name in lists):
            failed.setdefault(lists, []).append(d.path)
    notes: list[CoverageNote] = []
    unread = list(dict.fromkeys(unread))
    if unread:
        count = len(unread)
        notes.append(_note("unreadable", EVERY, unread,
                           f"{count} file{'s' if count > 1 else ''} {_files(count, unread)} not read (binary, over the "
                           "size cap, undecodable or a link out of the repository); the diagnostics say why"))
    for lists, paths in failed.items():
        paths = list(dict.fromkeys(paths))
        count = len(paths)
        notes.append(_note("unreadable", lists, paths,
                           f"{count} file{'s' if count > 1 else ''} {_files(count, paths)} gave nothing: a detector "
                           f"could not parse {'them' if count > 1 else 'it'}, so the {_nouns(lists)} "
                           f"{'they' if count > 1 else 'it'} may hold are not listed; the diagnostics say why"))
    return notes
