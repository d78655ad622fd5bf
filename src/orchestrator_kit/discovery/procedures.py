"""Manual procedures: the sections of operational documents that a person follows by hand.

What is read: Markdown files (`.md`, `.markdown`, `.mdown`, `.mkd`), documentation sites' ERB-templated Markdown
(`.html.md.erb`, anywhere), reStructuredText, AsciiDoc and plain text (`.rst`, `.adoc`, `.txt`; rewritten as
Markdown line for line by `_docformats`) that are operational docs: `README*` and `*_README*`, `RELEASING*`,
`RELEASE*`, `CONTRIBUTING*`, `DEPLOY*`, `OPERATIONS*`, `MAINTAINING*`, `UPGRADING*`, `RUNBOOK*`, any document under
a docs-like folder (`docs/`, `doc/`, `docs-src/`, `guides/`, `handbook/`, `runbooks/`, `ops/`, `playbooks/`, `wiki/`,
`.github/`, ...; compared case-insensitively), and files whose name says release, deploy, runbook, rollback,
incident, on-call, restore, backup, upgrade or migration. Not read: changelogs, release notes, licences, issue
and pull request templates, decision records (`adr/`, `decisions/`, `rfcs/`, ...), files written for AI agents
(`AGENTS.md`, `CLAUDE.md`, `copilot-instructions.md`, `*.prompt.md`, `prompts/`, `.cursor/`), translations
(`docs-locale/`, `i18n/`, language folders such as `fr/` or `zh-cn/`) and vendored folders.

How it is read: markdown-it-py with its CommonMark preset (plus tables), so lists, fences, indented code,
setext headings and raw HTML follow the CommonMark spec; `Token.map` gives 0-based `[start, end)` line
ranges. YAML/TOML front matter is blanked first (line numbers are kept) and HTML comments are raw HTML, which
is never read. The document is cut into sections at headings; a section's own body runs to the next heading
of any level, so that a subsection is its own procedure and no step is counted twice. One exception: child
headings written as steps (`### 1. Bump the version`, `### Step 2: Tag`) are folded into their parent, each
as one numbered step, because that is how people write long procedures. A code block right below a list is
part of the list's last item (one step, not two).

A section is a candidate when it holds numbered list items, GitHub task-list items (`- [ ]`, `- [x]`, GitHub
Flavored Markdown spec "task list items"), shell code blocks (fence info `sh`, `bash`, `console`,
`powershell`, ...; or no/`text` info when the lines look like commands), or instructions in running text
(imperative sentences with a hand-work marker or a command: "Create the GitHub release and upload the signed
artifacts."; two of them, or one with a command or two actions, see `_mood`). It is kept when it has a hand-work
marker (ssh, kubectl, deploy, "log in", ...), or sits in an ops document (RELEASING, RUNBOOK, runbooks/, ...),
or is a checklist in a process document (CONTRIBUTING, `.github/`). So a README "Installation" section
with only `pip install` is dropped: it is an instruction to users, not an operation. Dropped as well: sections
titled as background or references (Consequences, Context, Alternatives, See also, Best practices, ...), lists
of links (tables of contents), lists that describe what a system does ("Stages the app package"), and
checklists with neither an instruction nor a command outside operations and process documents (sign-off
templates).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..models import Command, ManualProcedure, ProcedureStep
from ..repo import FileText
from . import _mdtree
from ._docformats import as_markdown
from ._mdtree import Node
from ._mood import actions, instructs_work, mood, sentences
from .base import DetectContext, Wants, basename, detector, vendored

# ------------------------------------------------------------------ which files

DOC_EXTENSIONS = (".md", ".markdown", ".mdown", ".mkd")
# Other documentation formats, rewritten as Markdown line for line (see `_docformats`). Plain text is only read
# where its name or folder says it is documentation (a `requirements.txt` is not).
OTHER_DOC_EXTENSIONS = (".md.erb", ".markdown.erb", ".rst", ".adoc", ".asciidoc", ".txt")
TEXT_EXTENSIONS = (".txt",)
DOC_NAME_PREFIXES = (
    "readme", "releasing", "release", "contributing", "deploy", "operations", "maintaining", "upgrading", "runbook",
)
DOC_DIRS = frozenset(
    {"docs", "doc", "documentation", "runbooks", "runbook", "ops", "operations", "playbooks", "wiki", ".github",
     "guide", "guides", "handbook", "manual", "manuals", "howto", "how-to", "howtos", "procedures", "sop", "sops",
     "kb", "knowledge-base", "knowledgebase", "admin-guide", "user-guide"}
)
# A folder whose name starts or ends with "doc" is documentation too (docs-src, site-docs, userdocs, doc_sources).
DOC_DIR_PATTERN = re.compile(r"^docs?[-_.]|[-_.]?docs?$")
NAME_KEYWORDS = (
    "release", "deploy", "runbook", "rollback", "incident", "oncall", "on-call", "on_call", "restore", "backup",
    "upgrade", "migration",
)
# Names that say "this file is operations": every procedure-like section in them is kept.
OPS_NAME_KEYWORDS = (
    *NAME_KEYWORDS, "releasing", "operations", "maintaining", "upgrading", "hotfix", "disaster", "recovery",
    "failover", "playbook",
)
OPS_DIRS = frozenset(
    {"runbooks", "runbook", "ops", "operations", "playbooks", "deploy", "deployment", "deployments", "release",
     "releasing"}
)
EXCLUDED_NAME_PREFIXES = (
    "changelog", "changes", "history", "news", "license", "licence", "copying", "code_of_conduct",
    "code-of-conduct", "authors", "notice", "pull_request_template", "issue_template",
)
EXCLUDED_NAME_PARTS = ("release-notes", "release_notes", "releasenotes", "changelog")
EXCLUDED_DIRS = frozenset(
    {"issue_template", "pull_request_template", "discussion_template", "changelog.d", "changelogs", "changes",
     "release-notes", "release_notes", "releasenotes", "newsfragments",
     # decision records: their "consequences" are outcomes of a decision, not steps anyone follows
     "adr", "adrs", "decisions", "decision-records", "decision_records", "architecture-decisions", "rfcs", "rfc",
     "proposals", "design-docs", "enhancements", "keps",
     # prompts and rules written for AI agents
     "prompts", "instructions", ".cursor", ".claude", ".windsurf", ".clinerules", ".continue", "chatmodes",
     # translations repeat the procedures of the original language
     "docs-locale", "locale", "locales", "i18n", "l10n", "translations", "translated"}
)
# A folder named like a language (`fr`, `zh-cn`, `pt_BR`) holds a translation.
LANGUAGE_DIR = re.compile(
    r"^(?:ar|bg|cs|da|de|el|es|fa|fi|fr|he|hi|hu|id|it|ja|ko|nb|nl|no|pl|pt|ro|ru|sk|sv|th|tr|uk|vi|zh)"
    r"(?:[-_][a-z]{2,4})?$"
)
# Files written for AI coding agents: instructions to a model, not hand work for the team.
AGENT_FILE_STEMS = frozenset({"agents", "claude", "gemini", "copilot-instructions", "cursorrules", "codex", "llms"})
AGENT_SUFFIXES = (".prompt", ".instructions", ".chatmode", ".agent")
ADR_STEM = re.compile(r"^(?:adr|rfc|kep)[-_]?\d+")


def _stem(path: str) -> str:
    name = basename(path).lower()
    for extension in (*OTHER_DOC_EXTENSIONS, *DOC_EXTENSIONS):
        if name.endswith(extension):
            return name[: -len(extension)]
    return name.rsplit(".", 1)[0]


def _dirs(path: str) -> list[str]:
    return path.lower().split("/")[:-1]


def is_procedure_doc(path: str) -> bool:
    """Whether `path` is a document that may hold operational procedures (see the module doc)."""
    lower = path.lower()
    if not lower.endswith((*DOC_EXTENSIONS, *OTHER_DOC_EXTENSIONS)) or vendored(path):
        return False
    if lower.endswith(".erb") and not lower.endswith((".md.erb", ".markdown.erb")):
        return False
    stem, dirs = _stem(path), _dirs(path)
    if stem.startswith(EXCLUDED_NAME_PREFIXES) or any(p in stem for p in EXCLUDED_NAME_PARTS):
        return False
    if any(d in EXCLUDED_DIRS or LANGUAGE_DIR.match(d) for d in dirs):
        return False
    if _written_for_agents(stem) or ADR_STEM.match(stem):
        return False
    if lower.endswith((".md.erb", ".markdown.erb")):
        return True  # the source of a documentation site
    in_doc_dir = any(d in DOC_DIRS or DOC_DIR_PATTERN.search(d) for d in dirs)
    return (
        stem.startswith(DOC_NAME_PREFIXES)
        or stem.endswith(("_readme", "-readme", ".readme"))
        or in_doc_dir
        or any(k in stem for k in NAME_KEYWORDS)
    )


def _written_for_agents(stem: str) -> bool:
    return stem in AGENT_FILE_STEMS or stem.endswith(AGENT_SUFFIXES)


def is_ops_doc(path: str) -> bool:
    """Whether the file's name or folder says it is about operations (RELEASING.md, docs/runbooks/db.md, ...)."""
    stem = _stem(path)
    return any(k in stem for k in OPS_NAME_KEYWORDS) or any(d in OPS_DIRS for d in _dirs(path))


