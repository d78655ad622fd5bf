"""Maven detector: POM profiles and plugin executions bound to phases."""

from __future__ import annotations

import pytest

from tests.conftest import errors_of, run_detectors

POM = """\
<project>
  <build>
    <plugins>
      <plugin>
        <artifactId>maven-gpg-plugin</artifactId>
        <executions>
          <execution>
            <id>sign-artifacts</id>
            <phase>verify</phase>
            <goals><goal>sign</goal></goals>
          </execution>
          <execution>
            <id>no-phase</id>
            <goals><goal>help</goal></goals>
          </execution>
        </executions>
      </plugin>
    </plugins>
  </build>
  <profiles>
    <profile>
      <id>release</id>
      <activation><property><name>performRelease</name></property></activation>
    </profile>
  </profiles>
</project>
"""


def test_profiles_and_bound_executions(make_repo):
    inventory = run_detectors(make_repo({"pom.xml": POM, "mvnw": "#!/bin/sh\n"}), "maven")
    assert errors_of(inventory) == []
    found = {t.name: (t.invocation, t.attributes, t.evidence.line_start) for t in inventory.tasks}
    assert found == {
        "maven-gpg-plugin:sign@sign-artifacts": (
            "./mvnw verify", {"phase": "verify", "goals": "sign", "plugin": "maven-gpg-plugin"}, 7),
        "profile release": ("./mvnw -P release verify", {"activation": "performRelease"}, 21),
    }


@pytest.mark.parametrize("text", ["", "<project>", "<profile>" * 2000, "<!DOCTYPE x [<!ENTITY a 'b'>]><project/>"])
def test_odd_poms(make_repo, text):
    assert errors_of(run_detectors(make_repo({"pom.xml": text}), "maven")) == []
