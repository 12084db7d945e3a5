"""The JWT algorithms by name: which are asymmetric, and which `alg` a configured one accepts.

Apart from core/jwt_keys.py, which loads keys with PyJWT and cryptography: core/jwt.py needs
only these names until a JWT is signed or checked, and cryptography alone is some 8 MiB of a
serving worker's memory (bench/memory.py), which a service that never meets a JWT need not carry.
"""

from __future__ import annotations

ED25519_NAMES = ("EdDSA", "Ed25519")
"""RFC 8037's polymorphic name and RFC 9864's fully-specified one, for the one signature
authgate makes with an Ed25519 key."""
ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "ES256", *ED25519_NAMES})


def accepted_algorithms(algorithm: str) -> tuple[str, ...]:
    """The `alg` values a token may carry under the configured `algorithm`: that one, and for
    Ed25519 keys both names of the one signature (EdDSA with an Ed25519 key is Ed25519,
    RFC 9864 section 2), so that renaming the setting ends no session. The key family stays
    fixed by configuration."""
    if algorithm in ED25519_NAMES:
        return (algorithm, *(name for name in ED25519_NAMES if name != algorithm))
    return (algorithm,)
