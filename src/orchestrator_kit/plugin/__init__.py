"""The Claude Code face of the package: the subagent files, the plugin manifests, and the plugin server's bootstrap.

`agents` renders the two subagent files from the canonical prompts; `files` generates the repository's plugin files
(`python -m orchestrator_kit.plugin` rewrites them, `--check` compares); `bootstrap` starts the MCP server for a plugin
install on a machine that has only Python.
"""
