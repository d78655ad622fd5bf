"""The npm-scripts detector: package.json scripts, hooks, package managers and line finding, checked by hand."""

from __future__ import annotations

import json

import pytest

from orchestrator_kit.models import Task
from tests.conftest import run_detectors

from .conftest import task_scanner

PACKAGE_JSON = """\
{
  "name": "@acme/web",
  "version": "1.0.0",
  "description": "has a \\"scripts\\" word and a build key",
  "config": { "build": "not a script", "scripts": {"test": "nope"} },
  "scripts": {
    "//": "comments are skipped",
    "prebuild": "rimraf dist",
    "build": "tsc -p . && npm run bundle",
    "postbuild": "echo done",
    "bundle": "esbuild src/index.ts --bundle --outfile=dist/app.js",
    "test": "cross-env NODE_ENV=test jest",
    "pretest": "npm run lint",
    "lint": "run-p lint:*",
    "lint:js": "eslint .",
    "lint:css": "stylelint \\"**/*.css\\"",
    "lint:fix:all": "eslint --fix .",
    "start":
      "node dist/app.js",
    "dev": "concurrently -n api,web \\"npm:watch-*\\" \\"yarn serve\\"",
    "watch-ts": "tsc -w",
    "watch-css": "sass --watch src:dist",
    "serve": "vite",
    "prepare": "husky install",
    "postinstall": "patch-package",
    "deploy": "npm run build --workspace other && ./scripts/deploy.sh"
  },
  "devDependencies": { "typescript": "^5.0.0" }
}
"""


scan = task_scanner("npm-scripts", key=lambda t: t.name, path="package.json")


def where(task: Task) -> tuple[int, int]:
    return task.evidence.line_start, task.evidence.line_end


def test_realistic_package_json(make_repo):
    tasks, diagnostics = scan(make_repo, {"package.json": PACKAGE_JSON})
    assert diagnostics == []
    assert "//" not in tasks
    assert {n: where(t) for n, t in tasks.items()} == {
        "prebuild": (8, 8), "build": (9, 9), "postbuild": (10, 10), "bundle": (11, 11), "test": (12, 12),
        "pretest": (13, 13), "lint": (14, 14), "lint:js": (15, 15), "lint:css": (16, 16), "lint:fix:all": (17, 17),
        "start": (18, 19), "dev": (20, 20), "watch-ts": (21, 21), "watch-css": (22, 22), "serve": (23, 23),
        "prepare": (24, 24), "postinstall": (25, 25), "deploy": (26, 26),
    }
    build = tasks["build"]
    assert build.id == "npm:package.json#build"
    assert build.invocation == "npm run build"
    assert build.hooks == ["prebuild", "postbuild"]
    assert build.depends_on == ["bundle"]
    assert [(c.text, c.evidence.line_start) for c in build.commands] == [("tsc -p . && npm run bundle", 9)]
    assert build.attributes == {
        "package_manager": "npm", "package_manager_source": "default", "package": "@acme/web"
    }
    assert tasks["prebuild"].attributes["hook_of"] == "build"
    assert tasks["postbuild"].attributes["hook_of"] == "build"

    test = tasks["test"]
    assert test.invocation == "npm test"
    assert test.hooks == ["pretest"]
    assert test.depends_on == []
    assert tasks["pretest"].depends_on == ["lint"]
    assert tasks["pretest"].attributes["hook_of"] == "test"

    assert tasks["lint"].depends_on == ["lint:css", "lint:js"]  # `*` does not cross `:`, so not lint:fix:all
    assert tasks["start"].invocation == "npm start"
    assert [(c.evidence.line_start, c.evidence.line_end) for c in tasks["start"].commands] == [(18, 19)]
    assert tasks["dev"].depends_on == ["watch-css", "watch-ts", "serve"]
    assert tasks["prepare"].attributes.get("lifecycle") == "true"
    assert "hook_of" not in tasks["prepare"].attributes  # "pare" is neither a script nor an npm event
    assert tasks["postinstall"].attributes["hook_of"] == "install"
    assert tasks["postinstall"].attributes["lifecycle"] == "true"
    assert tasks["deploy"].depends_on == []  # `--workspace other` runs another package's build
    assert tasks["lint:fix:all"].invocation == "npm run lint:fix:all"


