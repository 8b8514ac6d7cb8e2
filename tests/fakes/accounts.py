"""Microsoft accounts that the fake identity platform signs in and the fake Graph serves."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

# Tenant id that Microsoft Entra uses for all personal Microsoft accounts (MSA).
PERSONAL_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"


@dataclass(frozen=True)
class Account:
    """A user as the identity platform describes it in ID tokens and client_info."""

    oid: str
    tid: str
    preferred_username: str
    name: str

    @property
    def home_account_id(self) -> str:
        """The ``uid.utid`` id that msal derives from client_info."""
        return f"{self.oid}.{self.tid}"

    @property
    def is_personal(self) -> bool:
        return self.tid == PERSONAL_TENANT_ID

    @property
    def personal_cid(self) -> str | None:
        """The 16-hex-digit CID of a personal account, which Graph uses as user and drive id.

        Entra builds a personal account's oid as ``00000000-0000-0000-XXXX-XXXXXXXXXXXX``
        from the CID, so the CID is the last 16 hex digits of the oid.
        """
        if not self.is_personal:
            return None
        return self.oid.replace("-", "")[-16:]


def work_account(
    preferred_username: str = "adele.vance@contoso.example",
    name: str = "Adele Vance",
    *,
    tenant_id: str | None = None,
    oid: str | None = None,
) -> Account:
    """Return a work or school account with a random oid and, unless given, tenant."""
    return Account(
        oid=oid or str(uuid.uuid4()),
        tid=tenant_id or str(uuid.uuid4()),
        preferred_username=preferred_username,
        name=name,
    )


def personal_account(
    preferred_username: str = "megan.bowen@outlook.example",
    name: str = "Megan Bowen",
    *,
    cid: str | None = None,
) -> Account:
    """Return a personal Microsoft account in the consumer tenant with a random CID."""
    cid = (cid or secrets.token_hex(8)).lower()
    if len(cid) != 16:
        raise ValueError(f"a personal account CID has 16 hex digits, got {cid!r}")
    oid = f"00000000-0000-0000-{cid[:4]}-{cid[4:]}"
    return Account(
        oid=oid, tid=PERSONAL_TENANT_ID, preferred_username=preferred_username, name=name
    )
