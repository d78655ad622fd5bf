"""Ansible playbooks: YAML files whose top level is a list of plays or playbook imports.

Read as the Ansible playbook documentation describes them: a play is a mapping with `hosts` and at least one
of `tasks`, `roles`, `pre_tasks`, `post_tasks` or `handlers`; a playbook may also import others with
`import_playbook` (or `ansible.builtin.import_playbook`, or the pre-2.4 `include`). Tasks nest in
`block`/`rescue`/`always`; roles are listed as names or as `{role: name}` / `{name: name}` mappings, or
pulled in by `include_role`/`import_role` tasks. `become` takes Ansible's booleans (yes/no/true/false/1/0).
Vault-encrypted values (`!vault`) load as `Tagged` and are never reported.

Any YAML file may be a playbook, so the text is checked first (`hosts:` or `import_playbook`); a YAML syntax
error is reported only for files that are plainly Ansible (under `playbooks/` or `ansible/`, or a root
`site.yml` / `playbook*.yml`).
"""

from __future__ import annotations

from typing import Any

from ..models import InfraItem
from ..repo import FileText
from ..yamlsrc import YamlError, YMap, YSeq, load_yaml_documents, scalar_text, string_list
from ._infra_common import unique
from .base import DetectContext, Wants, detector, name_matches, under

PLAY_SECTIONS = ("pre_tasks", "roles", "tasks", "post_tasks", "handlers")
TASK_SECTIONS = ("pre_tasks", "tasks", "post_tasks")
IMPORT_KEYS = ("import_playbook", "ansible.builtin.import_playbook", "include")
ROLE_TASK_KEYS = ("include_role", "import_role", "ansible.builtin.include_role", "ansible.builtin.import_role")
# Ansible's booleans for a keyword such as `become` (ansible.module_utils.parsing.convert_bool.BOOLEANS_TRUE, applied
# to the text lower-cased and stripped, quoted or not; the numbers 1 and 1.0 too).
TRUTHY = frozenset({"yes", "true", "on", "1", "y", "t"})
MAX_BLOCK_DEPTH = 20
_ROOT_PLAYBOOK = name_matches("site.yml", "site.yaml", "playbook*.yml", "playbook*.yaml")
_SKIPPED_DIRS = (".github", ".circleci", ".gitlab")


PLAYBOOK_CANDIDATES = Wants(globs=("*.yml", "*.yaml"), refine=lambda path: not under(path, *_SKIPPED_DIRS))


def _plainly_ansible(path: str) -> bool:
    return under(path, "playbooks", "ansible") or ("/" not in path and _ROOT_PLAYBOOK(path))


@detector("ansible", wants=PLAYBOOK_CANDIDATES)
def detect_playbook(ctx: DetectContext, file: FileText) -> None:
    # What a playbook holds depends on its path and text alone: remembered across scans, the cheap check too (two
    # searches through every YAML file: 4 ms of kube-prometheus's 5.6 MB, against a look-up by the file's digest).
    ctx.remembered((file,), lambda: _read_playbook(ctx, file))


def _read_playbook(ctx: DetectContext, file: FileText) -> None:
    text = file.text
    if "hosts:" not in text and "import_playbook" not in text:
        return  # cheap check: a play needs hosts, an import needs import_playbook
    path = file.path
    try:
        docs = load_yaml_documents(text)
    except YamlError as exc:
        if _plainly_ansible(path):
            ctx.diagnostic(path, str(exc), line=exc.line)
        return
    if not docs or not isinstance(docs[0], YSeq):
        return
    entries = docs[0]
    if not entries or not all(isinstance(entry, YMap) for entry in entries):
        return
    plays = [entry for entry in entries if _is_play(entry)]
    imports = [entry for entry in entries if any(key in entry for key in IMPORT_KEYS)]
    if not plays and not any(key != "include" for entry in imports for key in entry if key in IMPORT_KEYS):
        return  # `include` alone is also a task keyword: a task list is not a playbook
    ctx.add_infra(InfraItem(kind="ansible-playbook", name=path, path=path,
                            attributes=_attributes(ctx, path, plays, imports),
                            evidence=ctx.evidence(path, 1, file.line_count)))


def _is_play(entry: YMap) -> bool:
    return "hosts" in entry and any(section in entry for section in PLAY_SECTIONS)


def _attributes(ctx: DetectContext, path: str, plays: list[YMap], imports: list[YMap]) -> dict[str, str | list[str]]:
    names: list[str] = []
    hosts: list[str] = []
    roles: list[str] = []
    tasks = handlers = 0
    become = False
    for number, play in enumerate(plays, start=1):
        play_hosts = ", ".join(string_list(play.get("hosts"))) or "?"
        names.append(scalar_text(play.get("name")) or f"play {number} (hosts: {play_hosts})")
        hosts.extend(string_list(play.get("hosts")))
        roles.extend(_roles(play.get("roles")))
        for section in TASK_SECTIONS:
            count, task_roles, task_become = _tasks(play.get(section), 0)
            tasks += count
            roles.extend(task_roles)
            become = become or task_become
        handlers += _tasks(play.get("handlers"), 0)[0]
        become = become or _truthy(play.get("become"))
    attributes: dict[str, str | list[str]] = {
        "plays": names,
        "hosts": unique(hosts),
        "roles": unique(roles),
        "tasks": str(tasks),
        "handlers": str(handlers),
        "become": "yes" if become else "no",
    }
    imported = [ctx.redact(target, path) for entry in imports for key in IMPORT_KEYS
                if (target := scalar_text(entry.get(key)))]
    if imported:
        attributes["imports"] = imported
    return attributes


def _roles(value: Any) -> list[str]:
    names: list[str] = []
    if not isinstance(value, YSeq):
        return names
    for role in value:
        if isinstance(role, YMap):
            name = scalar_text(role.get("role")) or scalar_text(role.get("name"))
        else:
            name = scalar_text(role)
        if name:
            names.append(name)
    return names


def _tasks(value: Any, depth: int) -> tuple[int, list[str], bool]:
    """(task count, roles pulled in by tasks, whether a task uses become); a block counts its inner tasks."""
    if not isinstance(value, YSeq) or depth > MAX_BLOCK_DEPTH:
        return 0, [], False
    count, roles, become = 0, [], False
    for task in value:
        if not isinstance(task, YMap):
            continue
        become = become or _truthy(task.get("become"))
        if any(key in task for key in ("block", "rescue", "always")):
            for key in ("block", "rescue", "always"):
                inner_count, inner_roles, inner_become = _tasks(task.get(key), depth + 1)
                count += inner_count
                roles.extend(inner_roles)
                become = become or inner_become
            continue
        count += 1
        for key in ROLE_TASK_KEYS:
            spec = task.get(key)
            name = scalar_text(spec.get("name")) if isinstance(spec, YMap) else scalar_text(spec)
            if name:
                roles.append(name)
    return count, roles, become


def _truthy(value: Any) -> bool:
    if value is True or (isinstance(value, int | float) and not isinstance(value, bool) and value == 1):
        return True
    text = scalar_text(value)
    return text is not None and text.strip().lower() in TRUTHY