@pytest.mark.parametrize(
    ("command", "depends"),
    [
        pytest.param("npm run a", ["a"], id="npm-run"),
        pytest.param("npm run-script a -- --watch", ["a"], id="run-script-with-args"),
        pytest.param("npm run --silent a", ["a"], id="option-before-name"),
        pytest.param("npm t && npm start", ["test", "start"], id="npm-shorthands"),
        pytest.param("yarn a; yarn run b", ["a", "b"], id="yarn"),
        pytest.param("yarn install && yarn tsc", [], id="yarn-builtin-and-binary"),
        pytest.param("pnpm a || pnpm -r a", ["a"], id="pnpm-recursive-is-other-packages"),
        pytest.param("bun run a & bun b", ["a", "b"], id="bun"),
        pytest.param("run-s a b:*", ["a", "b:x", "b:y"], id="run-s-glob"),
        pytest.param("npm-run-all --parallel b:** -s a", ["b:x", "b:x:z", "b:y", "a"], id="npm-run-all-double-star"),
        pytest.param("concurrently --kill-others -n x,y \"npm run a\" \"npm:b:*\"", ["a", "b:x", "b:x:z", "b:y"],
                     id="concurrently"),
        pytest.param("NODE_ENV=production cross-env A=1 npx --yes npm run a", ["a"], id="env-and-wrappers"),
        pytest.param("dotenv -e .env.test -- npm run a", ["a"], id="dotenv"),
        pytest.param("npm run missing", [], id="unknown-script"),
        pytest.param("npm run a --prefix sub", [], id="prefix-is-another-package"),
        pytest.param("echo \"npm run a\"", [], id="quoted-text-is-not-a-call"),
        pytest.param("npm run 'a", [], id="unclosed-quote"),
        pytest.param("run-s " + "*b" * 30 + "*c", [], id="absurd-glob"),
    ],
)
def test_scripts_calling_scripts(make_repo, command, depends):
    scripts = {"me": command, "a": "x", "b": "y", "b:x": "1", "b:y": "2", "b:x:z": "3", "test": "t", "start": "s"}
    tasks, _ = scan(make_repo, {"package.json": json.dumps({"scripts": scripts}, indent=2)})
    assert tasks["me"].depends_on == depends


@pytest.mark.parametrize(
    ("files", "path", "invocations", "manager", "source"),
    [
        pytest.param({"package.json": {"packageManager": "pnpm@9.1.0+sha512.abc"}}, "package.json",
                     {"build": "pnpm build", "deploy": "pnpm run deploy", "test": "pnpm test"},
                     ("pnpm", "9.1.0"), "package.json packageManager", id="packageManager-pnpm"),
        pytest.param({"package.json": {}, "yarn.lock": ""}, "package.json",
                     {"build": "yarn build", "info": "yarn run info", "test": "yarn test"},
                     ("yarn", None), "yarn.lock", id="yarn-lock"),
        pytest.param({"package.json": {}, "bun.lockb": "x", "package-lock.json": "{}"}, "package.json",
                     {"build": "bun run build", "test": "bun run test"}, ("bun", None), "bun.lockb", id="bun-lockb"),
        pytest.param({"package.json": {}, "bun.lock": "{}"}, "package.json", {"build": "bun run build"},
                     ("bun", None), "bun.lock", id="bun-lock-text"),
        pytest.param({"package.json": {}, "package-lock.json": "{}"}, "package.json",
                     {"build": "npm run build", "test": "npm test"}, ("npm", None), "package-lock.json",
                     id="npm-lock"),
        pytest.param({"package.json": {"packageManager": "yarn@1.22.19"}, "pnpm-lock.yaml": ""}, "package.json",
                     {"build": "yarn build"}, ("yarn", "1.22.19"), "package.json packageManager",
                     id="field-beats-lock"),
        pytest.param({"packages/web/package.json": {}, "pnpm-lock.yaml": "", "package.json": {"private": True}},
                     "packages/web/package.json", {"build": "pnpm -C packages/web build"}, ("pnpm", None),
                     "pnpm-lock.yaml", id="workspace-lock-at-root"),
        pytest.param({"packages/api/package.json": {}, "package.json": {"packageManager": "yarn@4.1.0"}},
                     "packages/api/package.json",
                     {"build": "yarn --cwd packages/api build", "test": "yarn --cwd packages/api test"},
                     ("yarn", "4.1.0"), "package.json packageManager", id="workspace-root-field"),
        pytest.param({"apps/x/package.json": {}}, "apps/x/package.json",
                     {"build": "npm --prefix apps/x run build", "test": "npm --prefix apps/x test"}, ("npm", None),
                     "default", id="npm-prefix"),
        pytest.param({"package.json": {"packageManager": "deno@2"}}, "package.json", {"build": "npm run build"},
                     ("npm", None), "default", id="unknown-manager-field"),
    ],
)
def test_package_manager_and_invocation(make_repo, files, path, invocations, manager, source):
    scripts = {"build": "b", "deploy": "d", "info": "i", "test": "t"}
    written: dict[str, str | bytes] = {}
    for name, content in files.items():
        if isinstance(content, dict):
            content = {**content, "scripts": scripts} if name == path else content
            written[name] = json.dumps(content)
        else:
            written[name] = content
    tasks, _ = scan(make_repo, written, path=path)
    for name, invocation in invocations.items():
        assert tasks[name].invocation == invocation
    attributes = tasks["build"].attributes
    assert (attributes["package_manager"], attributes.get("package_manager_version")) == manager
    assert attributes["package_manager_source"] == source


