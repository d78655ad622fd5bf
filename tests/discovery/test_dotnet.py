""".NET detector: local tools and custom MSBuild targets."""

from __future__ import annotations

import pytest

from tests.conftest import errors_of, run_detectors

TOOLS = """\
{
  "version": 1,
  "isRoot": true,
  "tools": {
    "dotnet-ef": {"version": "8.0.0", "commands": ["dotnet-ef"]},
    "csharpier": {"version": "0.27.0", "commands": ["dotnet-csharpier"]}
  }
}
"""
CSPROJ = """\
<Project Sdk="Microsoft.NET.Sdk">
  <Target Name="GenerateClient" BeforeTargets="Build" DependsOnTargets="Restore;Prepare">
    <Exec Command="npx autorest --csharp
                   --input-file=api.json" />
  </Target>
  <Target Name="Empty" />
</Project>
"""


def test_local_tools(make_repo):
    inventory = run_detectors(make_repo({".config/dotnet-tools.json": TOOLS}), "dotnet")
    assert errors_of(inventory) == []
    assert [(t.name, t.invocation, t.attributes, t.evidence.line_start) for t in inventory.tasks] == [
        ("dotnet-ef", "dotnet tool run dotnet-ef", {"package": "dotnet-ef", "version": "8.0.0"}, 5),
        ("dotnet-csharpier", "dotnet tool run dotnet-csharpier", {"package": "csharpier", "version": "0.27.0"}, 6),
    ]


@pytest.mark.parametrize("path", ["src/App/App.csproj", "Directory.Build.targets", "build/common.props"])
def test_custom_msbuild_targets(make_repo, path):
    inventory = run_detectors(make_repo({path: CSPROJ}), "dotnet")
    assert errors_of(inventory) == []
    generate, empty = inventory.tasks
    assert (generate.name, generate.invocation) == ("GenerateClient", f"dotnet msbuild {path} -t:GenerateClient")
    assert generate.depends_on == ["Restore", "Prepare"]
    assert generate.attributes == {"BeforeTargets": "Build"}
    assert [(c.text, c.evidence.line_start) for c in generate.commands] == [
        ("npx autorest --csharp --input-file=api.json", 3)]
    assert (generate.evidence.line_start, generate.evidence.line_end) == (2, 5)
    assert (empty.name, empty.evidence.line_start, empty.commands) == ("Empty", 6, [])


@pytest.mark.parametrize("text", ["", "<Target", "<Target Name='x'>" * 3000, "<Target Name=\"a\">"])
def test_odd_project_files(make_repo, text):
    assert errors_of(run_detectors(make_repo({"a.csproj": text}), "dotnet")) == []
