"""Small helpers shared by the container, infrastructure and schedule detectors (not a detector module:
the leading underscore keeps the package loader from importing it as one)."""

from __future__ import annotations

import re

# Setting names whose values are credentials (backend blocks and the like): the name ends with one of these
# words, so `access_key` and `sas_token` match but `skip_credentials_validation` and `kms_key_id` do not.
SECRET_KEY = re.compile(
    r"(^|[_-])(password|passwd|pwd|secret|token|access_key|secret_key|api_key|private_key|credentials|"
    r"client_secret|client_certificate)$",
    re.IGNORECASE,
)

# Extensions that mark a file as source code or prose, never as a Dockerfile, crontab, ...: a folder named
# `cron/` or a file named `dockerfile.go` holds code about the format, not the format.
CODE_OR_DOC_EXTENSIONS = frozenset(
    {
        "py", "pyc", "js", "mjs", "cjs", "ts", "tsx", "jsx", "go", "rs", "rb", "php", "java", "kt", "scala",
        "cs", "c", "h", "cc", "cpp", "hpp", "swift", "sh", "bash", "zsh", "ps1", "md", "rst", "txt", "adoc",
        "html", "json", "yaml", "yml", "toml", "ini", "xml", "lock", "log", "dockerignore", "orig", "rej", "swp",
        "pl", "lua", "ex", "exs", "erl", "clj", "groovy", "gradle", "sql", "csv", "svg", "png", "jpg", "gif",
        "pdf",
    }
)




def extension_of(name: str) -> str:
    """The lower-case text after the last dot of a base name ("" when there is none)."""
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def unique(values: list[str]) -> list[str]:
    """`values` without repeats, in first-seen order."""
    return list(dict.fromkeys(values))
