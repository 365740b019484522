"""Paging through a JSON API: the common "every page of an endpoint into one Parquet output".

A page's items are at ``items`` (a dotted path in the JSON body, e.g. ``data`` or
``result.rows``). The next page is, in this order: the URL at ``next`` in the body (absolute or
relative), the response's ``Link: <...>; rel="next"`` header, or, with ``cursor`` (the dotted
path of the next cursor in the body), this URL with ``cursor_param=CURSOR`` set. Paging ends when
none is given. Every request carries the input's credentials and is retried with backoff on 429
and 5xx, honouring Retry-After; pages are not cached (an API's pages move).

From YAML, the paging is an option of the input and the step runs ``api_to_parquet``::

    inputs:
      orders: {url: "https://api.example.com/orders?day={day}", type: http,
               options: {token_env: SHOP_TOKEN, pages: {items: data, next: links.next}}}
    outputs: {table: {url: "out/orders-{day}.parquet", type: parquet}}
    run: targets.http_pages:api_to_parquet
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa

from targets.errors import StorageError, TargetError
from targets.http import HttpTarget

MOST_PAGES = 100_000  # a server that always answers with a next page must not loop forever


def json_pages(
    source: HttpTarget,
    items: str = "data",
    next: str | None = "next",
    cursor: str | None = None,
    cursor_param: str = "cursor",
) -> Iterator[list[Any]]:
    """The items of each page, first page first."""
    url: str | None = source.url
    seen: set[str] = set()
    while url is not None:
        if url in seen or len(seen) >= MOST_PAGES:
            raise StorageError(f"{source.display_url}: paging does not end (page {len(seen) + 1} is {url})")
        seen.add(url)
        response = source.get(url, cached=False)
        try:
            body = response.json()
        except ValueError:
            raise StorageError(f"{source.display_url}: page {len(seen)} is not JSON") from None
        found = _at(body, items)
        if not isinstance(found, list):
            raise StorageError(
                f"{source.display_url}: page {len(seen)} has no list at {items!r} "
                f"(found {type(found).__name__})"
            )
        yield found
        url = _next_url(source.url, url, body, response.links, next, cursor, cursor_param)


def _next_url(
    first: str,
    current: str,
    body: Any,
    links: Mapping[str | None, Any],
    next: str | None,
    cursor: str | None,
    cursor_param: str,
) -> str | None:
    if next:
        link = _at(body, next)
        if isinstance(link, str) and link:
            return urllib.parse.urljoin(current, link)
    if "next" in links and links["next"].get("url"):
        return urllib.parse.urljoin(current, str(links["next"]["url"]))
    if cursor:
        value = _at(body, cursor)
        if value not in (None, ""):
            parts = urllib.parse.urlsplit(first)
            query = dict(urllib.parse.parse_qsl(parts.query))
            query[cursor_param] = str(value)
            return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    return None


def _at(body: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(body, Mapping):
            return None
        body = body.get(part)
    return body


def api_to_parquet(inputs: Mapping[str, Any], outputs: Mapping[str, Any]) -> None:
    """A YAML step: every page of the step's one HTTP input (its ``pages`` option says how to
    page) into its one Parquet output, written whole or not at all."""
    sources = [target for target in inputs.values() if isinstance(target, HttpTarget)]
    if len(sources) != 1 or len(outputs) != 1:
        raise TargetError("api_to_parquet takes one HTTP input and one Parquet output")
    (output,) = outputs.values()
    rows = [row for page in json_pages(sources[0], **sources[0].pages) for row in page]
    output.write(pa.Table.from_pylist(rows))
