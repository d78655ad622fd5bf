"""Rake detector: tasks, descriptions, namespaces and dependencies."""

from __future__ import annotations

import pytest

from tests.conftest import errors_of, run_detectors

RAKEFILE = """\
desc "Run the test suite"
task :test do
  ruby "test/all.rb"
end

task default: [:test, :lint]

namespace :db do
  desc "Load the seed data"
  task seed: :environment do
    Seed.run
  end

  namespace :backup do
    task "create" => [:environment] do
    end
  end
end

task :lint
"""


def test_tasks_namespaces_and_dependencies(make_repo):
    inventory = run_detectors(make_repo({"Rakefile": RAKEFILE}), "rake")
    assert errors_of(inventory) == []
    found = [(t.name, t.description, t.depends_on, t.evidence.line_start, t.invocation) for t in inventory.tasks]
    assert found == [
        ("test", "Run the test suite", [], 2, "rake test"),
        ("default", None, ["test", "lint"], 6, "rake default"),
        ("db:seed", "Load the seed data", ["environment"], 10, "rake db:seed"),
        ("db:backup:create", None, ["environment"], 15, "rake db:backup:create"),
        ("lint", None, [], 20, "rake lint"),
    ]


def test_rails_tasks_run_through_bin_rails(make_repo):
    inventory = run_detectors(make_repo({"lib/tasks/cache.rake": "task :warm do\nend\n", "bin/rails": "#!/x\n"}),
                              "rake")
    assert [t.invocation for t in inventory.tasks] == ["bin/rails warm"]


@pytest.mark.parametrize("text", ["", "end\n" * 100, "namespace :a do\n" * 500, "task\n", "task :\n"])
def test_odd_rakefiles(make_repo, text):
    assert errors_of(run_detectors(make_repo({"Rakefile": text}), "rake")) == []
