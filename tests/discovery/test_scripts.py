"""The scripts detector: script files in scripts/, bin/, tools/, hack/ folders, checked by hand."""

from __future__ import annotations

import time

import pytest

from tests.conftest import errors_of, run_detectors

from .conftest import command_lines as lines
from .conftest import task_scanner

DEPLOY_SH = """\
#!/usr/bin/env bash
# shellcheck disable=SC2086
#
# Deploy the application to a Kubernetes cluster.
# Builds the image first.
#
# Usage: ./scripts/deploy.sh <env> [--dry-run]
set -euo pipefail

ENV="${1:?usage}"
usage() {
  echo "Usage: $0 <env> [--dry-run]"
  exit 1
}

if [[ "$ENV" == "prod" ]]; then
  kubectl config use-context prod   # switch
fi
docker build \\
  -t "app:${GIT_SHA}" .
cat <<EOF > values.yaml
image: app
# not a comment
EOF
case "$1" in
  -h|--help) usage ;;
  *)
    helm upgrade --install app ./chart -f values.yaml
    ;;
esac
echo "${#ENV} done" # trailing
"""

RELEASE_PY = '''\
"""Cut a release: bump the version and tag it.

More details here.
"""
import argparse

parser = argparse.ArgumentParser(usage="%(prog)s [--major|--minor] VERSION")
if __name__ == "__main__":
    parser.parse_args()
'''

SETUP = """\
#!/bin/sh -e
# Copyright 2024 Acme Inc.
# SPDX-License-Identifier: MIT

# Install the development tools.
set -u
brew bundle
"""


scan = task_scanner("scripts", key=lambda t: t.path)


def test_shell_script(make_repo):
    tasks, diagnostics = scan(make_repo, {"scripts/deploy.sh": DEPLOY_SH})
    assert diagnostics == []
    task = tasks["scripts/deploy.sh"]
    assert (task.id, task.runner, task.name) == ("script:scripts/deploy.sh#deploy.sh", "script", "deploy.sh")
    assert task.invocation == "./scripts/deploy.sh"
    assert task.description == "Deploy the application to a Kubernetes cluster. Builds the image first."
    assert task.attributes == {
        "interpreter": "bash",
        "interpreter_source": "shebang",
        "shebang": "#!/usr/bin/env bash",
        "strict_mode": "yes",
        "shell_options": "errexit, nounset, pipefail",
        "usage": "./scripts/deploy.sh <env> [--dry-run]",
    }
    assert (task.evidence.line_start, task.evidence.line_end) == (1, 31)
    assert lines(task) == [
        ("set -euo pipefail", 8, 8),
        ('ENV="${1:?usage}"', 10, 10),
        ('echo "Usage: $0 <env> [--dry-run]"', 12, 12),
        ("exit 1", 13, 13),
        ('if [[ "$ENV" == "prod" ]]; then', 16, 16),
        ("kubectl config use-context prod", 17, 17),
        ('docker build -t "app:${GIT_SHA}" .', 19, 20),
        ("cat <<EOF > values.yaml", 21, 21),
        ('case "$1" in', 25, 25),
        ("-h|--help) usage ;;", 26, 26),
        ("helm upgrade --install app ./chart -f values.yaml", 28, 28),
        ('echo "${#ENV} done"', 31, 31),
    ]


def test_python_script_without_shebang(make_repo):
    tasks, _ = scan(make_repo, {"tools/release.py": RELEASE_PY})
    task = tasks["tools/release.py"]
    assert task.invocation == "python tools/release.py"
    assert task.description == "Cut a release: bump the version and tag it."
    assert task.attributes == {"interpreter": "python", "interpreter_source": "extension",
                               "usage": "%(prog)s [--major|--minor] VERSION"}
    assert task.commands == []  # only shell scripts have their lines recorded


def test_licence_header_is_skipped_and_shebang_flags_count(make_repo):
    tasks, _ = scan(make_repo, {"bin/setup": SETUP})
    task = tasks["bin/setup"]
    assert task.invocation == "./bin/setup"
    assert task.description == "Install the development tools."
    assert task.attributes == {
        "interpreter": "sh", "interpreter_source": "shebang", "shebang": "#!/bin/sh -e", "interpreter_args": "-e",
        "strict_mode": "no", "shell_options": "errexit, nounset",
    }
    assert lines(task) == [("set -u", 6, 6), ("brew bundle", 7, 7)]


