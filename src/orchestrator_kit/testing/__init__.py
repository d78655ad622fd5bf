"""Test helpers that ship with the package so other projects' tests (and ours) can use them.

`fake_messages_api` is a scripted stand-in for the Anthropic Messages API on 127.0.0.1: point the anthropic SDK
(`base_url=`) or Claude Code (`ANTHROPIC_BASE_URL`) at it. Standard library only: importing it pulls in no SDK.
"""
