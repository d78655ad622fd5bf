"""Composer detector: scripts of composer.json."""

from __future__ import annotations

import pytest

from tests.conftest import errors_of, run_detectors

COMPOSER = """\
{
    "name": "acme/app",
    "scripts": {
        "test": "phpunit",
        "check": ["@test", "@php vendor/bin/phpstan analyse"],
        "post-install-cmd": "App\\\\Installer::run",
        "bad": 3
    },
    "scripts-descriptions": {"test": "Run the unit tests"}
}
"""


def test_scripts(make_repo):
    inventory = run_detectors(make_repo({"composer.json": COMPOSER}), "composer")
    assert errors_of(inventory) == []
    found = {t.name: (t.invocation, [c.text for c in t.commands], t.depends_on, t.description, t.attributes,
                      t.evidence.line_start) for t in inventory.tasks}
    assert found == {
        "test": ("composer run-script test", ["phpunit"], [], "Run the unit tests", {}, 4),
        "check": ("composer run-script check", ["@test", "@php vendor/bin/phpstan analyse"], ["test"], None, {}, 5),
        "post-install-cmd": ("composer run-script post-install-cmd", ["App\\Installer::run"], [], None,
                             {"event": "true"}, 6),
    }
    assert [d.line for d in inventory.diagnostics] == [7]


@pytest.mark.parametrize("text", ["", "[]", '{"scripts": []}', "{" * 5000, '{"scripts": {"a": [1]}}'])
def test_odd_composer_files(make_repo, text):
    assert errors_of(run_detectors(make_repo({"composer.json": text}), "composer")) == []


def test_vendored_composer_files_are_not_read(make_repo):
    assert run_detectors(make_repo({"vendor/x/composer.json": COMPOSER}), "composer").tasks == []
