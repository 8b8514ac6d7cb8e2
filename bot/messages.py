"""Every sentence the app shows a person, in Slack mrkdwn or on a web page.

Text from outside the app (file names, folder names, account names, search words) goes
through `escape` before it reaches mrkdwn, so it can never form a mention, a link or a
broadcast such as <!channel>.
"""

from __future__ import annotations

from datetime import datetime

COMMAND = "/onedrive"

HELP = (
    "*OneDrive for Slack* works with your own OneDrive files:\n"
    f"• `{COMMAND} connect` — connect your Microsoft account\n"
    f"• `{COMMAND} status` — show which account is connected\n"
    f"• `{COMMAND} search <words>` — find files by name\n"
    f"• `{COMMAND} share <name or link>` — post a view link here "
    "(add `--edit` for an edit link)\n"
    f"• `{COMMAND} fetch <name or link>` — upload the file itself here\n"
    f"• `{COMMAND} disconnect` — forget your Microsoft account"
)


def escape(text: str) -> str:
    """Escape text for mrkdwn as Slack documents: &, < and > become entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    """Format a mrkdwn link whose label and URL cannot break out of the <url|label> form."""
    safe_url = escape(url).replace("|", "%7C")
    return f"<{safe_url}|{escape(label).replace('|', '¦')}>"


def format_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def format_date(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "unknown date"


# connect and status


def connect_link(url: str) -> str:
    return (
        f"{link(url, 'Connect your Microsoft account')} — this link is only for you, works once "
        "and expires in 10 minutes. Open it in your own browser."
    )


NOT_CONNECTED = (
    "You have not connected a Microsoft account yet. Here is your personal link to connect one."
)
ALREADY_CONNECTED = "You are connected as *{username}*. To switch accounts, use this link."


def status_connected(username: str, since: datetime) -> str:
    return (
        f"You are connected to OneDrive as *{escape(username)}* since {format_date(since)}. "
        f"`{COMMAND} disconnect` removes the connection."
    )


def connected_in_slack(username: str) -> str:
    return (
        f"Your OneDrive is now connected as *{escape(username)}*. If that was not you, run "
        f"`{COMMAND} disconnect` now."
    )


DISCONNECTED = "Disconnected. The app no longer holds any sign-in for your Microsoft account."
NOTHING_TO_DISCONNECT = "You had no Microsoft account connected, so there was nothing to remove."


def reconnect_required(reason: str) -> str:
    return (
        f"Your Microsoft sign-in no longer works ({escape(reason)}), so the app forgot it. "
        "Connect again with this link."
    )


# commands


def unknown_command(word: str) -> str:
    return f"I don't know the command `{escape(word)[:50]}`.\n\n{HELP}"


def missing_argument(command: str) -> str:
    return f"Tell me which file: `{COMMAND} {command} <name or link>`."


def query_too_long(limit: int) -> str:
    return f"That is too long to search for; use at most {limit} characters."


FETCH_IN_PROGRESS = "You already have a fetch in progress. Try again when it has finished."


def no_results(words: str) -> str:
    return f"No files in your OneDrive match “{escape(words)}”."


def search_header(words: str, shown: int, more: bool) -> str:
    if more:
        return (
            f"Here are the first {shown} files that match “{escape(words)}”. "
            "Add words to narrow the search."
        )
    if shown == 1:
        return f"1 file matches “{escape(words)}”."
    return f"{shown} files match “{escape(words)}”."


def pick_one(words: str, action: str) -> str:
    return f"Several files match “{escape(words)}”. Which one should I {action}?"


def item_line(name: str, url: str, folder: str, size: int | None, modified: datetime | None) -> str:
    size_text = format_size(size) if size is not None else "folder"
    # An unknown folder (a lookup that failed, an item shared from another drive) is left out.
    details = [escape(folder)] if folder else []
    details += [size_text, f"modified {format_date(modified)}"]
    return f"*{link(url, name)}*\n" + " · ".join(details)


def shared_message(user_id: str, name: str, url: str, edit: bool) -> str:
    kind = "an edit link" if edit else "a view link"
    return f"<@{user_id}> shared {kind} to *{link(url, name)}*"


def fetched_comment(user_id: str, name: str) -> str:
    return f"<@{user_id}> fetched *{escape(name)}* from OneDrive"


def fetch_started(name: str, size: int) -> str:
    return f"Fetching *{escape(name)}* ({format_size(size)}) from OneDrive…"


def folder_not_supported(name: str) -> str:
    return f"*{escape(name)}* is a folder; fetch works on files. Try `share` for a link."


def file_too_large(name: str, size: int, limit: int, url: str) -> str:
    return (
        f"*{escape(name)}* is {format_size(size)}, over the {format_size(limit)} limit for "
        f"uploading into Slack. Here is a link instead: {link(url, name)}"
    )


# errors

ITEM_NOT_FOUND = "That file was not found in your OneDrive. It may have been moved or deleted."
ACCESS_DENIED = "Your Microsoft account is not allowed to do that with this file."
LINK_SCOPE_BLOCKED = (
    "Your organization does not allow links for anyone, so I made a link that works for people "
    "in your organization instead."
)
GRAPH_FAILED = "OneDrive could not do that. Please try again."
GRAPH_UNAVAILABLE = "OneDrive is not answering right now. Please try again in a minute."
SIGN_IN_SERVICE_UNAVAILABLE = (
    "Microsoft sign-in is not answering right now. Please try again in a minute."
)
SIGN_IN_UNREADABLE = (
    "The app cannot read your stored Microsoft sign-in right now. Your Slack admin has been "
    "told in the app's log; please try again later."
)
NOT_IN_CHANNEL = (
    "I'm not a member of this channel, so I can't post here. Invite me with "
    "`/invite @OneDrive` and try again."
)
CHANNEL_ARCHIVED = "This channel is archived, so nothing can be posted in it."
SLACK_INSTALL_BROKEN = (
    "The app's Slack token no longer works, so it cannot post here. Ask a Slack admin to "
    "reinstall OneDrive for Slack."
)
UNEXPECTED_ERROR = "Sorry, something went wrong on our side. Error id: `{error_id}`."


def throttled(retry_after: float) -> str:
    return f"OneDrive is busy. Try again in {max(1, round(retry_after))} s."


def slack_refused(error: str) -> str:
    return f"Slack refused the message ({escape(error)})."


# consent pages (plain text, HTML-escaped by the page template)

PAGE_CONNECTED_TITLE = "OneDrive connected"
PAGE_CONFIRM_TITLE = "Connect OneDrive to Slack"
PAGE_CONFIRM_BUTTON = "Continue to Microsoft sign-in"


def slack_account(user_name: str, user_id: str) -> str:
    return f"@{user_name} ({user_id})" if user_name else user_id


def page_confirm(slack_user: str, team_id: str) -> str:
    return (
        f"This link connects a Microsoft account to the Slack account {slack_user} in "
        f"workspace {team_id}. Continue only if that Slack account is yours. If someone sent "
        "you this link, close this page: continuing would let them use your files."
    )


def page_connected(username: str, slack_user: str) -> str:
    return (
        f"The Slack account {slack_user} is now connected to the Microsoft account "
        f"{username}. You can close this tab and go back to Slack."
    )


PAGE_LINK_UNKNOWN = "This link is not valid. Run /onedrive connect in Slack to get a new one."
PAGE_LINK_EXPIRED = (
    "This link has expired; links work for 10 minutes. Run /onedrive connect in Slack to get a "
    "new one."
)
PAGE_LINK_USED = (
    "This link has already been used. Run /onedrive connect in Slack if you need a new one."
)
PAGE_OTHER_BROWSER = (
    "This link was opened in another browser. Finish signing in there, or run "
    "/onedrive connect in Slack for a new link."
)
PAGE_DECLINED = (
    "Sign-in was cancelled, so nothing was connected. Run /onedrive connect in Slack to try again."
)
PAGE_TENANT_NOT_ALLOWED = (
    "This Microsoft account belongs to an organization this app is not set up for, so nothing "
    "was connected. Sign in with your work account, or ask your Slack admin."
)
PAGE_NO_COOKIE = (
    "Your browser did not keep this page's cookie. Open the link from Slack again in this "
    "browser, with cookies allowed for this site."
)
PAGE_SIGN_IN_FAILED = (
    "Microsoft sign-in did not complete, so nothing was connected. Run /onedrive connect in "
    "Slack to try again. Error id: {error_id}."
)
