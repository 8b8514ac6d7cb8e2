"""The fake Slack, driven by slack_sdk's AsyncWebClient and AsyncWebhookClient."""

from __future__ import annotations

import hashlib
import os
import ssl
from collections.abc import AsyncIterator

import aiohttp
import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes import FakeSlack, SlackMessage

CHANNEL = "C2147483705"


def web_client(
    slack: FakeSlack, ssl_context: ssl.SSLContext, token: str | None = None
) -> AsyncWebClient:
    return AsyncWebClient(token=token or slack.bot_token, base_url=slack.api_url, ssl=ssl_context)


@pytest.mark.asyncio
async def test_post_message_is_recorded(slack: FakeSlack, ssl_context: ssl.SSLContext) -> None:
    client = web_client(slack, ssl_context)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Found 2 files*"}}]

    response = await client.chat_postMessage(channel=CHANNEL, text="Found 2 files", blocks=blocks)

    assert response["ok"] is True
    assert response["channel"] == CHANNEL
    message = await slack.wait_for(lambda m: m.kind == "message" and m.text == "Found 2 files")
    assert message.channel == CHANNEL
    assert message.blocks == blocks
    assert message.ts == response["ts"]
    call = slack.calls[-1]
    assert call.method == "chat.postMessage"
    assert call.authenticated is True
    assert "token" not in call.args


@pytest.mark.asyncio
async def test_tokens_are_checked(slack: FakeSlack, ssl_context: ssl.SSLContext) -> None:
    with pytest.raises(SlackApiError) as invalid:
        await web_client(slack, ssl_context, token="xoxb-not-issued").auth_test()
    assert invalid.value.response["error"] == "invalid_auth"
    assert invalid.value.response.status_code == 200

    missing = httpx.post(f"{slack.api_url}auth.test", verify=ssl_context)
    assert missing.json() == {"ok": False, "error": "not_authed"}

    form_token = httpx.post(
        f"{slack.api_url}auth.test", data={"token": slack.bot_token}, verify=ssl_context
    )
    assert form_token.json()["ok"] is True
    assert form_token.json()["user_id"] == slack.bot_user_id


@pytest.mark.asyncio
async def test_channel_errors(slack: FakeSlack, ssl_context: ssl.SSLContext) -> None:
    client = web_client(slack, ssl_context)
    slack.add_channel("C0PRIVATE1", "finance", bot_member=False)

    with pytest.raises(SlackApiError) as not_in_channel:
        await client.chat_postMessage(channel="C0PRIVATE1", text="hi")
    with pytest.raises(SlackApiError) as not_found:
        await client.chat_postMessage(channel="C0UNKNOWN1", text="hi")
    no_text = httpx.post(
        f"{slack.api_url}chat.postMessage",
        json={"channel": CHANNEL},
        headers={"Authorization": f"Bearer {slack.bot_token}"},
        verify=ssl_context,
    )

    assert not_in_channel.value.response["error"] == "not_in_channel"
    assert not_found.value.response["error"] == "channel_not_found"
    assert no_text.json() == {"ok": False, "error": "no_text"}
    assert len(slack.messages) == 0


@pytest.mark.asyncio
async def test_direct_messages_and_ephemerals(
    slack: FakeSlack, ssl_context: ssl.SSLContext
) -> None:
    client = web_client(slack, ssl_context)

    opened = await client.conversations_open(users="U2147483697")
    posted = await client.chat_postMessage(channel="U2147483697", text="Connected")
    ephemeral = await client.chat_postEphemeral(channel=CHANNEL, user="U2147483697", text="psst")
    original = await client.chat_postMessage(channel=CHANNEL, text="v1")
    updated = await client.chat_update(channel=CHANNEL, ts=original["ts"], text="v2")

    assert opened["channel"]["id"].startswith("D")
    assert posted["channel"] == opened["channel"]["id"]
    assert ephemeral["message_ts"]
    assert updated["text"] == "v2"
    kinds = [message.kind for message in slack.messages]
    assert kinds == ["message", "ephemeral", "message", "update"]
    assert slack.messages[1].user == "U2147483697"

    slack.channel_members[CHANNEL] = {"U0SOMEONE1"}
    with pytest.raises(SlackApiError) as outsider:
        await client.chat_postEphemeral(channel=CHANNEL, user="U2147483697", text="psst")
    assert outsider.value.response["error"] == "user_not_in_channel"


@pytest.mark.asyncio
async def test_files_upload_v2_full_flow(slack: FakeSlack, ssl_context: ssl.SSLContext) -> None:
    client = web_client(slack, ssl_context)
    # aiohttp warns about raw bytes bodies over 1 MiB, which files_upload_v2 sends.
    data = os.urandom(900 * 1024 + 5)

    response = await client.files_upload_v2(
        channel=CHANNEL, content=data, filename="report.pdf", title="Q1", initial_comment="Here"
    )

    file_id = response["file"]["id"]
    upload = await slack.wait_for(lambda u: u.file_id == file_id, kind="uploads")
    assert upload.size == len(data)
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert upload.filename == "report.pdf"
    assert upload.title == "Q1"
    assert upload.channel == CHANNEL
    assert upload.upload_authorization is None
    share = slack.messages.find(lambda m: m.kind == "file_share")
    assert share is not None
    assert share.text == "Here"
    assert share.file_ids == [file_id]
    methods = [call.method for call in slack.calls]
    assert methods == ["files.getUploadURLExternal", "files.completeUploadExternal"]


