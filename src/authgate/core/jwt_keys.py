"""Asymmetric JWT keys: the current signing key, the retired keys that still verify, their
`kid`s and their public JWKs (the JWKS document).

Every key's `kid` is its RFC 7638 JWK thumbprint (SHA-256 of the key's required public members,
sorted, in compact JSON), so a key has the same `kid` wherever it is loaded and nothing needs
configuring beyond the PEM files. Keys come from configuration only, never from a token.

Each key must match the configured algorithm: RSA of at least 2048 bits for RS256, P-256 for
ES256, Ed25519 for EdDSA. Anything else refuses to start (ValueError).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "ES256", "EdDSA"})
MIN_RSA_BITS = 2048

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

# The members RFC 7638 hashes, per key type.
_THUMBPRINT_MEMBERS: Mapping[str, tuple[str, ...]] = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
}


@dataclass(frozen=True, slots=True)
class VerifyingKey:
    """A public key with its `kid` and its public JWK (as served in the JWKS)."""

    kid: str
    key: PublicKey
    jwk: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The keys of one asymmetric algorithm: one signing key, and every key that verifies
    (the current one first, then the retired ones) by `kid`."""

    algorithm: str
    signing_key: PrivateKey
    current: VerifyingKey
    retired: tuple[VerifyingKey, ...] = ()
    _by_kid: dict[str, VerifyingKey] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_kid = {key.kid: key for key in (self.current, *self.retired)}
        object.__setattr__(self, "_by_kid", by_kid)

    def verifying_key(self, kid: str | None) -> PublicKey | None:
        """The key that checks a token with header `kid`: the current key when there is none,
        None (refuse) for a `kid` that is not ours."""
        if kid is None:
            return self.current.key
        found = self._by_kid.get(kid)
        return found.key if found is not None else None

    def public_jwks(self) -> list[dict[str, str]]:
        """The public JWKs of the current and retired keys, current first."""
        return [dict(key.jwk) for key in self._by_kid.values()]


def load_key_ring(
    algorithm: str, private_key_file: Path, retired_public_key_files: tuple[Path, ...] = ()
) -> KeyRing:
    """Read the signing key and the retired keys; ValueError for a key that does not fit."""
    if algorithm not in ASYMMETRIC_ALGORITHMS:
        raise ValueError(f"JWT algorithm {algorithm!r} takes no key files")
    private = serialization.load_pem_private_key(private_key_file.read_bytes(), password=None)
    if not isinstance(private, PrivateKey):
        raise ValueError(f"{private_key_file}: not a key for JWT algorithm {algorithm}")
    current = verifying_key(algorithm, private.public_key(), str(private_key_file))
    retired = tuple(
        verifying_key(algorithm, _load_public(path), str(path)) for path in retired_public_key_files
    )
    return KeyRing(algorithm, private, current, retired)


def verifying_key(algorithm: str, key: object, source: str = "key") -> VerifyingKey:
    """`key` checked against `algorithm`, with its `kid` and public JWK."""
    jwk: dict[str, Any]
    if algorithm == "RS256" and isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise ValueError(f"{source}: RSA keys need at least {MIN_RSA_BITS} bits")
        jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
    elif (
        algorithm == "ES256"
        and isinstance(key, ec.EllipticCurvePublicKey)
        and isinstance(key.curve, ec.SECP256R1)
    ):
        jwk = ECAlgorithm.to_jwk(key, as_dict=True)
    elif algorithm == "EdDSA" and isinstance(key, ed25519.Ed25519PublicKey):
        jwk = OKPAlgorithm.to_jwk(key, as_dict=True)
    else:
        raise ValueError(f"{source}: not a key for JWT algorithm {algorithm}")
    members = {name: str(jwk[name]) for name in _THUMBPRINT_MEMBERS[str(jwk["kty"])]}
    kid = thumbprint(members)
    public = {"kty": members["kty"], "kid": kid, "use": "sig", "alg": algorithm}
    public |= {name: value for name, value in members.items() if name != "kty"}
    return VerifyingKey(kid, key, public)


def thumbprint(members: Mapping[str, str]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a JWK's required members, base64url unpadded."""
    canonical = json.dumps(dict(members), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _load_public(path: Path) -> object:
    """A public key from a PEM file (a private key's PEM gives its public half)."""
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        return serialization.load_pem_private_key(data, password=None).public_key()
    return serialization.load_pem_public_key(data)
