"""A real HTTP server for the HTTP input tests, run as a process of its own:

    python tests/http_api_server.py --port P --root DIR

- ``/files/NAME``: DIR/NAME with an ETag (of its bytes) and Last-Modified; If-None-Match -> 304.
- ``/plain/NAME``: the same with Last-Modified and Content-Length only, as Python's own
  http.server answers; If-Modified-Since -> 304.
- ``/busy/NAME``: 429 with ``Retry-After: 1`` to the first request for each name, then as /files.
- ``/api/items?page=N``: the JSON list in DIR/items.json, ``--page-size`` items a page, as
  ``{"data": [...], "next": URL or null}``.

Every request is logged to stderr as http.server does (``"GET /files/a HTTP/1.1" 304 -``).
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Handler(BaseHTTPRequestHandler):
    root: Path
    page_size: int
    busy_seen: set[str]
    lock = threading.Lock()

    def do_HEAD(self) -> None:
        self.answer(body=False)

    def do_GET(self) -> None:
        self.answer(body=True)

    def answer(self, body: bool) -> None:
        url = urllib.parse.urlsplit(self.path)
        kind, _, name = url.path.strip("/").partition("/")
        if kind == "busy":
            with self.lock:
                first = name not in self.busy_seen
                self.busy_seen.add(name)
            if first:
                self.send_response(429)
                self.send_header("Retry-After", "1")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            kind = "files"
        if kind == "api" and name == "items":
            return self.page(url, body)
        path = self.root / name
        if kind not in ("files", "plain") or not name or not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        modified = email.utils.formatdate(path.stat().st_mtime, usegmt=True)
        etag = f'"{hashlib.sha256(data).hexdigest()[:16]}"'
        unchanged = (
            self.headers.get("If-None-Match") == etag
            if kind == "files"
            else self.headers.get("If-Modified-Since") == modified
        )
        self.send_response(304 if unchanged else 200)
        if kind == "files":
            self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        self.send_header("Cache-Control", "no-cache")  # stored, but revalidated before each use
        self.send_header("Content-Length", "0" if unchanged else str(len(data)))
        self.end_headers()
        if body and not unchanged:
            self.wfile.write(data)

    def page(self, url: urllib.parse.SplitResult, body: bool) -> None:
        items = json.loads((self.root / "items.json").read_text())
        number = int(urllib.parse.parse_qs(url.query).get("page", ["1"])[0])
        start = (number - 1) * self.page_size
        more = start + self.page_size < len(items)
        host = self.headers.get("Host")
        reply = {
            "data": items[start : start + self.page_size],
            "next": f"http://{host}/api/items?page={number + 1}" if more else None,
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--page-size", type=int, default=2)
    args = parser.parse_args()
    Handler.root = args.root
    Handler.page_size = args.page_size
    Handler.busy_seen = set()
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
