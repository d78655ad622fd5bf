"""Gradle detector: custom tasks of build.gradle(.kts), Groovy and Kotlin DSL."""

from __future__ import annotations

import pytest

from tests.conftest import errors_of, run_detectors

GROOVY = """\
plugins { id 'java' }

tasks.register('deployDocs') {
    group = 'publishing'
    description = 'Upload the docs site'
    dependsOn 'javadoc', ':site:build'
}

task integrationTest(type: Test) {
    description = "Slow tests"
}
"""
KOTLIN = """\
tasks.register<Exec>("generateCode") {
    description = "Regenerate the client"
    commandLine("./gen.sh")
}
tasks.create("bundle")
"""


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("build.gradle", GROOVY, [("deployDocs", "./gradlew deployDocs", "Upload the docs site", (3, 7)),
                                  ("integrationTest", "./gradlew integrationTest", "Slow tests", (9, 11))]),
        ("app/build.gradle.kts", KOTLIN, [("generateCode", "./gradlew :app:generateCode", "Regenerate the client",
                                           (1, 4)), ("bundle", "./gradlew :app:bundle", None, (5, 5))]),
    ],
)
def test_tasks(make_repo, path, text, expected):
    inventory = run_detectors(make_repo({path: text, "gradlew": "#!/bin/sh\n"}), "gradle")
    assert errors_of(inventory) == []
    found = [(t.name, t.invocation, t.description, (t.evidence.line_start, t.evidence.line_end))
             for t in inventory.tasks]
    assert found == expected


def test_groups_dependencies_and_no_wrapper(make_repo):
    inventory = run_detectors(make_repo({"build.gradle": GROOVY}), "gradle")
    deploy = inventory.tasks[0]
    assert deploy.attributes["group"] == "publishing"
    assert deploy.depends_on == ["javadoc", ":site:build"]
    assert deploy.invocation == "gradle deployDocs"


@pytest.mark.parametrize("text", ["", "tasks.register(", "task {" * 5000, "}" * 10000, "task('x'"])
def test_odd_build_scripts(make_repo, text):
    assert errors_of(run_detectors(make_repo({"build.gradle": text}), "gradle")) == []
