"""Serve a built site on the loopback interface only: a preview, not a public web server."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOOPBACK = "127.0.0.1"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the terminal for the URL and errors, not one line per asset."""


def make_server(html_dir: Path, port: int = 8000) -> ThreadingHTTPServer:
    """A server for ``html_dir`` bound to 127.0.0.1 (port 0 picks a free one); call ``serve_forever``."""
    html_dir = Path(html_dir)
    if not (html_dir / "index.html").is_file():
        raise FileNotFoundError(f"{html_dir} has no index.html; run `junkdna-bench site build` first")
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    return ThreadingHTTPServer((LOOPBACK, port), handler)