@pytest.mark.parametrize(
    ("files", "note"),
    [
        pytest.param({"yarn.lock": "", ".yarnrc.yml": "nodeLinker: pnp\n"}, "no: yarn 2+", id="yarn-berry"),
        pytest.param({"yarn.lock": ""}, None, id="yarn-classic"),
        pytest.param({"pnpm-lock.yaml": ""}, "enable-pre-post-scripts", id="pnpm-default"),
        pytest.param({"pnpm-lock.yaml": "", ".npmrc": "enable-pre-post-scripts = true\n"}, None,
                     id="pnpm-enabled"),
        pytest.param({}, None, id="npm"),
    ],
)
def test_hooks_run_note(make_repo, files, note):
    package = json.dumps({"scripts": {"prebuild": "a", "build": "b", "lint": "c"}})
    tasks, _ = scan(make_repo, {"package.json": package, **files})
    assert tasks["build"].hooks == ["prebuild"]
    got = tasks["build"].attributes.get("hooks_run")
    assert (got is None) if note is None else (note in got)
    assert "hooks_run" not in tasks["lint"].attributes  # no hooks, nothing to say


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        pytest.param('{"scripts":{"a":"x","b":"y"}}', {"a": (1, 1), "b": (1, 1)}, id="minified"),
        pytest.param('{\n"scripts"\n:\n{\n"a"\n:\n"x"\n,\n"b":"y"}}', {"a": (5, 7), "b": (9, 9)}, id="one-token-per-line"),
        pytest.param('{"scripts": {"a": "old"},\n "other": 1,\n "scripts": {\n  "a": "new"\n }\n}', {"a": (4, 4)},
                     id="duplicate-scripts-last-wins"),
        pytest.param('{"scripts": {\n "a": "1",\n "a": "2"\n}}', {"a": (3, 3)}, id="duplicate-key-last-wins"),
        pytest.param('{"x": {"a": "decoy"}, "scripts": {\n "a\\"q": "1",\n "\\u00e9": "2"\n}}',
                     {'a"q': (2, 2), "é": (3, 3)}, id="escaped-keys"),
        pytest.param('{"scripts": {\n  "a": "line one \\n line two"\n}}', {"a": (2, 2)}, id="escaped-newline"),
    ],
)
def test_lines_are_found_in_any_formatting(make_repo, text, lines):
    tasks, _ = scan(make_repo, {"package.json": text})
    assert {n: where(t) for n, t in tasks.items()} == lines


def test_duplicate_key_keeps_the_value_json_keeps(make_repo):
    tasks, _ = scan(make_repo, {"package.json": '{"scripts": {\n "a": "1",\n "a": "2"\n}}'})
    assert tasks["a"].commands[0].text == "2"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        pytest.param('{\n  "scripts": {\n    "a": "x",\n  }\n}\n', 4, "invalid JSON", id="trailing-comma"),
        pytest.param("", 1, "invalid JSON", id="empty"),
        pytest.param("[1, 2]", 1, "is an array, not an object", id="top-level-array"),
        pytest.param('{\n  "scripts": ["build"]\n}', 2, "'scripts' is an array", id="scripts-array"),
        pytest.param('{\n  "scripts": "npm test"\n}', 2, "'scripts' is a string", id="scripts-string"),
        pytest.param('{"scripts": {\n "a": 1,\n "b": "ok"\n}}', 2, "script 'a' is a number, not a command string", id="script-number"),
        pytest.param('{"scripts": {\n "a": null\n}}', 2, "script 'a' is null", id="script-null"),
        pytest.param('{"scripts": {\n "a": {"cmd": "x"}\n}}', 2, "script 'a' is an object", id="script-object"),
        pytest.param("[" * 100_000 + "]" * 100_000, None, "nesting too deep", id="deep-nesting"),
    ],
)
def test_bad_content_becomes_a_diagnostic(make_repo, text, line, reason):
    _, diagnostics = scan(make_repo, {"package.json": text})
    assert len(diagnostics) == 1
    assert diagnostics[0].line == line
    assert reason in diagnostics[0].reason


def test_no_scripts_and_odd_values(make_repo):
    tasks, diagnostics = scan(make_repo, {"package.json": '{"name": "x", "scripts": {}}'})
    assert (tasks, diagnostics) == ({}, [])
    tasks, diagnostics = scan(make_repo, {"package.json": '{"name": "x"}'})
    assert (tasks, diagnostics) == ({}, [])
    tasks, _ = scan(make_repo, {"package.json": '{"name": 5, "scripts": {"a": "' + "x" * 50_000 + '"}}'})
    assert "package" not in tasks["a"].attributes
    assert len(tasks["a"].commands[0].text) == 50_000


def test_vendored_package_json_is_ignored(make_repo):
    inventory = run_detectors(
        make_repo({"node_modules/a/package.json": '{"scripts": {"x": "y"}}',
                   "bower_components/b/package.json": '{"scripts": {"x": "y"}}'}),
        "npm-scripts",
    )
    assert inventory.tasks == []


def test_secrets_in_scripts_are_redacted(make_repo):
    token = "npm_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    tasks, _ = scan(make_repo, {"package.json": json.dumps({"scripts": {"pub": f"NPM_TOKEN={token} npm publish"}})})
    assert token not in tasks["pub"].commands[0].text
