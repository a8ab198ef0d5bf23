"""The demo's two-factor keys (scripts/start, seed_demo, the browser tests). Pure Python: no Django needed.

Each demo user's TOTP key is derived from their user name, so the demo can print it and the end-to-end
tests can compute the current code. Never used for real accounts: those enrol with a random key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

STEP = 30


def demo_totp_key(username: str) -> str:
    """The 20-byte key of a demo user's authenticator, as hex (django-otp's TOTPDevice.key)."""
    return hmac.new(b"iapt-portal-demo-totp", username.encode(), hashlib.sha1).hexdigest()


def demo_totp_base32(username: str) -> str:
    """The same key as an authenticator app takes it when typed in."""
    return base64.b32encode(bytes.fromhex(demo_totp_key(username))).decode().rstrip("=")


def totp_code(key_hex: str, *, at: float | None = None, digits: int = 6) -> str:
    """RFC 6238 code (HMAC-SHA1, 30-second steps) for the key at a time (now by default)."""
    counter = int((time.time() if at is None else at) // STEP)
    digest = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"
