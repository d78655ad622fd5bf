"""Ansible detector: playbooks (plays and imports), roles, task counts, become; other YAML left alone."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_kit.discovery.ansible import detect_playbook
from orchestrator_kit.discovery.base import DetectContext
from orchestrator_kit.repo import FileText, Workspace

from .conftest import scanner

SITE = """\
---
- import_playbook: playbooks/common.yml

- name: Web servers
  hosts: webservers:&production
  become: yes
  vars:
    db_password: !vault |
      $ANSIBLE_VAULT;1.1;AES256
      62313365396662343061393464336163383764373764613633653634306231386433626436623361
  pre_tasks:
    - name: Update apt cache
      ansible.builtin.apt:
        update_cache: true
  roles:
    - common
    - role: nginx
      vars:
        port: 8080
    - { name: certbot, when: tls }
  tasks:
    - name: Deploy
      block:
        - name: Copy release
          ansible.builtin.copy: {src: app.tar.gz, dest: /opt/app}
        - name: Restart
          ansible.builtin.service: {name: app, state: restarted}
      rescue:
        - name: Roll back
          ansible.builtin.command: /opt/app/rollback
      always:
        - name: Notify
          ansible.builtin.debug: {msg: done}
    - name: Metrics agent
      ansible.builtin.include_role:
        name: datadog
  handlers:
    - name: reload nginx
      ansible.builtin.service: {name: nginx, state: reloaded}

- hosts:
    - db1
    - db2
  tasks:
    - ansible.builtin.ping:
