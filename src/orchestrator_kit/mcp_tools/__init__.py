"""The MCP server's capabilities as plain functions (state + typed arguments -> pydantic model), and their plumbing.

* `state`: what one server holds (roots, scan cache, read-only flag); `roots`: confinement of every path argument;
* `cache`: one inventory per repository folder, invalidated by a fingerprint of HEAD and the working tree;
* `budget`: token counting, cursors and pages, so no result is larger than `max_tokens`;
* `inventory`, `files`: the discovery tools' logic; `prompts`: the agents' prompts and templates;
* `metrics`, `automation`, `design`: adapters of the capabilities (imported by the tool bodies, not at start-up);
* `registry`: the decorator that turns a function into an MCP tool; `schemas` keeps the tools' JSON Schemas in the
  user's cache (checked by content on each tool's first call), so that a server does not build them at start-up;
  `progress`: progress, heartbeats, cancellation.

`orchestrator_kit.server` exposes them 1:1; tests call them directly or through the protocol.
"""