@pytest.mark.parametrize(
    ("path", "content", "invocation", "interpreter", "description"),
    [
        pytest.param("hack/verify.ts", "#!/usr/bin/env -S deno run --allow-read\n// Verify generated code is current.\n"
                     "console.log(1)\n", "./hack/verify.ts", ("deno", "run --allow-read"),
                     "Verify generated code is current.", id="env-S-deno"),
        pytest.param("scripts/build.js", "'use strict';\n/**\n * Bundle the web app.\n *\n * More.\n */\nrequire('x')\n",
                     "node scripts/build.js", ("node", None), "Bundle the web app.", id="js-jsdoc"),
        pytest.param("scripts/gen.ts", "// Generate the client.\nexport {}\n", "npx tsx scripts/gen.ts", ("npx tsx", None),
                     "Generate the client.", id="ts-no-shebang"),
        pytest.param("scripts/Invoke-Build.ps1", "<#\n.SYNOPSIS\n  Builds the solution.\n.DESCRIPTION\n  Long.\n#>\n"
                     "dotnet build\n", "pwsh scripts/Invoke-Build.ps1", ("pwsh", None), "Builds the solution.",
                     id="powershell-help"),
        pytest.param("script/bootstrap", "#!/usr/bin/env ruby\n# Set up the app.\nsystem('bundle')\n",
                     "./script/bootstrap", ("ruby", None), "Set up the app.", id="ruby-script-folder"),
        pytest.param("bin/run.py", "#!/usr/bin/env -S uv run --script\n# /// script\n# dependencies = []\n# ///\n"
                     "print(1)\n", "./bin/run.py", ("uv", "run --script"), None, id="uv-inline-metadata"),
        pytest.param("tools/check.pl", "#!/usr/bin/perl -w\n# Check links.\nprint 1;\n", "./tools/check.pl",
                     ("perl", "-w"), "Check links.", id="perl-with-flag"),
        pytest.param("scripts/a.zsh", "# Zsh helper.\necho hi\n", "zsh scripts/a.zsh", ("zsh", None), "Zsh helper.",
                     id="zsh-extension"),
        pytest.param("scripts/x.sh", "#!/usr/bin/env VAR=1 -i bash\necho\n", "./scripts/x.sh", ("bash", None), None,
                     id="env-assignment-and-option"),
        pytest.param("scripts/broken.py", "#!/usr/bin/env python3\n# Broken on purpose.\ndef (:\n", "./scripts/broken.py",
                     ("python3", None), "Broken on purpose.", id="python-syntax-error-falls-back-to-comment"),
    ],
)
def test_interpreters_and_descriptions(make_repo, path, content, invocation, interpreter, description):
    tasks, _ = scan(make_repo, {path: content})
    task = tasks[path]
    assert task.invocation == invocation
    assert (task.attributes["interpreter"], task.attributes.get("interpreter_args")) == interpreter
    assert task.description == description


@pytest.mark.parametrize(
    ("content", "strict", "options"),
    [
        pytest.param("set -euo pipefail\n", "yes", "errexit, nounset, pipefail", id="compact"),
        pytest.param("set -o errexit -o nounset -o pipefail\n", "yes", "errexit, nounset, pipefail", id="long"),
        pytest.param("set -Eeuo pipefail\n", "yes", "errexit, errtrace, nounset, pipefail", id="with-errtrace"),
        pytest.param("set -e\nset -o pipefail\n", "no", "errexit, pipefail", id="no-nounset"),
        pytest.param("# set -euo pipefail\necho\n", "no", None, id="commented-out"),
        pytest.param("true && set -eu; set -o pipefail\n", "yes", "errexit, nounset, pipefail", id="after-operators"),
        pytest.param("echo 'set -e'\n", "no", None, id="inside-quotes-is-not-a-set"),
    ],
)
def test_strict_mode(make_repo, content, strict, options):
    tasks, _ = scan(make_repo, {"scripts/s.sh": "#!/bin/bash\n" + content})
    assert tasks["scripts/s.sh"].attributes["strict_mode"] == strict
    assert tasks["scripts/s.sh"].attributes.get("shell_options") == options


