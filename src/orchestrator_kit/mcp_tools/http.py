"""Serving MCP over streamable HTTP safely: loopback by default, a bearer token for anything else, Host and Origin
checked on every bind.

* **Bind.** A loopback address (`127.0.0.0/8`, `::1`, `localhost`) is served as asked. Any other address (a LAN
  address, `0.0.0.0`, `::`, a host name) is refused unless `--allow-remote` is given, and then only with a bearer
  token: the `ORCHESTRATOR_KIT_MCP_TOKEN` environment variable, or else a random one (`secrets.token_urlsafe(32)`)
  generated at start and printed once to stderr.
* **Token.** When a token is set (always for a remote bind; on loopback when the variable is set), every request
  must carry `Authorization: Bearer <token>`; the comparison is constant-time (`hmac.compare_digest`). Anything
  else gets 401 with a `WWW-Authenticate: Bearer` header, before the MCP layer sees the request.
* **Host and Origin** (DNS-rebinding protection) are checked for every bind, not only for loopback: allowed Host
  values are the loopback names and the bound address (any port), plus each `--allowed-host`; allowed Origins are the
  same names over http and https. A wildcard bind (`0.0.0.0`, `::`) allows only the loopback names and the
  `--allowed-host` names, since the wildcard is never what a client writes in Host.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import sys
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError

TOKEN_ENV = "ORCHESTRATOR_KIT_MCP_TOKEN"  # noqa: S105 - the variable's name, not a token
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARDS = ("0.0.0.0", "::", "")  # noqa: S104 - recognised, never bound by default

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


@dataclass
class HttpOptions:
    """How to serve HTTP: the address and port, whether a non-loopback bind is allowed, extra Host names."""

    host: str = "127.0.0.1"
    port: int = 8000
    allow_remote: bool = False
    allowed_hosts: Sequence[str] = field(default_factory=tuple)


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address or the name localhost."""
    name = host.strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def bind_token(options: HttpOptions, environ: MutableMapping[str, str] | None = None) -> tuple[str | None, bool]:
    """(token, generated) for this bind, or InputError when a non-loopback bind was not explicitly allowed."""
    env = os.environ if environ is None else environ
    token = env.get(TOKEN_ENV, "").strip() or None
    if is_loopback(options.host):
        return token, False
    if not options.allow_remote:
        raise InputError(
            f"Refusing to serve on '{options.host}', which is not a loopback address: anyone who can reach it could "
            "read the repository through the tools. Use the default 127.0.0.1, or add --allow-remote (a bearer "
            f"token is then required: set {TOKEN_ENV}, or one is generated and printed)."
        )
    if token is not None and len(token) < 16:
        raise InputError(f"{TOKEN_ENV} is {len(token)} characters long; use at least 16 random characters.")
    if token is None:
        return secrets.token_urlsafe(32), True
    return token, False


def host_patterns(options: HttpOptions) -> tuple[list[str], list[str]]:
    """(allowed Host values, allowed Origin values) in the SDK's `name:*` form (see the module docstring)."""
    names = list(LOOPBACK_NAMES)
    bound = options.host if ":" not in options.host or options.host.startswith("[") else f"[{options.host}]"
    if options.host not in WILDCARDS and bound not in names:
        names.append(bound)
    names.extend(h for h in options.allowed_hosts if h and h not in names)
    hosts = [f"{n}:*" for n in names] + names  # with a port, and without (a client on port 80 omits it)
    origins = [f"{scheme}://{n}{port}" for n in names for scheme in ("http", "https") for port in (":*", "")]
    return hosts, origins


def require_bearer(app: ASGIApp, token: str) -> ASGIApp:
    """`app` behind a check of `Authorization: Bearer <token>` on every HTTP request."""
    expected = f"Bearer {token}".encode()

    async def guarded(scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]
                      ) -> None:
        if scope.get("type") == "http":
            given = next((v for k, v in scope.get("headers", []) if k.lower() == b"authorization"), b"")
            if not hmac.compare_digest(given, expected):
                body = b'{"error":"unauthorized","error_description":"send Authorization: Bearer <token>"}'
                await send({"type": "http.response.start", "status": 401, "headers": [
                    (b"content-type", b"application/json"), (b"www-authenticate", b'Bearer realm="orchestrator-kit"'),
                    (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return guarded


def run_http(server: Any, options: HttpOptions) -> None:
    """Serve `server` (an MCPServer) on `options` until stopped; InputError for a refused bind."""
    import anyio
    from mcp.server.transport_security import TransportSecuritySettings

    token, generated = bind_token(options)
    hosts, origins = host_patterns(options)
    security = TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts,
                                         allowed_origins=origins)
    app: Any = server.streamable_http_app(transport_security=security, host=options.host)
    if token is not None:
        app = require_bearer(app, token)
    if generated:
        print(f"orchestrator-kit: bearer token for this server (send 'Authorization: Bearer <token>'): {token}",
              file=sys.stderr, flush=True)
    anyio.run(uvicorn_server(app, options).serve)


def uvicorn_server(app: Any, options: HttpOptions) -> Any:
    """A uvicorn Server of `app` on `options`, whose log shows control characters instead of sending them. uvicorn's
    Config sets up handlers of its own, apart from the root logger's that `terminal.printable_logs` already made safe:
    errors on stderr, with the traceback of an exception the app raised, whose message may quote what a client sent
    (a path, a header) or a repository's text; request lines on stdout, with the client's percent-decoded path
    (`GET /%1b]0;...`), shown at log level info."""
    import uvicorn

    from ..terminal import printable_logs

    config = uvicorn.Config(app, host=options.host, port=options.port, log_level="warning", lifespan="on")
    printable_logs()  # the handlers exist once the Config is made
    return uvicorn.Server(config)
