"""Small HTML pages for the consent flow; every inserted value is HTML-escaped."""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto;
       padding: 0 1rem; color: #1d1c1d; line-height: 1.5; }}
h1 {{ font-size: 1.4rem; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>{text}</p>
</body>
</html>
"""

# Pages about a person's sign-in must never be cached or framed by another site.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def page(title: str, text: str, status_code: int = 200) -> HTMLResponse:
    body = _TEMPLATE.format(title=escape(title), text=escape(text))
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)