@pytest.mark.parametrize(
    ("content", "usage"),
    [
        pytest.param('echo "Usage: $(basename "$0") <env>"\n', '$(basename "$0") <env>', id="echo"),
        pytest.param("cat <<EOF\nusage: deploy [options] ENV\nEOF\n", "deploy [options] ENV", id="heredoc"),
        pytest.param("printf 'Usage: %s <x>\\n' \"$0\"\n", "%s <x>", id="printf"),
        pytest.param("echo hi\n", None, id="none"),
    ],
)
def test_usage(make_repo, content, usage):
    tasks, _ = scan(make_repo, {"scripts/u.sh": "#!/bin/bash\n" + content})
    assert tasks["scripts/u.sh"].attributes.get("usage") == usage


def test_empty_and_shebang_only_scripts(make_repo):
    tasks, _ = scan(make_repo, {"scripts/empty.sh": "", "bin/only-shebang": "#!/bin/bash\n\n"})
    empty = tasks["scripts/empty.sh"]
    assert (empty.invocation, empty.commands, empty.description) == ("bash scripts/empty.sh", [], None)
    assert empty.attributes["empty"] == "true"
    assert (empty.evidence.line_start, empty.evidence.line_end) == (1, 1)
    only = tasks["bin/only-shebang"]
    assert (only.invocation, only.attributes["empty"], only.commands) == ("./bin/only-shebang", "true", [])


def test_what_is_not_a_script(make_repo):
    files = {
        "scripts/README.md": "# Scripts\n",
        "scripts/data": "just data\n",
        "scripts/__init__.py": "",
        "scripts/test_deploy.py": "def test(): pass\n",
        "scripts/types.d.ts": "export {}\n",
        "src/pkg/tools/__init__.py": "",
        "src/pkg/tools/helpers.py": "def helper(): pass\n",
        "src/pkg/tools/cli.py": "def main(): pass\n\nif __name__ == '__main__':\n    main()\n",
        "src/web/tools/format.ts": "export const x = 1\n",
        "src/web/tools/run.ts": "#!/usr/bin/env node\nconsole.log(1)\n",
        "vendor/bin/x.sh": "echo\n",
        "node_modules/.bin/y": "#!/usr/bin/env node\n",
        "deploy.sh": "#!/bin/bash\necho a script outside a script folder\n",
        "ci/notes.sh": "echo no shebang, not executable, outside a script folder\n",
        "scripts/ci/nested.sh": "echo nested\n",
        "scripts/test.bats": "#!/usr/bin/env bats\n@test 'x' { true; }\n",
        "scripts/notes.awk": "{ print }\n",
        "scripts/config.json": '{"a": 1}\n',
        "tools/tools.go": "//go:build tools\npackage tools\n",
    }
    tasks, _ = scan(make_repo, files)
    assert sorted(tasks) == ["deploy.sh", "scripts/ci/nested.sh", "scripts/test.bats", "src/pkg/tools/cli.py",
                             "src/web/tools/run.ts"]
    assert tasks["scripts/test.bats"].invocation == "./scripts/test.bats"
    assert tasks["scripts/test.bats"].attributes["interpreter"] == "bats"


def test_command_limit(make_repo):
    content = "#!/bin/bash\n" + "".join(f"echo {i}\n" for i in range(250))
    tasks, _ = scan(make_repo, {"scripts/long.sh": content})
    task = tasks["scripts/long.sh"]
    assert len(task.commands) == 200
    assert lines(task)[-1] == ("echo 199", 201, 201)
    assert task.evidence.line_end == 251


def test_heredoc_variants(make_repo):
    content = (
        "#!/bin/bash\n"
        "cat <<-'END'\n"
        "\tnot a command\n"
        "\tEND\n"
        "psql <<< 'select 1'\n"
        "cat << \"DOC\" | kubectl apply -f -\n"
        "kind: Pod\n"
        "DOC\n"
        "echo after\n"
    )
    tasks, _ = scan(make_repo, {"scripts/h.sh": content})
    assert lines(tasks["scripts/h.sh"]) == [
        ("cat <<-'END'", 2, 2), ("psql <<< 'select 1'", 5, 5), ('cat << "DOC" | kubectl apply -f -', 6, 6),
        ("echo after", 9, 9),
    ]