"""

scan = scanner("ansible")


def test_site_playbook(make_repo):
    inventory = scan(make_repo, {"site.yml": SITE})
    [item] = inventory.infrastructure
    assert item.kind == "ansible-playbook"
    assert item.name == item.path == "site.yml"
    assert item.attributes == {
        "plays": ["Web servers", "play 2 (hosts: db1, db2)"],
        "hosts": ["webservers:&production", "db1", "db2"],
        "roles": ["common", "nginx", "certbot", "datadog"],
        # 1 pre_task + 4 inside block/rescue/always + 1 include_role task + 1 ping
        "tasks": "7",
        "handlers": "1",
        "become": "yes",
        "imports": ["playbooks/common.yml"],
    }
    assert (item.evidence.line_start, item.evidence.line_end) == (1, 45)
    assert "ANSIBLE_VAULT" not in str(item.attributes)
    assert inventory.diagnostics == []


@pytest.mark.parametrize(
    ("text", "imports"),
    [
        ("- import_playbook: web.yml\n- import_playbook: db.yml\n", ["web.yml", "db.yml"]),
        ("- name: all\n  ansible.builtin.import_playbook: all.yml\n", ["all.yml"]),
    ],
)
def test_playbook_of_imports(make_repo, text, imports):
    [item] = scan(make_repo, {"playbooks/main.yaml": text}).infrastructure
    assert item.attributes["imports"] == imports
    assert item.attributes["plays"] == []
    assert item.attributes["become"] == "no"


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # A role's task list: a list of tasks, not of plays.
        ("roles/web/tasks/main.yml", "- name: install\n  apt: {name: nginx}\n- include: other.yml\n"),
        # Compose's extra_hosts mentions hosts: but the top level is a mapping.
        ("docker-compose.yml", "services:\n  web:\n    extra_hosts:\n      - 'db:10.0.0.2'\n"),
        # An inventory in YAML: a mapping of groups.
        ("inventory/hosts.yml", "all:\n  hosts:\n    web1:\n"),
        # A list of maps with hosts but no play section.
        ("data/targets.yml", "- hosts: a\n  port: 22\n"),
        # A list that mixes plays and scalars is not a playbook.
        ("mixed.yml", "- hosts: all\n  tasks: []\n- just text\n"),
        # A workflow file is never read.
        (".github/workflows/ci.yml", "- hosts: all\n  tasks: []\n"),
        ("vendor/roles/x/site.yml", "- hosts: all\n  tasks: []\n"),
    ],
)
def test_other_yaml_is_not_a_playbook(make_repo, path, text):
    inventory = scan(make_repo, {path: text})
    assert inventory.infrastructure == []
    assert inventory.diagnostics == []


@pytest.mark.parametrize(
    ("path", "diagnosed"),
    [
        ("playbooks/deploy.yml", True),
        ("ansible/site.yml", True),
        ("site.yml", True),
        ("playbook-db.yaml", True),
        ("config/app.yml", False),
        ("sub/site.yml", False),
    ],
)
def test_yaml_errors_only_for_plain_ansible_files(make_repo, path, diagnosed):
    inventory = scan(make_repo, {path: "- hosts: all\n  tasks: [\n"})
    assert inventory.infrastructure == []
    assert bool(inventory.diagnostics) is diagnosed
    if diagnosed:
        assert inventory.diagnostics[0].reason.startswith("invalid YAML")


@pytest.mark.parametrize(
    ("become", "expected"),
    [("true", "yes"), ("True", "yes"), ("'yes'", "yes"), ("1", "yes"), ("no", "no"), ("false", "no"),
     ("'{{ use_sudo }}'", "no"),
     # Ansible's boolean(): 't' and 1.0 are true too (module_utils/parsing/convert_bool.py BOOLEANS_TRUE)
     ("t", "yes"), ("' T '", "yes"), ("1.0", "yes"), ("f", "no"), ("0.0", "no")],
)
def test_become_values(make_repo, become, expected):
    text = f"- hosts: all\n  become: {become}\n  tasks:\n    - ping:\n"
    [item] = scan(make_repo, {"site.yml": text}).infrastructure
    assert item.attributes["become"] == expected


def test_task_level_become(make_repo):
    text = "- hosts: all\n  tasks:\n    - name: root only\n      become: true\n      command: id\n"
    [item] = scan(make_repo, {"site.yml": text}).infrastructure
    assert item.attributes["become"] == "yes"


def test_odd_value_types(make_repo):
    text = """\
    - hosts: 42
      roles: common
      tasks:
        name: not-a-list
      handlers: 7
    - hosts: [a, 1]
      roles:
        - 5
        - {vars: {}}
      tasks:
        - just-a-string
        - block: not-a-list
        - name: x
          include_role: 3
    """
    [item] = scan(make_repo, {"site.yml": text}).infrastructure
    assert item.attributes["plays"] == ["play 1 (hosts: 42)", "play 2 (hosts: a, 1)"]
    assert item.attributes["hosts"] == ["42", "a", "1"]
    assert item.attributes["roles"] == ["5", "3"]
    assert item.attributes["tasks"] == "1"  # the block with no list holds no task; the string is not a task
    assert item.attributes["handlers"] == "0"


def test_deeply_nested_blocks_are_bounded(make_repo):
    task = "- ping:\n"
    for _ in range(40):
        task = "- block:\n" + "".join("    " + line + "\n" for line in task.splitlines())
    text = "- hosts: all\n  tasks:\n" + "".join("    " + line + "\n" for line in task.splitlines())
    [item] = scan(make_repo, {"site.yml": text}).infrastructure
    assert item.attributes["tasks"] == "0"  # deeper than the bound: not counted, and no crash


def run_direct(root, detect, path, text):
    """Call a detector directly (not through the runner), so that any exception fails the test."""
    ctx = DetectContext(Workspace(root), [path])
    detect(ctx, FileText(path=path, text=text, encoding="utf-8", size=len(text)))
    return ctx.findings

SCALARS = ["all", "web", "yes", "True", "site.yml", "common"]
KEYS = ["hosts", "name", "tasks", "roles", "pre_tasks", "post_tasks", "handlers", "become", "block", "rescue",
        "always", "role", "include_role", "import_role", "import_playbook", "ansible.builtin.import_playbook",
        "include", "vars"]


def yaml_documents(keys):
    """Random YAML built from the format's own keys, with values of every type in every place."""
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=6),
                        st.sampled_from(SCALARS))
    values = st.recursive(
        scalars,
        lambda children: st.one_of(st.lists(children, max_size=3),
                                   st.dictionaries(st.sampled_from(keys), children, max_size=4)),
        max_leaves=25,
    )
    return values


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.lists(yaml_documents(KEYS), max_size=4))
def test_any_shape_never_raises(tmp_path, doc):
    run_direct(tmp_path, detect_playbook, "site.yml", yaml.safe_dump(doc) + "# hosts:\n")