@pytest.mark.asyncio
async def test_upload_multipart_and_length_checks(
    slack: FakeSlack, ssl_context: ssl.SSLContext
) -> None:
    client = web_client(slack, ssl_context)
    announced = await client.files_getUploadURLExternal(filename="a.txt", length=5)
    short = await client.files_getUploadURLExternal(filename="b.txt", length=10)
    never = await client.files_getUploadURLExternal(filename="c.txt", length=1)

    async with aiohttp.ClientSession() as session:
        form = aiohttp.FormData()
        form.add_field("file", b"hello", filename="a.txt")
        async with session.post(announced["upload_url"], data=form, ssl=ssl_context) as reply:
            assert reply.status == 200
            assert await reply.text() == "OK - 5"
        async with session.post(short["upload_url"], data=b"12345", ssl=ssl_context) as reply:
            assert reply.status == 200

    assert slack.uploads[announced["file_id"]].read_bytes() == b"hello"
    ok = await client.files_completeUploadExternal(files=[{"id": announced["file_id"]}])
    assert ok["files"][0]["id"] == announced["file_id"]
    for file_id, error in (
        (short["file_id"], "file_size_mismatch"),
        (never["file_id"], "file_not_uploaded"),
        ("F0NEVERSEEN", "file_not_found"),
    ):
        with pytest.raises(SlackApiError) as failed:
            await client.files_completeUploadExternal(files=[{"id": file_id}], channel_id=CHANNEL)
        assert failed.value.response["error"] == error


@pytest.mark.asyncio
async def test_large_chunked_upload_is_streamed(
    slack: FakeSlack, ssl_context: ssl.SSLContext
) -> None:
    client = web_client(slack, ssl_context)
    chunk = os.urandom(1024 * 1024)
    chunks = 24
    announced = await client.files_getUploadURLExternal(
        filename="big.bin", length=chunks * len(chunk)
    )
    expected = hashlib.sha256()
    for _ in range(chunks):
        expected.update(chunk)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(chunks):
            yield chunk

    async with aiohttp.ClientSession() as session:
        async with session.post(announced["upload_url"], data=body(), ssl=ssl_context) as reply:
            assert reply.status == 200
            assert await reply.text() == f"OK - {chunks * len(chunk)}"

    upload = slack.uploads[announced["file_id"]]
    assert upload.size == chunks * len(chunk)
    assert upload.sha256 == expected.hexdigest()


@pytest.mark.asyncio
async def test_complete_upload_checks_channel(
    slack: FakeSlack, ssl_context: ssl.SSLContext
) -> None:
    client = web_client(slack, ssl_context)
    slack.add_channel("C0PRIVATE1", "finance", bot_member=False)
    announced = await client.files_getUploadURLExternal(filename="a.txt", length=2)
    httpx.post(announced["upload_url"], content=b"hi", verify=ssl_context)

    with pytest.raises(SlackApiError) as failed:
        await client.files_completeUploadExternal(
            files=[{"id": announced["file_id"]}], channel_id="C0PRIVATE1"
        )

    assert failed.value.response["error"] == "not_in_channel"
    assert slack.uploads[announced["file_id"]].completed is False


@pytest.mark.asyncio
async def test_response_url_records_and_limits_posts(
    slack: FakeSlack, ssl_context: ssl.SSLContext
) -> None:
    url = slack.new_response_url()
    assert url.startswith(f"{slack.url}/hooks/commands/T0001/")
    webhook = AsyncWebhookClient(url, ssl=ssl_context)

    first = await webhook.send(text="Searching…", response_type="ephemeral")
    assert first.status_code == 200
    assert first.body == "ok"
    message: SlackMessage = await slack.wait_for(lambda m: m.kind == "response_url")
    assert message.text == "Searching…"
    assert message.response_type == "ephemeral"
    assert message.response_url == url

    empty = await webhook.send_dict({"response_type": "in_channel"})
    assert (empty.status_code, empty.body) == (400, "no_text")
    for _ in range(3):
        assert (await webhook.send(text="again")).status_code == 200
    over = await webhook.send(text="sixth")
    assert (over.status_code, over.body) == (404, "used_url")
    unknown = await AsyncWebhookClient(
        f"{slack.url}/hooks/commands/T0001/9/x", ssl=ssl_context
    ).send(text="x")
    assert unknown.status_code == 404


@pytest.mark.asyncio
async def test_fail_next_ratelimits(slack: FakeSlack, ssl_context: ssl.SSLContext) -> None:
    client = web_client(slack, ssl_context)
    slack.fail_next("chat.postMessage", status=429)
    slack.fail_next("auth.test", error="fatal_error")

    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel=CHANNEL, text="hi")
    with pytest.raises(SlackApiError) as fatal:
        await client.auth_test()

    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "1"
    assert limited.value.response["error"] == "ratelimited"
    assert fatal.value.response["error"] == "fatal_error"
    assert (await client.chat_postMessage(channel=CHANNEL, text="hi"))["ok"] is True


def test_wait_for_sync_timeout_lists_records(slack: FakeSlack) -> None:
    with pytest.raises(TimeoutError, match="0 recorded"):
        slack.wait_for_sync(lambda m: True, timeout=0.05)
