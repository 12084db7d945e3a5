"""Asymmetric JWT keys: the current signing key, the next keys published before they sign, the
retired keys that still verify, their `kid`s and their public JWKs (the JWKS document).

Every key's `kid` is its RFC 7638 JWK thumbprint (SHA-256 of the key's required public members,
sorted, in compact JSON), so a key has the same `kid` wherever it is loaded and nothing needs
configuring beyond the PEM files. Keys come from configuration only, never from a token.

Each key must match the configured algorithm: RSA of at least 2048 bits for RS256, P-256 for
ES256, Ed25519 for EdDSA and for Ed25519 (RFC 9864's fully-specified name of the same
signature). Anything else refuses to start, with one line naming the setting
(ConfigurationError).

Next keys (AUTHGATE_JWT_NEXT_PUBLIC_KEY_FILES) are the first step of a rotation: listed in the
JWKS so that consumers' caches hold them before any token is signed with them. They verify
too: while a fleet switches one instance at a time, an instance still on the old key must
accept the tokens a switched one signs.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from jwt.exceptions import InvalidKeyError

from authgate.core.jwt_algorithms import ASYMMETRIC_ALGORITHMS, ED25519_NAMES
from authgate.settings import ConfigurationError

MIN_RSA_BITS = 2048

PRIVATE_SETTING = "AUTHGATE_JWT_PRIVATE_KEY_FILE"
NEXT_SETTING = "AUTHGATE_JWT_NEXT_PUBLIC_KEY_FILES"
RETIRED_SETTING = "AUTHGATE_JWT_RETIRED_PUBLIC_KEY_FILES"

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

# The members RFC 7638 hashes, per key type.
_THUMBPRINT_MEMBERS: Mapping[str, tuple[str, ...]] = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
}


class _Ed25519Algorithm(OKPAlgorithm):
    """RFC 9864's `Ed25519`: PyJWT's EdDSA held to Ed25519 keys. PyJWT 2.15 does not know the
    name (jpadilla/pyjwt#1190), so it is registered with PyJWT below."""

    def prepare_key(self, key: Any) -> Any:
        prepared = super().prepare_key(key)
        if not isinstance(prepared, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
            raise InvalidKeyError("the Ed25519 algorithm takes Ed25519 keys only")
        return prepared


def _register_ed25519() -> None:
    """Teach PyJWT's module-level encode/decode (which core/jwt.py uses) the `Ed25519` name,
    once, unless a PyJWT that knows it already is installed."""
    try:
        jwt.get_algorithm_by_name("Ed25519")
    except NotImplementedError:
        jwt.register_algorithm("Ed25519", _Ed25519Algorithm())


_register_ed25519()


@dataclass(frozen=True, slots=True)
class VerifyingKey:
    """A public key with its `kid` and its public JWK (as served in the JWKS)."""

    kid: str
    key: PublicKey
    jwk: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The keys of one asymmetric algorithm: one signing key, and every key that verifies
    by `kid`: the current one first, then the next ones, then the retired ones."""

    algorithm: str
    signing_key: PrivateKey
    current: VerifyingKey
    retired: tuple[VerifyingKey, ...] = ()
    next: tuple[VerifyingKey, ...] = ()
    _by_kid: dict[str, VerifyingKey] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_kid = {key.kid: key for key in (self.current, *self.next, *self.retired)}
        object.__setattr__(self, "_by_kid", by_kid)

    def verifying_key(self, kid: str | None) -> PublicKey | None:
        """The key that checks a token with header `kid`: the current key when there is none,
        None (refuse) for a `kid` that is not ours."""
        if kid is None:
            return self.current.key
        found = self._by_kid.get(kid)
        return found.key if found is not None else None

    def public_jwks(self) -> list[dict[str, str]]:
        """The public JWKs of the current, next and retired keys, in that order."""
        return [dict(key.jwk) for key in self._by_kid.values()]


def load_key_ring(
    algorithm: str,
    private_key_file: Path,
    retired_public_key_files: tuple[Path, ...] = (),
    next_public_key_files: tuple[Path, ...] = (),
) -> KeyRing:
    """Read the signing key, the next keys and the retired keys; ConfigurationError (one line
    naming the setting) for a file that cannot be read or a key that does not fit."""
    if algorithm not in ASYMMETRIC_ALGORITHMS:
        raise ConfigurationError(f"JWT algorithm {algorithm!r} takes no key files")
    private = _load_private(private_key_file)
    current = verifying_key(
        algorithm, private.public_key(), f"{PRIVATE_SETTING}: {private_key_file}"
    )
    retired = tuple(
        verifying_key(algorithm, _load_public(RETIRED_SETTING, path), f"{RETIRED_SETTING}: {path}")
        for path in retired_public_key_files
    )
    nexts = tuple(
        verifying_key(algorithm, _load_public(NEXT_SETTING, path), f"{NEXT_SETTING}: {path}")
        for path in next_public_key_files
    )
    _refuse_ambiguous_next_keys(current, retired, zip(next_public_key_files, nexts, strict=True))
    return KeyRing(algorithm, private, current, retired, nexts)


def _refuse_ambiguous_next_keys(
    current: VerifyingKey,
    retired: tuple[VerifyingKey, ...],
    nexts: Iterable[tuple[Path, VerifyingKey]],
) -> None:
    """A next key is one not signing yet and not on its way out. The current key listed as next
    is refused rather than ignored: at the publish step it means the wrong file was given, and
    the rotation would then go on with nothing published (the very hole this step closes)."""
    retired_kids = {key.kid for key in retired}
    seen: set[str] = set()
    for path, key in nexts:
        if key.kid == current.kid:
            raise ConfigurationError(
                f"{NEXT_SETTING}: {path} is the current signing key; list keys that do not sign"
                f" yet (once a next key signs, take it out of {NEXT_SETTING})"
            )
        if key.kid in retired_kids:
            raise ConfigurationError(
                f"{NEXT_SETTING}: {path} is also a retired key ({RETIRED_SETTING});"
                " a key is either next or retired"
            )
        if key.kid in seen:
            raise ConfigurationError(f"{NEXT_SETTING}: {path} lists a key twice")
        seen.add(key.kid)


def verifying_key(algorithm: str, key: object, source: str = "key") -> VerifyingKey:
    """`key` checked against `algorithm`, with its `kid` and public JWK."""
    jwk: dict[str, Any]
    if algorithm == "RS256" and isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise ConfigurationError(f"{source}: RSA keys need at least {MIN_RSA_BITS} bits")
        jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
    elif (
        algorithm == "ES256"
        and isinstance(key, ec.EllipticCurvePublicKey)
        and isinstance(key.curve, ec.SECP256R1)
    ):
        jwk = ECAlgorithm.to_jwk(key, as_dict=True)
    elif algorithm in ED25519_NAMES and isinstance(key, ed25519.Ed25519PublicKey):
        jwk = OKPAlgorithm.to_jwk(key, as_dict=True)
    else:
        raise ConfigurationError(f"{source}: not a key for JWT algorithm {algorithm}")
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


def _read(setting: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigurationError(
            f"{setting}: cannot read {path} ({error.strerror or error})"
        ) from None


def _load_private(path: Path) -> PrivateKey:
    """The signing key from a PEM file (unencrypted PKCS#8 or traditional)."""
    try:
        private = serialization.load_pem_private_key(_read(PRIVATE_SETTING, path), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigurationError(
            f"{PRIVATE_SETTING}: {path} is not an unencrypted PEM private key"
        ) from None
    if not isinstance(private, PrivateKey):
        raise ConfigurationError(f"{PRIVATE_SETTING}: {path} is not a key for JWTs")
    return private


def _load_public(setting: str, path: Path) -> object:
    """A public key from a PEM file (a private key's PEM gives its public half)."""
    data = _read(setting, path)
    try:
        if b"PRIVATE KEY" in data:
            return serialization.load_pem_private_key(data, password=None).public_key()
        return serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigurationError(f"{setting}: {path} is not a PEM public key") from None
