"""Local fake services for end-to-end tests: identity platform, Graph and Slack.

Each fake is a real HTTPS server on 127.0.0.1 with an ephemeral port, running in a
background thread. Start one with ``start()`` or a ``with`` block.
"""

from tests.fakes.accounts import PERSONAL_TENANT_ID, Account, personal_account, work_account
from tests.fakes.faults import CannedResponse
from tests.fakes.graph import FakeGraph, GraphRequest
from tests.fakes.graph_download import DownloadRecord, FakeDownloadHost
from tests.fakes.graph_drive import Drive, DriveItem
from tests.fakes.graph_render import SharingLink
from tests.fakes.identity import FakeIdentityPlatform
from tests.fakes.identity_browser import AuthorizeReply, follow_auth_uri
from tests.fakes.identity_grants import (
    AccessTokenGrant,
    AuthorizationCode,
    ClientRegistration,
    RefreshTokenGrant,
)
from tests.fakes.records import RecordLog
from tests.fakes.server import FakeServer, ServerThread
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_records import SlackCall, SlackMessage, SlackUpload
from tests.fakes.tls import TestCA

__all__ = [
    "PERSONAL_TENANT_ID",
    "AccessTokenGrant",
    "Account",
    "AuthorizationCode",
    "AuthorizeReply",
    "CannedResponse",
    "ClientRegistration",
    "DownloadRecord",
    "Drive",
    "DriveItem",
    "FakeDownloadHost",
    "FakeGraph",
    "FakeIdentityPlatform",
    "FakeServer",
    "FakeSlack",
    "GraphRequest",
    "RecordLog",
    "RefreshTokenGrant",
    "ServerThread",
    "SharingLink",
    "SlackCall",
    "SlackMessage",
    "SlackUpload",
    "TestCA",
    "follow_auth_uri",
    "personal_account",
    "work_account",
]