def test_secrets_are_redacted(make_repo):
    token = "ghp_" + "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8"
    tasks, _ = scan(make_repo, {"scripts/t.sh": f"#!/bin/bash\n# Usage: t.sh {token}\ncurl -u me:{token} x\n"})
    task = tasks["scripts/t.sh"]
    assert token not in task.commands[0].text
    assert token not in task.attributes["usage"]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("#!\n", id="bare-shebang"),
        pytest.param("#!/bin/bash\ncat <<EOF\nnever ends\n", id="unterminated-heredoc"),
        pytest.param("#!/bin/bash\necho 'unclosed # quote\n", id="unclosed-quote"),
        pytest.param("#!/bin/bash\necho \\", id="continuation-at-end"),
        pytest.param("#!/bin/bash\n" + "x" * 300_000 + "\n", id="huge-line"),
        pytest.param(b"#!/bin/sh\n# caf\xe9\necho \xe9\n", id="latin-1"),
        pytest.param(b"#!/bin/sh\r\necho crlf\r\n", id="crlf"),
        pytest.param("#!/usr/bin/env\n", id="env-without-program"),
        pytest.param("#!/usr/bin/env -S\n", id="env-S-without-program"),
        pytest.param("#!/bin/bash\nset -o\nset -\n", id="incomplete-set"),
        pytest.param("#!/bin/bash\n" + "a|" * 5000 + " b\n", id="many-pipes-no-backtracking"),
        pytest.param("#!/bin/bash\necho 'Usage: " + ";" * 20000 + "x\n", id="usage-line-of-semicolons"),
    ],
)
def test_odd_scripts_never_crash(make_repo, content):
    started = time.perf_counter()
    inventory = run_detectors(make_repo({"scripts/odd": content}), "scripts")
    assert time.perf_counter() - started < 5  # no pattern may backtrack on a long line
    assert errors_of(inventory) == []
    assert len(inventory.tasks) == 1


def test_crlf_script_commands(make_repo):
    tasks, _ = scan(make_repo, {"scripts/c.sh": b"#!/bin/sh\r\necho crlf\r\n"})
    assert lines(tasks["scripts/c.sh"]) == [("echo crlf", 2, 2)]


@pytest.mark.parametrize(
    ("path", "content"),
    [
        pytest.param("scripts/lib/log.sh", "log() { echo \"$*\"; }\n", id="library-folder"),
        pytest.param("scripts/common.sh", "ROOT=$(pwd)\nlog() {\n  echo \"$*\"\n}\n", id="library-name"),
        pytest.param("scripts/setup-env.sh", "# sourced by the others\nexport A=1\nwarn() {\n  echo w >&2\n}\n",
                     id="only-definitions"),
        pytest.param("scripts/completions/tool.bash", "_tool() { COMPREPLY=(); }\ncomplete -F _tool tool\n",
                     id="completion-folder"),
        pytest.param("scripts/tool-completion.bash", "complete -F _tool tool\n", id="completion-name"),
        pytest.param("contrib/_tool", "#compdef tool\n_arguments '-h'\n", id="zsh-compdef"),
        pytest.param("scripts/helpers.py", '"""Shared helpers."""\nimport os\n\nROOT = os.getcwd()\n\n'
                     "def run(cmd):\n    return cmd\n", id="imported-python-module"),
    ],
)
def test_sourced_libraries_completions_and_modules_are_not_scripts(make_repo, path, content):
    tasks, _ = scan(make_repo, {path: content, "scripts/deploy.sh": "#!/bin/bash\nsource lib/log.sh\nlog hi\n"})
    assert sorted(tasks) == ["scripts/deploy.sh"]


def test_executable_shell_files_anywhere_are_scripts(make_repo):
    root = make_repo({"ci/run-e2e.sh": "kubectl apply -f e2e/\n", "ci/env.sh": "export A=1\n",
                      "tests/smoke.sh": "#!/bin/sh\ncurl -f localhost\n"})
    (root / "ci/run-e2e.sh").chmod(0o755)
    tasks, _ = scan(lambda files: root, {})
    assert sorted(tasks) == ["ci/run-e2e.sh", "tests/smoke.sh"]
    assert tasks["ci/run-e2e.sh"].invocation == "bash ci/run-e2e.sh"


def test_scripts_at_the_repository_root(make_repo):
    inventory = run_detectors(make_repo({"smoke-test": "#!/bin/sh\ncurl -fsS localhost/health\n",
                                         "bootstrap": "not a script, no shebang\n",
                                         "Makefile": "all:\n\ttrue\n", "notes": "plain text\n"}),
                              "scripts")
    assert [(t.path, t.invocation) for t in inventory.tasks] == [("smoke-test", "./smoke-test")]
