"""Keyed pseudonyms for contact data (HMAC-SHA-256), computed in Python.

Tipsters were promised anonymity, so a contact value is never stored. With
``--pseudonymize`` the loader stores ``HMAC(key, "<column>:<value>")`` instead, which lets
an analyst see that two tips came from the same sender without learning who it was. The
key stays outside the database: `CASELIB_PSEUDONYM_KEY` holds it, or the key file named by
`CASELIB_PSEUDONYM_KEY_FILE` (default ``~/.config/caselib/pseudonym.key``), which is created
owner-only with a random key on first use.

The key never goes into DuckDB, not even as a query parameter: DuckDB may write what a
query holds to its spill files, and the padded key found there gives the key back. A load
registers :data:`PSEUDONYM_FUNCTION`, a Python function holding the key, which
the load's SQL calls on the contact text.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

from caselib.config import pseudonym_key_path
from caselib.errors import CaselibError

__all__ = ["PSEUDONYM_FUNCTION", "PseudonymKey", "load_key"]

# The SQL name of the function a load registers (:meth:`PseudonymKey.function`).
PSEUDONYM_FUNCTION = "_caselib_pseudonym"

_BLOCK = 64


@dataclass(frozen=True)
class PseudonymKey:
    """An HMAC-SHA-256 key; :meth:`function` is what a load registers to pseudonymise."""

    key: bytes

    def __repr__(self) -> str:  # never print the key
        return "PseudonymKey(...)"

    def pseudonym(self, text: str) -> str:
        """HMAC-SHA-256 of ``text`` under the key, as lower-case hex."""
        return hmac.new(self.key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def function(self):
        """A function of one value VARCHAR -> VARCHAR: its pseudonym, NULL kept (see
        :meth:`caselib.store.Store.create_function` for why not a vectorised one)."""
        keyed = hmac.new(self.key, digestmod=hashlib.sha256)  # copied per value: a quarter faster

        def pseudonym(value: str | None) -> str | None:
            if value is None:
                return None
            mac = keyed.copy()
            mac.update(value.encode("utf-8"))
            return mac.hexdigest()

        return pseudonym

    def params(self) -> dict[str, bytes]:
        """The padded inner and outer keys of the HMAC (what a scan for the key looks for)."""
        key = hashlib.sha256(self.key).digest() if len(self.key) > _BLOCK else self.key
        key = key.ljust(_BLOCK, b"\0")
        return {
            "hmac_ipad": bytes(b ^ 0x36 for b in key),
            "hmac_opad": bytes(b ^ 0x5C for b in key),
        }


def load_key() -> PseudonymKey:
    """The pseudonymisation key from the environment or the key file (created if missing)."""
    secret = os.environ.get("CASELIB_PSEUDONYM_KEY")
    if secret:
        return PseudonymKey(secret.encode("utf-8"))
    path = pseudonym_key_path()
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
        text = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise CaselibError(
            f"cannot read or create the pseudonymisation key {path}: {error.strerror}; "
            "set CASELIB_PSEUDONYM_KEY or CASELIB_PSEUDONYM_KEY_FILE"
        ) from None
    if len(text) < 16:
        raise CaselibError(f"the pseudonymisation key in {path} is too short (16 characters at least)")
    return PseudonymKey(text.encode("utf-8"))