def is_process_doc(path: str) -> bool:
    """CONTRIBUTING and `.github/` documents: their checklists are hand work for contributors and maintainers."""
    return _stem(path).startswith("contributing") or ".github" in _dirs(path)


# ------------------------------------------------------------------ shell text

SHELL_LANGS = frozenset(
    {"sh", "bash", "shell", "console", "zsh", "fish", "ksh", "powershell", "ps1", "ps", "pwsh", "posh",
     "shellsession", "shell-session", "sh-session", "terminal", "cmd", "bat", "batch", "bash-session"}
)
PLAIN_LANGS = frozenset({"", "text", "txt", "plain", "plaintext", "none", "nohighlight", "no-highlight"})
SESSION_LANGS = frozenset({"console", "shellsession", "shell-session", "sh-session", "terminal", "bash-session"})
POWERSHELL_LANGS = frozenset({"powershell", "ps1", "ps", "pwsh", "posh"})
CMD_LANGS = frozenset({"cmd", "bat", "batch"})

# First words that make a line a shell command (for blocks with no language, and for inline code in steps).
_COMMAND_WORD_LIST = """
    make gmake just task npm npx yarn pnpm bun node deno pip pip3 pipx python python3 py poetry uv uvx hatch pdm
    pipenv tox nox poe pytest git gh hub glab docker docker-compose podman buildah kubectl k9s helm helmfile kustomize
    terraform tofu terragrunt packer vagrant pulumi ansible ansible-playbook ssh scp sftp rsync curl wget psql
    pg_dump pg_dumpall pg_restore pg_basebackup mysql mysqldump mongo mongosh mongodump mongorestore redis-cli
    aws gcloud gsutil bq az eksctl doctl oc minikube kind k3d skaffold tilt argocd flux vault consul nomad heroku
    fly flyctl vercel netlify firebase cargo rustup go mvn gradle ./gradlew ./mvnw sbt bundle rake rails gem
    composer php dotnet nuget mix cmake ninja bazel cd export source sudo systemctl service journalctl crontab
    cp mv rm mkdir chmod chown ln cat tee echo sed awk grep tar unzip zip bash sh zsh pwsh powershell twine
    bumpversion bump2version bump-my-version semantic-release goreleaser release-it changeset conda mamba brew
    apt apt-get yum dnf apk choco winget nix openssl jq env kill pkill docker-machine sam cdk serverless sls
"""
COMMAND_WORDS = frozenset(_COMMAND_WORD_LIST.split())
SCRIPT_EXTENSIONS = frozenset({"", ".sh", ".bash", ".zsh", ".py", ".ps1", ".rb", ".pl", ".js", ".ts", ".cmd", ".bat"})

