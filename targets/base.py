"""The contract every dash-pipeline target follows, built-in or custom."""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import luigi

from targets.fingerprint import Fingerprint
from targets.storage import redact


class BaseTarget(luigi.Target):
    """A pipeline output or input addressed by a URL.

    A subclass must provide :meth:`exists`; it should provide :meth:`remove`
    when the thing it names can be deleted. Everything else is optional. It is
    a ``luigi.Target``, so it can be returned from ``output()`` of a plain
    ``luigi.Task``.

    ``type_name`` is the name a pipeline uses to ask for this class; ``schemes``
    are the URL schemes it handles by default (``mysql`` for ``mysql://...``).
    """

    type_name: ClassVar[str] = ""
    schemes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, url: str, **options: Any) -> None:
        self.url = url

    @abc.abstractmethod
    def exists(self) -> bool:
        """True when the output is complete; never true for a partial write."""

    @property
    def display_url(self) -> str:
        """The URL with any password masked: the form for messages, logs and reports."""
        return redact(self.url)

    def remove(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot remove {self.display_url}")

    def fingerprint(self) -> Fingerprint | None:
        """What identifies the current version, stored in build records (see targets.fingerprint).

        ``None`` when the output is missing or the target cannot tell versions
        apart; staleness checks then fall back to existence.
        """
        return None

    def matches(self, recorded: Fingerprint | None, listed: Any = None) -> bool | None:
        """Whether the current version is the one ``recorded``; ``None`` when this target cannot tell.

        ``listed`` is what a bulk listing already learnt about this target, so
        that checking many targets costs one listing, not one request each.
        """
        current = self.fingerprint()
        return None if current is None else current == recorded

    def __str__(self) -> str:
        return self.display_url

    def __repr__(self) -> str:
        # Options can hold credentials: never include them.
        return f"{type(self).__name__}({self.display_url!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.url == self.url

    def __hash__(self) -> int:
        return hash((type(self), self.url))
