"""JSON shapes of the fake Graph: driveItem, drive, user, permission and errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.fakes.accounts import Account
from tests.fakes.graph_drive import Drive, DriveItem
from tests.fakes.payloads import payload_body


def graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def identity_set(account: Account) -> dict[str, Any]:
    return {
        "user": {
            "email": account.preferred_username,
            "id": account.personal_cid or account.oid,
            "displayName": account.name,
        }
    }


def item_json(
    item: DriveItem,
    *,
    caller: Account,
    include_parent_path: bool = True,
    download_url: str | None = None,
) -> dict[str, Any]:
    """Render a driveItem.

    ``parentReference.path`` is ``/drive/root:...`` for the caller's own drive and
    ``/drives/{id}/root:...`` for another user's drive.
    """
    drive = item.drive
    owner = identity_set(drive.owner)
    body: dict[str, Any] = {}
    if download_url is not None:
        body["@microsoft.graph.downloadUrl"] = download_url
    body.update(
        {
            "createdDateTime": graph_time(item.created),
            "eTag": f'"{{{item.id}}},{item.version}"',
            "id": item.id,
            "lastModifiedDateTime": graph_time(item.last_modified),
            "name": item.name,
            "webUrl": item.web_url,
            "cTag": f'"c:{{{item.id}}},{item.version}"',
            "size": item.size if not item.is_folder else _folder_size(item),
            "createdBy": owner,
            "lastModifiedBy": owner,
        }
    )
    reference: dict[str, Any] = {"driveType": drive.drive_type, "driveId": drive.id}
    if item.parent is not None:
        reference["id"] = item.parent.id
        if item.parent.parent is not None:
            reference["name"] = item.parent.name
        if include_parent_path:
            prefix = "/drive/root:" if drive.owner == caller else f"/drives/{drive.id}/root:"
            reference["path"] = prefix + item.folder_path
    body["parentReference"] = reference
    body["fileSystemInfo"] = {
        "createdDateTime": graph_time(item.created),
        "lastModifiedDateTime": graph_time(item.last_modified),
    }
    if item.is_folder:
        body["folder"] = {"childCount": len(item.children)}
    else:
        body["file"] = {"mimeType": item.mime_type}
    if item.is_root:
        body["root"] = {}
    return body


def _folder_size(folder: DriveItem) -> int:
    return sum(
        child.size if not child.is_folder else _folder_size(child) for child in folder.children
    )


def drive_json(drive: Drive) -> dict[str, Any]:
    return {
        "id": drive.id,
        "driveType": drive.drive_type,
        "name": "OneDrive",
        "webUrl": drive.root.web_url,
        "owner": {"user": {"displayName": drive.owner.name, "id": drive.owner.oid}},
        "quota": {
            "deleted": 0,
            "remaining": 1099511627776,
            "state": "normal",
            "total": 1099511627776,
        },
    }


def user_json(account: Account, base_url: str) -> dict[str, Any]:
    """Render GET /me from the documented example, with the account's own values.

    A personal account's user id is its 16-hex-digit CID, a work account's its oid.
    """
    body: dict[str, Any] = payload_body("msgraph/me_get.json")
    given_name, _, surname = account.name.partition(" ")
    body.update(
        {
            "businessPhones": [],
            "displayName": account.name,
            "givenName": given_name,
            "jobTitle": None,
            "mail": account.preferred_username,
            "mobilePhone": None,
            "officeLocation": None,
            "surname": surname or None,
            "userPrincipalName": account.preferred_username,
            "id": account.personal_cid or account.oid,
        }
    )
    return {"@odata.context": f"{base_url}/v1.0/$metadata#users/$entity", **body}


@dataclass(eq=False)
class SharingLink:
    """A sharing link created by createLink: one per item, link type and scope."""

    id: str
    item: DriveItem
    link_type: str
    scope: str
    web_url: str
    created_by: Account

    @property
    def roles(self) -> list[str]:
        return ["write"] if self.link_type == "edit" else ["read"]


def permission_json(link: SharingLink) -> dict[str, Any]:
    link_body: dict[str, Any] = {
        "type": link.link_type,
        "scope": link.scope,
        "webUrl": link.web_url,
        "preventsDownload": False,
    }
    if link.link_type == "embed":
        link_body["webHtml"] = (
            f'<iframe src="{link.web_url}/embed" width="98" height="120" frameborder="0" '
            f'scrolling="no"></iframe>'
        )
    return {"id": link.id, "roles": link.roles, "hasPassword": False, "link": link_body}


def error_body(code: str, message: str, request_id: str, client_request_id: str) -> dict[str, Any]:
    """Return Graph's error shape with its innerError request ids and date."""
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": graph_time(datetime.now(UTC)),
                "request-id": request_id,
                "client-request-id": client_request_id,
            },
        }
    }


def fill_inner_error(body: Any, request_id: str, client_request_id: str) -> Any:
    """Put this request's ids and date into a canned error body, leaving other bodies alone."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        inner = body["error"].setdefault("innerError", {})
        if isinstance(inner, dict):
            inner["date"] = graph_time(datetime.now(UTC))
            inner["request-id"] = request_id
            inner["client-request-id"] = client_request_id
    return body
