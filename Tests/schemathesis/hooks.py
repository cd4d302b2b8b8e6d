"""Schemathesis hooks for Roadside's central API (docs/openapi.json).

Every request but /v1/health must be signed by an enrolled terminal's Ed25519 key
(docs/security.md, "Requests"). The hook signs each request exactly as it leaves: a
`requests` auth object runs after the body and the URL are prepared, so the signed target
(path and query) and body hash are the bytes sent.

ROADSIDE_TERMINAL names the terminal, ROADSIDE_TERMINAL_DB its terminal.sqlite (the
private key is read from there).
"""

import datetime
import hashlib
import os
import secrets
import sqlite3
from base64 import b64encode

import requests
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from schemathesis.core.parameters import ParameterLocation

TERMINAL = os.environ["ROADSIDE_TERMINAL"]
with sqlite3.connect(os.environ["ROADSIDE_TERMINAL_DB"]) as db:
    (RAW_KEY,) = db.execute("SELECT private_key FROM identity").fetchone()
KEY = Ed25519PrivateKey.from_private_bytes(bytes(RAW_KEY))
CHINA = datetime.timezone(datetime.timedelta(hours=8))


class RoadsideSignature(requests.auth.AuthBase):
    """roadside-v1 \\n METHOD \\n TARGET \\n hex(SHA-256(body)) \\n TIME \\n NONCE \\n TERMINAL"""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        timestamp = datetime.datetime.now(CHINA).isoformat(timespec="seconds")
        nonce = secrets.token_hex(16)
        text = "\n".join(
            [
                "roadside-v1",
                request.method,
                request.path_url,
                hashlib.sha256(body).hexdigest(),
                timestamp,
                nonce,
                TERMINAL,
            ]
        )
        request.headers["Roadside-Terminal"] = TERMINAL
        request.headers["Roadside-Timestamp"] = timestamp
        request.headers["Roadside-Nonce"] = nonce
        request.headers["Roadside-Signature"] = b64encode(KEY.sign(text.encode())).decode()
        return request


@schemathesis.hook
def before_call(context, case, kwargs):
    meta = getattr(case, "meta", None) or getattr(case, "_meta", None)
    if meta is not None and meta.is_negative_at(ParameterLocation.HEADER):
        # A case about the signature headers themselves (missing, malformed): sent as
        # generated, unsigned, so that the server's 401 is what is checked.
        return
    kwargs["auth"] = RoadsideSignature()
