"""``/`` in a browser: where a person who just started the server lands; a link to the console first."""

from __future__ import annotations

from html import escape


def index_page(version: str, console: str, openapi: list[str]) -> str:
    documents = "\n".join(
        f'<li><a href="{escape(url)}">{escape(url.rsplit("/", 1)[-1])}</a></li>' for url in openapi
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Helpline</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; }}
a.console {{ display: inline-block; padding: .6rem 1.2rem; border-radius: .4rem; background: #1a5fb4;
  color: #fff; text-decoration: none; font-weight: 600; }}
@media (prefers-color-scheme: dark) {{ body {{ background: #1e1e1e; color: #ddd; }} a {{ color: #8ab4f8; }} }}
</style>
</head>
<body>
<h1>Helpline</h1>
<p>This server is running (version {escape(version)}).</p>
<p><a class="console" href="{escape(console)}">Open the agent console</a></p>
<h2>API descriptions (OpenAPI)</h2>
<ul>
{documents}
</ul>
<p>Programs asking with <code>Accept: application/json</code> get this index as JSON.</p>
</body>
</html>
"""
