"""The studio's security: a random token on every request, same-origin checks, and names instead of paths.

The model is Jupyter's: the server listens on 127.0.0.1 and prints a URL holding a random token.
The first load gives the token as a query parameter; the server answers with a cookie (SameSite
Strict, HttpOnly) that later requests carry; scripts may send it as the X-Liquidsky-Token header.
Another user of the machine cannot guess the token. A web page in the same browser cannot read
the cookie, and its cross-site requests do not carry it (SameSite), so it cannot drive the studio;
WebSockets and state-changing requests must in addition come from the studio's own origin, and
the Host header must name the address the server listens on (no DNS rebinding). No CORS headers
are ever sent.
"""

from __future__ import annotations

import hmac
import re
import secrets
from urllib.parse import urlsplit

TOKEN_BYTES = 24  # 192 bits, as secrets recommends for tokens that guard a service
TOKEN_QUERY = "token"
TOKEN_COOKIE = "liquidsky_token"
TOKEN_HEADER = "x-liquidsky-token"
SAFE_METHODS = ("GET", "HEAD")

# What a browser may name: a voice or a song, never a path. The same rule as user voices
# (synth.library.user): letters, digits, '-', '_', '.', '+', starting with a letter or digit.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")


class NameError_(ValueError):
    """A name from the browser that is not a plain name (a path, '..', a separator)."""


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_matches(given: str | None, token: str) -> bool:
    """Compared in constant time, so the comparison's duration tells nothing of the token."""
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def request_token(query: dict, headers, cookies: dict) -> str | None:
    """The token a request carries: header, then cookie, then query parameter."""
    return headers.get(TOKEN_HEADER) or cookies.get(TOKEN_COOKIE) or query.get(TOKEN_QUERY)


def allowed_hosts(host: str, port: int) -> set[str]:
    """The Host headers the server answers: the address it listens on, and localhost for loopback."""
    names = {host}
    if host in ("127.0.0.1", "localhost", "::1"):
        names |= {"127.0.0.1", "localhost", "[::1]"}
    return {f"{name}:{port}" for name in names}


def origin_allowed(origin: str | None, hosts: set[str], require: bool) -> bool:
    """An Origin header naming one of the studio's own addresses (absent: allowed unless `require`)."""
    if origin is None:
        return not require
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc in hosts


def check_name(name: object, what: str = "name") -> str:
    """A name from the browser, if it is a plain name; else NameError_ saying why."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise NameError_(
            f"{what} {name!r} is not a plain name: use letters, digits, '-', '_', '.' or '+' (at most 64, "
            "starting with a letter or digit; no paths)"
        )
    return name
