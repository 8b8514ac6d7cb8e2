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
button {{ font-size: 1rem; padding: 0.6rem 1.2rem; border-radius: 6px; border: 0;
          background: #0364b8; color: white; cursor: pointer; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>{text}</p>
{form}
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
    body = _TEMPLATE.format(title=escape(title), text=escape(text), form="")
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)


def confirm_page(title: str, text: str, button: str) -> HTMLResponse:
    """A page whose button posts back to the same URL, so a GET alone changes nothing."""
    form = f'<form method="post"><button type="submit">{escape(button)}</button></form>'
    body = _TEMPLATE.format(title=escape(title), text=escape(text), form=form)
    return HTMLResponse(body, headers=SECURITY_HEADERS)
