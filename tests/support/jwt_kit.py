"""Ed25519 keys and the JWTs sqld accepts for them, minted by the tests (no token is committed)."""

from __future__ import annotations

import base64
import json
import time

import pytest


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class JWTKeys:
    """An Ed25519 key pair and the tokens sqld accepts for it (EdDSA JWTs, claim `a`)."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        self._key = Ed25519PrivateKey.generate()
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key = _b64url(raw)
        """What `SQLD_AUTH_JWT_KEY` takes."""

    def token(self, access: str = "rw", *, expires_in: float | None = 3600) -> str:
        """A signed token: `access` is `rw` or `ro`.

        sqld allows 60 s of clock leeway, so an expired token needs `expires_in` well below
        -60 (`expired()` uses an hour ago).
        """
        claims: dict[str, object] = {"a": access, "iat": int(time.time())}
        if expires_in is not None:
            claims["exp"] = int(time.time() + expires_in)
        header = _b64url(json.dumps({"alg": "EdDSA", "typ": "JWT"}).encode())
        payload = _b64url(json.dumps(claims).encode())
        signature = self._key.sign(f"{header}.{payload}".encode())
        return f"{header}.{payload}.{_b64url(signature)}"

    def expired(self) -> str:
        """A read-write token that expired an hour ago."""
        return self.token(expires_in=-3600)

    def garbage(self) -> str:
        """A token-shaped string no key signed (built here, so no token-like text is committed)."""
        header = _b64url(json.dumps({"alg": "EdDSA"}).encode())
        payload = _b64url(json.dumps({"a": "rw"}).encode())
        return f"{header}.{payload}.{_b64url(b'not-a-signature')}"


@pytest.fixture(scope="session")
def jwt_keys() -> JWTKeys:
    """The Ed25519 key pair the session's sqld trusts."""
    return JWTKeys()
