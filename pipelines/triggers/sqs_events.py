"""S3 event notifications read from an SQS queue: a wake-up for the watcher when an object it
watches was written or deleted, instead of waiting for the next poll.

SQS delivers at least once and in no order, and says nothing of events that happened while no
one listened, so an event is only ever a reason to look: the watcher's listing decides what
changed, a duplicate makes a look that finds nothing new, and the first look after a start
reconciles whatever happened before. The queue belongs to one watcher: every message received
is deleted, those about other objects (and S3's test event) included.

Messages come as S3 sends them, wrapped by SNS, or as EventBridge sends them. The client is
aiobotocore's (what s3fs already runs on), with the usual credential chain; a queue URL that is
not on amazonaws.com is also its endpoint (an emulator, a VPC endpoint).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pipelines.triggers.errors import WatchError

logger = logging.getLogger("dashpipe")

WAIT_SECONDS = 5  # each receive's long poll: the bound on how late a stop is noticed
RETRY_SECONDS = 10.0  # after a failed receive, before the next (the polls go on meanwhile)


def object_urls(body: str) -> Iterator[str]:
    """The ``s3://bucket/key`` URLs a message is about; none for a test event or a stranger."""
    try:
        message: Any = json.loads(body)
        if isinstance(message, dict) and message.get("Type") == "Notification":  # through SNS
            message = json.loads(message.get("Message", "{}"))
    except (ValueError, TypeError):
        return
    if not isinstance(message, dict):
        return
    if isinstance(message.get("detail"), dict):  # EventBridge: the key is not encoded
        detail = message["detail"]
        bucket, key = detail.get("bucket", {}).get("name"), detail.get("object", {}).get("key")
        if isinstance(bucket, str) and isinstance(key, str):
            yield f"s3://{bucket}/{key}"
        return
    for record in message.get("Records") or []:
        s3 = record.get("s3", {}) if isinstance(record, dict) else {}
        bucket, key = s3.get("bucket", {}).get("name"), s3.get("object", {}).get("key")
        if isinstance(bucket, str) and isinstance(key, str):
            yield f"s3://{bucket}/{urllib.parse.unquote_plus(key)}"  # S3 sends keys form-encoded


class SqsEvents:
    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url
        parts = urllib.parse.urlsplit(queue_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.count("/") < 2:
            raise WatchError(
                f"--sqs-queue {queue_url!r} is not a queue URL "
                "(https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)"
            )
        host = parts.hostname or ""
        on_aws = host.endswith(".amazonaws.com")
        self.endpoint = None if on_aws else f"{parts.scheme}://{parts.netloc}"
        region = host.split(".")[1] if on_aws and host.startswith("sqs.") else None
        self.region = (
            region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        )

    def check(self) -> None:
        """Fail now, naming the queue, when it cannot be read: a watcher that silently gets no
        events would look like one with nothing to do."""
        try:
            asyncio.run(
                self._call("get_queue_attributes", QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
            )
        except Exception as exc:
            raise WatchError(f"--sqs-queue {self.queue_url}: cannot read the queue: {_reason(exc)}") from None

    def listen(
        self, watched: Callable[[], Iterable[str]], wake: threading.Event, stop: threading.Event
    ) -> None:
        """Set ``wake`` whenever a message names a URL among ``watched()``, until ``stop``; in a
        thread of its own (a daemon: a long poll under way does not hold the process up)."""
        thread = threading.Thread(
            target=lambda: asyncio.run(self._receive(watched, wake, stop)), name="sqs-events", daemon=True
        )
        thread.start()

    async def _call(self, method: str, **arguments: Any) -> Any:
        from aiobotocore.session import get_session

        async with get_session().create_client(
            "sqs", region_name=self.region, endpoint_url=self.endpoint
        ) as client:
            return await getattr(client, method)(**arguments)

    async def _receive(
        self, watched: Callable[[], Iterable[str]], wake: threading.Event, stop: threading.Event
    ) -> None:
        from aiobotocore.session import get_session

        async with get_session().create_client(
            "sqs", region_name=self.region, endpoint_url=self.endpoint
        ) as client:
            while not stop.is_set():
                try:
                    reply = await client.receive_message(
                        QueueUrl=self.queue_url, WaitTimeSeconds=WAIT_SECONDS, MaxNumberOfMessages=10
                    )
                    messages = reply.get("Messages", [])
                    urls = {url for message in messages for url in object_urls(message.get("Body", ""))}
                    if urls & set(watched()):
                        wake.set()
                    if messages:
                        await client.delete_message_batch(
                            QueueUrl=self.queue_url,
                            Entries=[
                                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                                for index, message in enumerate(messages)
                            ],
                        )
                except Exception as exc:  # the polls still find every change, later
                    logger.warning("S3 events from %s: %s; polling meanwhile", self.queue_url, _reason(exc))
                    await asyncio.get_running_loop().run_in_executor(None, stop.wait, RETRY_SECONDS)


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