# `$ `, `% `, PowerShell `PS C:\src> ` and cmd `C:\src> ` prompts.
PROMPT = re.compile(r"^\s*(?:\$|%|PS(?:\s+[^>\n]*)?>|[A-Za-z]:\\[^>\n]*>)(?:\s+|$)")
ROOT_PROMPT = re.compile(r"^\s*#\s+(?=\S)")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
HEREDOC = re.compile(r"(?<!<)<<(?!<)-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
CONTINUED_BY_OPERATOR = ("&&", "||", "|")


def command_words(text: str) -> list[str]:
    """The words of a command after leading `VAR=value` assignments and `sudo`/`env`/`time` (what runs)."""
    words = text.split()
    index = 0
    while index < len(words) and (ASSIGNMENT.match(words[index]) or words[index] in ("sudo", "env", "time", "nohup")):
        index += 1
    return words[index:]


def _is_script_path(word: str) -> bool:
    if not word.startswith(("./", "../")) or len(word) < 3:
        return False
    name = posixpath.basename(word)
    extension = posixpath.splitext(name)[1].lower()
    return bool(name) and extension in SCRIPT_EXTENSIONS


def is_command_line(text: str) -> bool:
    """Whether a line of a code block with no shell language starts like a command."""
    words = command_words(text)
    return bool(words) and (words[0] in COMMAND_WORDS or _is_script_path(words[0]))


def is_inline_command(text: str) -> bool:
    """Whether an inline code span is a command: `make deploy`, `./scripts/release.sh`, `kubectl rollout undo x`.

    A lone command word (`git`, `docker`) names a tool, not a command, so a known word needs an argument.
    """
    if "\n" in text:
        return False
    stripped = PROMPT.sub("", text, count=1).strip()
    words = command_words(stripped)
    if not words:
        return False
    return _is_script_path(words[0]) or (words[0] in COMMAND_WORDS and len(words) >= 2)


def _is_comment(line: str, lang: str) -> bool:
    stripped = line.lstrip()
    if lang in CMD_LANGS:
        return stripped.upper().startswith(("REM ", "::")) or stripped.upper() == "REM"
    return stripped.startswith("#")


def _line_continuation(lang: str) -> str:
    """The character that continues a line: backtick in PowerShell, caret in cmd, backslash elsewhere."""
    if lang in POWERSHELL_LANGS:
        return "`"
    return "^" if lang in CMD_LANGS else "\\"


QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")


def _continues(text: str, lang: str) -> bool:
    """Whether the command goes on on the next line: a continuation character, a trailing `&&`/`||`/`|`,
    or a `$(` / `(` still open (outside quotes)."""
    if text.endswith(_line_continuation(lang)) or text.endswith(CONTINUED_BY_OPERATOR):
        return True
    unquoted = QUOTED.sub("", text)
    return unquoted.count("(") > unquoted.count(")")


def block_commands(lines: list[str], lang: str) -> list[tuple[str, int, int]]:
    """Commands of a shell code block as (text, first index, last index) over `lines`.

    Prompts (`$ `, `% `, `PS> `; `# ` for root when a command word follows) are stripped when the block
    uses them, and then lines without a prompt are program output and skipped. Comments and blank lines
    are dropped, `\\`-continued lines (and lines ending in `&&`, `||`, `|`, or with a `(` still open) are
    joined, and heredoc bodies stay with the command that opens them.
    """
    prompted = any(PROMPT.match(line) for line in lines)
    commands: list[tuple[str, int, int]] = []
    index = 0
    while index < len(lines):
        start = index
        text = _command_start(lines[index], lang, prompted)
        index += 1
        if text is None:
            continue
        while _continues(text, lang) and index < len(lines):
            base = text[:-1] if text.endswith(_line_continuation(lang)) else text
            text = base.rstrip() + " " + _continuation(lines[index], prompted)
            index += 1
        heredoc = HEREDOC.search(text)
        if heredoc is not None:
            body: list[str] = []
            while index < len(lines):
                line = _continuation(lines[index], prompted) if prompted else lines[index]
                index += 1
                body.append(line)
                if line.strip() == heredoc.group(2):
                    break
            text = "\n".join([text, *body])
        text = text.strip()
        if text:
            commands.append((text, start, index - 1))
    return commands


def _command_start(line: str, lang: str, prompted: bool) -> str | None:
    """The command that starts on `line`, or None for a blank, comment or output line."""
    if prompted:
        match = PROMPT.match(line)
        if match:
            return line[match.end():].strip() or None
        root = ROOT_PROMPT.match(line)
        if root and is_command_line(line[root.end():]):
            return line[root.end():].strip()
        return None  # output of the previous command
    stripped = line.strip()
    if not stripped or _is_comment(stripped, lang) or stripped in ("...", "…"):
        return None
    return stripped


def _continuation(line: str, prompted: bool) -> str:
    stripped = line.strip()
    if prompted and stripped.startswith(">"):  # the shell's PS2 prompt in a pasted session
        stripped = stripped[1:].lstrip()
    return stripped


def shell_language(node: Node) -> str | None:
    """The shell dialect of a code block, or None when it is not shell (YAML, Python, output, ...)."""
    info = node.info.strip() if node.type == "fence" else ""
    lang = info.split()[0].strip("{}.").lower() if info else ""
    lang = lang.split("{", 1)[0]  # `bash{1,3}` line highlights
    if lang in SHELL_LANGS:
        return lang
    if lang in PLAIN_LANGS:
        significant = [line for line in node.content.split("\n") if line.strip() and not line.lstrip().startswith("#")]
        if significant and (any(PROMPT.match(line) for line in significant) or is_command_line(significant[0])):
            return "text"
    return None


# ------------------------------------------------------------------ hand-work markers

MARKERS: tuple[tuple[str, str], ...] = (
    ("manually", r"manually"),
    ("by hand", r"by\s+hand"),
    ("ssh", r"ssh"),
    ("scp", r"scp"),
    ("rsync", r"rsync"),
    ("kubectl", r"kubectl"),
    ("helm upgrade", r"helm\s+upgrade"),
    ("helm install", r"helm\s+install"),
    ("helm rollback", r"helm\s+rollback"),
    ("terraform apply", r"terraform\s+apply"),
    ("terraform plan", r"terraform\s+plan"),
    ("terraform destroy", r"terraform\s+destroy"),
    ("ansible-playbook", r"ansible-playbook"),
    ("deploy", r"deploy(?:s|ed|ing|ments?)?"),
    ("release", r"releas(?:e|es|ed|ing)"),
    ("bump", r"bump(?:s|ed|ing)?"),
    ("tag", r"tag(?:s|ged|ging)?"),
    ("publish", r"publish(?:es|ed|ing)?"),
    ("rollback", r"roll(?:-|\s+)?backs?|rolled\s+back|rolling\s+back"),
    ("restart", r"restart(?:s|ed|ing)?"),
    ("migrate", r"migrat(?:e|es|ed|ing|ions?)"),
    ("psql", r"psql"),
    ("pg_dump", r"pg_dump(?:all)?"),
    ("pg_restore", r"pg_restore"),
    ("aws", r"aws"),
    ("gcloud", r"gcloud"),
    ("az", r"(?-i:az)(?=\s+[a-z])"),  # the Azure CLI, not "AZ" (availability zone)
    ("docker push", r"docker\s+push"),
    ("log in", r"log(?:\s+|-)?in(?:to)?"),
    ("go to", r"go\s+to"),
    ("click", r"click(?:s|ed|ing)?"),
    ("console", r"console"),
    ("systemctl", r"systemctl"),
    ("restore", r"restor(?:e|es|ed|ing)"),
    ("failover", r"fail(?:-|\s+)?over"),
    ("cherry-pick", r"cherry-pick(?:s|ed|ing)?"),
    ("twine upload", r"twine\s+upload"),
)
UI_ONLY_MARKERS = frozenset({"go to", "click", "log in", "console"})

# Every marker starts a word with one of a few letters. Testing that first (a word boundary, then one character
# class) rules out nearly every position of a text before the alternation of all markers is tried there, which
# made the search about 4x faster on real documents. The alternatives are then grouped by that first letter, each
# group behind a one-letter lookahead, so a word starting with "d" tries the "d" markers only, not all 37 in turn:
# 2.7x faster again on the texts of flask, terraform and terraform-aws-eks. The alternatives are unchanged and keep
# their order within a group, and two groups cannot match at the same position (their first letters differ, and a
# lookahead is matched with the same flags as the pattern after it), so the matches are the same: same group, same
# span. (`_MARKER_FIRST` is checked against the patterns in the tests, the grouped pattern against the plain one.)
def _first_letter(pattern: str) -> str:
    return pattern.removeprefix("(?-i:")[0].lower()


_MARKER_FIRST = "".join(sorted({_first_letter(pattern) for _, pattern in MARKERS}))
_MARKER_RE = re.compile(
    f"\\b(?=[{_MARKER_FIRST}])(?:"
    + "|".join(
        f"(?={letter})(?:"
        + "|".join(f"(?P<m{i}>\\b(?:{pattern})\\b)" for i, (_, pattern) in enumerate(MARKERS)
                   if _first_letter(pattern) == letter)
        + ")"
        for letter in _MARKER_FIRST
    )
    + ")",
    re.IGNORECASE,
)


def find_markers(texts: list[str]) -> list[str]:
    """Hand-work markers in `texts`, as words, case-insensitively, each once, in the order first found."""
    found: dict[str, None] = {}
    for text in texts:
        for match in _MARKER_RE.finditer(text):
            group = match.lastgroup or "m0"  # the one named group that matched: m<index into MARKERS>
            found.setdefault(MARKERS[int(group[1:])][0], None)
    return list(found)


# ------------------------------------------------------------------ document structure

STEP_HEADING = re.compile(r"^(?:step\s+\d+\b|\d+[.):]\s)", re.IGNORECASE)
TASK_ITEM = re.compile(r"^\[([ xX])\]\s+")
CODE_STEP_TEXT_LIMIT = 500
INLINE_SEARCH_WINDOW = 40


@dataclass
class _Section:
    """A heading and the top-level nodes of its own body (up to the next heading of any level)."""

    level: int
    heading_path: list[str]
    start: int  # 0-based line of the heading, or of the first body node for the preamble
    nodes: list[Node] = field(default_factory=list)
    end: int = 0  # 0-based, exclusive
    owner: _Section | None = None  # set when this is a step heading folded into `owner`
    folded: list[_Section] = field(default_factory=list)


FRONT_MATTER_KEY = {"---": re.compile(r"^[\w\"'.-][^:]*:(\s|$)"), "+++": re.compile(r"^[\w\"'.-]+\s*=")}


def strip_front_matter(text: str) -> str:
    """`text` with a leading YAML (`---`) or TOML (`+++`) front matter block blanked, line count unchanged.

    The block must be closed and its first line must read like a key, so that a document that merely
    starts with a thematic break (`---`) keeps its content.
    """
    lines = text.split("\n")
    opener = lines[0].strip()
    if opener not in FRONT_MATTER_KEY:
        return text
    closers = ("---", "...") if opener == "---" else ("+++",)
    for index in range(1, len(lines)):
        if lines[index].strip() in closers:
            inner = [line for line in lines[1:index] if line.strip() and not line.lstrip().startswith("#")]
            if inner and not FRONT_MATTER_KEY[opener].match(inner[0]):
                return text
            return "\n" * index + "\n" + "\n".join(lines[index + 1:])
    return text


def _sections(root: Node) -> list[_Section]:
    """Cut the top-level nodes into sections; a heading's path holds its ancestors' titles."""
    preamble = _Section(level=0, heading_path=[], start=0)
    sections = [preamble]
    stack: list[_Section] = []
    current = preamble
    for node in root.children:
        if node.type != "heading" or node.map is None:
            if current is preamble and not preamble.nodes and node.map is not None:
                preamble.start = node.map[0]
            current.nodes.append(node)
            continue
        level = int(node.tag[1:])
        while stack and stack[-1].level >= level:
            stack.pop()
        parent = stack[-1] if stack else None
        title = _inline_text(node.children[0]) if node.children else ""
        section = _Section(level=level, heading_path=[*(parent.heading_path if parent else []), title],
                           start=node.map[0])
        if parent is not None and STEP_HEADING.match(title):
            section.owner = parent.owner or parent
            section.owner.folded.append(section)
        stack.append(section)
        sections.append(section)
        current = section
    return sections


def _close_sections(sections: list[_Section], line_count: int) -> None:
    """Each section's own body ends where the next heading starts (or at the end of the file)."""
    for section, following in zip(sections, [*sections[1:], None], strict=True):
        section.end = following.start if following is not None else line_count


def _inline_parts(node: Node) -> Iterator[Node]:
    """The text and code spans of an inline node, in order (links, emphasis and images are looked into)."""
    for child in node.children:
        if child.type in ("text", "code_inline", "softbreak", "hardbreak"):
            yield child
        elif child.type != "html_inline":  # HTML comments and tags are not text
            yield from _inline_parts(child)


def _inline_text(node: Node, *, backticks: bool = True) -> str:
    """Plain text of an inline node; code spans keep their backticks when `backticks`."""
    parts: list[str] = []
    for part in _inline_parts(node):
        if part.type == "text":
            parts.append(part.content)
        elif part.type == "code_inline":
            parts.append(f"`{part.content}`" if backticks else part.content)
        else:
            parts.append(" ")
    return " ".join("".join(parts).split())


def _inline_texts(node: Node) -> tuple[str, str]:
    """`_inline_text(node)` and `_inline_text(node, backticks=False)` from one walk of the node's parts: they differ
    only at code spans, and without one they are the same text."""
    parts: list[str] = []
    plain: list[str] = []
    spans = False
    for part in _inline_parts(node):
        if part.type == "text":
            parts.append(part.content)
            plain.append(part.content)
        elif part.type == "code_inline":
            parts.append(f"`{part.content}`")
            plain.append(part.content)
            spans = True
        else:
            parts.append(" ")
            plain.append(" ")
    text = " ".join("".join(parts).split())
    return text, " ".join("".join(plain).split()) if spans else text


def _inlines(node: Node) -> Iterator[Node]:
    """Inline nodes under `node` that are not inside a nested list or code block."""
    for child in node.children:
        if child.type == "inline":
            yield child
        elif child.type not in ("bullet_list", "ordered_list", "fence", "code_block", "html_block"):
            yield from _inlines(child)


def _walk(node: Node) -> Iterator[Node]:
    """`node` and everything under it, in document order (a stack, not nested generators: those cost a frame
    per level for every node yielded)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _last_line(lines: list[str], start: int, end: int) -> int:
    """1-based last non-blank line of the 0-based range [start, end)."""
    end = min(end, len(lines))
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return max(end, start + 1)


# ------------------------------------------------------------------ building procedures


class _Builder:
    """Turns one section (with its folded step headings) into steps, marker texts and the candidate flags."""

    def __init__(self, ctx: DetectContext, path: str, lines: list[str]) -> None:
        self.ctx = ctx
        self.path = path
        self.lines = lines
        self.steps: list[ProcedureStep] = []
        self.texts: list[tuple[str, bool]] = []  # (text, is it part of a heading, step or command)
        self.has_shell = False  # a shell code block was seen
        self.list_steps = False  # numbered or checklist items: list items are steps
        self.prose: list[ProcedureStep] = []  # instructions written as sentences in paragraphs
        self.previous = ""  # the type of the last top-level block: "list", "code", "paragraph", ...
        self.tables: list[tuple[int, Node]] = []  # tables whose texts go before texts[index], not read yet

    def all_texts(self) -> list[tuple[str, bool]]:
        """`texts` with the text of the section's tables in their places (each cell's inline text, as for prose)."""
        if self.tables:
            merged: list[tuple[str, bool]] = []
            done = 0
            for index, table in self.tables:
                merged.extend(self.texts[done:index])
                merged.extend((_inline_text(inline, backticks=False), False) for inline in _inlines(table))
                done = index
            merged.extend(self.texts[done:])
            self.texts, self.tables = merged, []
        return self.texts

    # ---------------------------------------------------------- entry

    def build(self, section: _Section) -> None:
        self.texts.extend((title, True) for title in section.heading_path)
        self.list_steps = bool(section.folded) or _has_step_items(section.nodes) or any(
            _has_step_items(f.nodes) for f in section.folded
        )
        for node in section.nodes:
            self._block(node)
            self.previous = node.type if node.type not in ("bullet_list", "ordered_list") else "list"
        for child in section.folded:
            self._folded_step(child)
        if not self.steps and not self.list_steps:
            self.steps = self.prose

    # ---------------------------------------------------------- blocks

    def _block(self, node: Node) -> None:
        if node.type in ("bullet_list", "ordered_list"):
            for item in node.children:
                if self.list_steps:
                    self._item_step(item, ordered=node.type == "ordered_list")
                else:
                    for child in item.children:
                        self._block(child)
        elif node.type in ("fence", "code_block"):
            step = self._code_step(node)
            if step is not None and not self._joined_to_previous(step):
                self.steps.append(step)
        elif node.type == "blockquote":
            for child in node.children:
                self._block(child)
        elif node.type == "table":
            # A table's text only counts towards the markers of a section that is a procedure for other reasons;
            # it is read then (`all_texts`), which spares parsing the cells of most tables at all (`_mdtree`).
            self.tables.append((len(self.texts), node))
        elif node.type != "html_block":
            # Loose prose ("see RELEASING.md for how releases are made") decides nothing by its markers, but its
            # instructions ("Create the release and upload the signed artifacts.") are steps when nothing else is.
            for inline in _inlines(node):
                if node.type == "paragraph" and not _only_links(node):
                    text, plain = _inline_texts(inline)
                    self.texts.append((plain, False))
                    self._prose_steps(inline, text)
                else:
                    self.texts.append((_inline_text(inline, backticks=False), False))

    def _prose_steps(self, inline: Node, text: str) -> None:
        """Sentences of a paragraph (`text`, the inline's text with backticks) that tell a person to do something, as
        `sentence` steps."""
        first = inline.map[0] if inline.map is not None else 0
        commands: list[Command] | None = None  # the paragraph's code-span commands: looked for at the first
        # instruction (hashicorp/terraform: 126 of 1,227 sentences), not for every paragraph
        for sentence in sentences(text):
            if not instructs_work(sentence) or POINTER.search(sentence):
                continue
            if commands is None:
                commands = self._inline_commands(inline)
            own = [c for c in commands if f"`{c.text}`" in sentence or c.text in sentence]
            if not (own or find_markers([sentence])):
                continue
            self.texts.append((sentence, True))
            line = min((c.evidence.line_start for c in own), default=first + 1)
            self.prose.append(ProcedureStep(text=self.ctx.redact(sentence, self.path), kind="sentence", commands=own,
                                            evidence=self.ctx.evidence(self.path, line)))

    def _joined_to_previous(self, step: ProcedureStep) -> bool:
        """A code block right below a list (not indented into it, as people often write) belongs to the last
        item: "1. Tag the release" then a block with `git tag v1` is one step. Returns whether it was merged."""
        if self.previous == "list" and self.list_steps and self.steps and self.steps[-1].kind != "code":
            last = self.steps[-1]
            known = {c.text for c in last.commands}
            commands = [*last.commands, *(c for c in step.commands if c.text not in known)]
            evidence = self.ctx.evidence(self.path, last.evidence.line_start, step.evidence.line_end)
            self.steps[-1] = last.model_copy(update={"commands": commands, "evidence": evidence})
            return True
        return False

    def _code_step(self, node: Node) -> ProcedureStep | None:
        commands = self._code_commands(node)
        if commands is None or node.map is None:
            return None
        content = node.content.strip("\n")
        text = content if len(content) <= CODE_STEP_TEXT_LIMIT else content[:CODE_STEP_TEXT_LIMIT] + " …"
        first, end = node.map
        return ProcedureStep(text=self.ctx.redact(text, self.path), kind="code", commands=commands,
                             evidence=self.ctx.evidence(self.path, first + 1, _last_line(self.lines, first, end)))

    def _code_commands(self, node: Node) -> list[Command] | None:
        """Commands of a shell code block; None when the block is not shell."""
        lang = shell_language(node)
        if lang is None or node.map is None:
            return None
        self.has_shell = True
        self.texts.append((node.content, True))
        content_lines = node.content.split("\n")
        offset = node.map[0] + (2 if node.type == "fence" else 1)  # 1-based line of the first content line
        return [
            self.ctx.command(text, self.path, offset + first, offset + last)
            for text, first, last in block_commands(content_lines, lang)
        ]

    # ---------------------------------------------------------- list items

    def _item_step(self, item: Node, *, ordered: bool) -> None:
        if item.map is None:
            return
        if _only_links(item):
            return  # a table of contents or a list of links: where to read, not what to do
        parts: list[str] = []
        commands: list[Command] = []
        self._item_content(item, parts, commands)
        text = " ".join(p for p in parts if p)
        checklist = TASK_ITEM.match(text)
        if checklist:
            text = text[checklist.end():]
        if not text and commands:
            text = "; ".join(c.text for c in commands)
        if not text:
            return
        kind = "checklist" if checklist else "numbered" if ordered else "bullet"
        first, end = item.map
        self.steps.append(
            ProcedureStep(text=self.ctx.redact(text, self.path), kind=kind, commands=commands,
                          evidence=self.ctx.evidence(self.path, first + 1, _last_line(self.lines, first, end)))
        )

    def _item_content(self, node: Node, parts: list[str], commands: list[Command]) -> None:
        """Fold an item's paragraphs, nested items and code blocks into one step's text and commands."""
        for child in node.children:
            if child.type in ("bullet_list", "ordered_list"):
                for sub in child.children:
                    sub_parts: list[str] = []
                    self._item_content(sub, sub_parts, commands)
                    if any(sub_parts):
                        parts.append("- " + " ".join(p for p in sub_parts if p))
            elif child.type in ("fence", "code_block"):
                commands.extend(self._code_commands(child) or [])
            elif child.type == "inline":
                text, plain = _inline_texts(child)
                parts.append(text)
                self.texts.append((plain, True))
                commands.extend(self._inline_commands(child))
            elif child.type != "html_block":
                self._item_content(child, parts, commands)

    def _inline_commands(self, inline: Node) -> list[Command]:
        """Inline code spans that are commands, each with the line it is written on."""
        commands: list[Command] = []
        first, end = inline.map if inline.map is not None else (0, 1)
        cursor = first
        for part in _inline_parts(inline):
            if part.type != "code_inline" or not is_inline_command(part.content):
                continue
            # Spans come in order, so the next one is near the last; the window keeps odd paragraphs linear.
            window = range(cursor, min(end, len(self.lines), cursor + INLINE_SEARCH_WINDOW))
            line = next((i for i in window if part.content in self.lines[i]), None)
            if line is not None:
                cursor = line
            text = PROMPT.sub("", part.content, count=1).strip()
            commands.append(self.ctx.command(text, self.path, (line if line is not None else first) + 1))
        return commands

    # ---------------------------------------------------------- step headings

    def _folded_step(self, section: _Section) -> None:
        """A `### 2. Tag the release` heading: one numbered step holding every command of its body."""
        title = section.heading_path[-1]
        self.texts.append((title, True))
        commands: list[Command] = []
        for node in section.nodes:
            for sub in _walk(node):
                if sub.type in ("fence", "code_block"):
                    commands.extend(self._code_commands(sub) or [])
                elif sub.type == "inline":
                    self.texts.append((_inline_text(sub, backticks=False), True))
                    commands.extend(self._inline_commands(sub))
        self.steps.append(
            ProcedureStep(text=self.ctx.redact(title, self.path), kind="numbered", commands=commands,
                          evidence=self.ctx.evidence(self.path, section.start + 1,
                                                     _last_line(self.lines, section.start, section.end)))
        )


def _only_links(item: Node) -> bool:
    """Whether a list item (or paragraph) holds nothing but links and punctuation, at any depth: a table of
    contents or a list of links."""
    found_link = False
    for sub in _walk(item):
        words = sub.type == "text" and sub.content.strip(" -–—:|,.()[]*") and not _inside_link(sub, item)
        if sub.type in ("code_inline", "fence", "code_block") or words:
            return False
        found_link = found_link or sub.type == "link"
    return found_link


def _inside_link(node: Node, stop: Node) -> bool:
    parent = node.parent
    while parent is not None and parent is not stop:
        if parent.type == "link":
            return True
        parent = parent.parent
    return False


def _has_step_items(nodes: list[Node]) -> bool:
    """Whether the nodes hold a numbered list or a task-list item (at any depth). Inline content and tables, which
    hold no list (a table's cells are inline content), are not entered (so tables stay unread, see `_mdtree`)."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if node.type == "ordered_list" or (node.type == "list_item" and _is_task_item(node)):
            return True
        if node.type not in ("inline", "table"):
            stack.extend(node.children)
    return False


def _is_task_item(item: Node) -> bool:
    first = next((c for c in item.children if c.type == "paragraph"), None)
    if first is None or not first.children:
        return False
    return TASK_ITEM.match(first.children[0].content) is not None


class _Ids:
    """Unique slugs within one document: a repeated heading path gets `-2`, `-3`, ... (linear overall)."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.next_number: dict[str, int] = {}

    def unique(self, base: str) -> str:
        number = self.next_number.get(base, 1)
        slug = base if number == 1 else f"{base}-{number}"
        while slug in self.used:
            number += 1
            slug = f"{base}-{number}"
        self.next_number[base] = number + 1
        self.used.add(slug)
        return slug


SLUG_CHARACTERS = 200  # of a procedure id's heading part: a heading path can be thousands of characters long


def _capped(slug: str) -> str:
    """`slug` cut to SLUG_CHARACTERS at a word (`-`) or heading (`/`) boundary when there is one: ids stay short
    enough to be given back (`generate --from-procedure`); `_Ids` keeps two cut the same way apart."""
    if len(slug) <= SLUG_CHARACTERS:
        return slug
    cut = slug[:SLUG_CHARACTERS]
    boundary = max(cut.rfind("-"), cut.rfind("/"))
    return (cut[:boundary] if boundary > 0 else cut).rstrip("-/")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


@detector(
    "markdown-procedures",
    wants=Wants(globs=tuple(f"*{ext}" for ext in (*DOC_EXTENSIONS, *OTHER_DOC_EXTENSIONS)), refine=is_procedure_doc),
)
def detect_procedures(ctx: DetectContext, file: FileText) -> None:
    """Read one Markdown document and add a ManualProcedure for each kept section (remembered across scans: what a
    document holds depends on its path and text alone)."""
    ctx.remembered((file,), lambda: _read_document(ctx, file))


def _read_document(ctx: DetectContext, file: FileText) -> None:
    path = file.path
    lines = file.lines
    tree = _mdtree.parse(strip_front_matter(as_markdown(path, file.text)))
    try:
        _procedures_of(ctx, path, lines, tree)
    finally:
        _mdtree.release(tree)


def _procedures_of(ctx: DetectContext, path: str, lines: list[str], tree: Node) -> None:
    """The kept sections of one parsed document, each added as a ManualProcedure."""
    sections = _sections(tree)
    _close_sections(sections, len(lines))
    ops, process = is_ops_doc(path), is_process_doc(path)
    readme = _stem(path).startswith("readme")
    used_ids = _Ids()
    for section in sections:
        if section.owner is not None:
            continue  # folded into its parent as a step
        if section.level == 0 and not section.nodes:
            continue
        if section.heading_path and NOT_PROCEDURE_HEADING.match(section.heading_path[-1]):
            continue
        builder = _Builder(ctx, path, lines)
        builder.build(section)
        if not builder.steps or not _reads_as_hand_work(builder, ops, process and not readme, readme):
            continue
        texts = builder.all_texts()
        if _written_for_an_agent(section, texts):
            continue
        markers = find_markers([text for text, _ in texts])
        hand_work = find_markers([text for text, procedural in texts if procedural])
        checklist = any(step.kind == "checklist" for step in builder.steps)
        # Clicking through a user interface ("go to Settings, click Save") is how product docs read too: on its own,
        # outside an operations document, it does not make a section hand work of the team's.
        operational = [m for m in hand_work if m not in UI_ONLY_MARKERS]
        if not (operational or ops or (checklist and process and not readme)):
            continue
        ctx.add_procedure(_procedure(ctx, path, lines, section, builder.steps, markers, used_ids))


# Sections that hold no procedure whatever their lists say: decision records' parts, tables of contents and
# link lists, sign-off and approval templates, and background.
NOT_PROCEDURE_HEADING = re.compile(
    r"^(?:consequences?|context|decision(?: outcome)?|status|alternatives?(?: considered)?|pros(?: and cons)?|cons|"
    r"motivation|goals?|non-goals?|background|rationale|(?:table of )?contents|toc|see also|references?|links?|"
    r"further reading|related(?: \w+)?|resources|sign-?offs?|approvals?|approvers|reviewers|acknowledge?ments|"
    r"credits|faq|glossary|changelog|license|licence|best practices|tips|recommendations|considerations|"
    r"limitations|known issues|how (?:it|this) works)\b",
    re.IGNORECASE,
)


# A section written for AI agents (often a prompt injection): its "steps" are addressed to a model.
AGENT_HEADING = re.compile(
    r"\b(?:ai|llms?|assistants?|copilot|claude|chatgpt|gpt|language models?)\b|"
    r"\bautomated (?:agents?|tools?|assistants?|readers?)\b|\bfor (?:coding )?agents\b",
    re.IGNORECASE,
)
AGENT_TEXT = re.compile(
    r"ignore (?:all |any )?(?:the )?(?:previous|prior|above|earlier) instructions|\bsystem (?:prompt|notice)\b|"
    r"\byou are an? (?:ai|assistant|language model|llm)\b|\b(?:ai|llm) (?:agents?|assistants?)\b",
    re.IGNORECASE,
)
# "(see docs/runbooks/)", "see RELEASING.md": the sentence points at the procedure, it is not one.
POINTER = re.compile(r"\((?:see|cf\.|refer to)\b[^)]*\)|\bsee\s+(?:\S*/|\S+\.(?:md|rst|adoc|txt)\b)", re.IGNORECASE)


def _written_for_an_agent(section: _Section, texts: list[tuple[str, bool]]) -> bool:
    title = section.heading_path[-1] if section.heading_path else ""
    # One search over the texts joined by newlines, not one per text: no AGENT_TEXT alternative can match a newline
    # (words are joined by spaces), so none matches across two texts, and a newline is a word boundary as a text's
    # start and end are.
    return bool(AGENT_HEADING.search(title)) or AGENT_TEXT.search("\n".join(text for text, _ in texts)) is not None


def _reads_as_hand_work(builder: _Builder, ops: bool, process: bool, readme: bool = False) -> bool:
    """Whether the steps tell a person what to do, rather than describe what a system does.

    Shell blocks are commands whatever the prose says. Without them, a list whose items mostly describe
    ("Stages the app package", "The job retries") is a behaviour description, and a checklist with no
    instruction and no command ("Security review", "Tests added") is a sign-off template, except in a document
    about operations, where such a checklist is the release checklist itself.
    """
    if builder.has_shell:
        return True
    with_commands = any(step.commands for step in builder.steps)
    if not builder.list_steps:
        # Running text: one loose sentence ("If it fails, roll back by hand.") is advice; two instructions, or
        # one with a command or two actions ("Create the release and upload the artifacts."), are a procedure.
        # A README's running text summarises ("Build with `make`, deploy with `make deploy`"): it needs two.
        if readme:
            return len(builder.prose) >= 2
        return len(builder.prose) >= 2 or with_commands or any(actions(step.text) >= 2 for step in builder.prose)
    moods = [mood(step.text) for step in builder.steps]
    imperative = moods.count("imperative")
    if all(step.kind == "checklist" for step in builder.steps):
        # Checklist items name states to reach ("Tests pass", "Docs updated"); without an instruction or a
        # command they are a sign-off template, except where the document is about operations or process.
        return imperative > 0 or with_commands or ops or process
    if moods.count("descriptive") > imperative:
        return False
    return imperative > 0 or with_commands or ops


def _procedure(
    ctx: DetectContext,
    path: str,
    lines: list[str],
    section: _Section,
    steps: list[ProcedureStep],
    markers: list[str],
    used_ids: _Ids,
) -> ManualProcedure:
    heading_path = [ctx.redact(title, path) for title in section.heading_path]
    slug = used_ids.unique(_capped("/".join(_slug(title) for title in heading_path)) or "top")
    end = max([section.end, *(f.end for f in section.folded)])
    return DetectContext.procedure(
        path, slug,
        title=heading_path[-1] if heading_path else basename(path),
        heading_path=heading_path,
        steps=steps,
        markers=markers,
        evidence=ctx.evidence(path, section.start + 1, _last_line(lines, section.start, end)),
    )
