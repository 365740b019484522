"""``dashpipe watch --sqs-queue``: S3 event notifications, delivered by moto_server from a bucket to
an SQS queue with a prefix filter, wake the watcher; the polls are 10 minutes apart, so a run
that follows an upload within the test's time came from its event."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import boto3
import pytest

from pipelines.errors import ExitCode
from pipelines.execute.run_history import JournalReader, Run
from pipelines.execute.run_journal import RUNS_DIRECTORY
from pipelines.triggers.sqs_events import object_urls
from tests.conftest import Backend
from tests.helpers import run_cli, start_cli, wait_until
from tests.servers import Server
from tests.triggers.inbox import COPYING, PIPELINE
from tests.triggers.test_watch import Watching, ran, watchers  # noqa: F401 - a fixture


def notifying_queue(server: Server, bucket: str, prefix: str) -> str:
    """A queue of its own that the bucket tells of every object written or removed under ``prefix``."""
    sqs = boto3.client("sqs", endpoint_url=server.url)
    queue = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("s3", endpoint_url=server.url).put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                }
            ]
        },
    )
    return queue


def queued(server: Server, queue: str) -> int:
    """Messages in the queue, received or not: 0 once the watcher has read and deleted them all."""
    counts = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    sqs = boto3.client("sqs", endpoint_url=server.url)
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=counts)["Attributes"]
    return sum(int(count) for count in attributes.values())


@pytest.mark.parametrize("backend", ["s3"], indirect=True)
def test_an_s3_event_wakes_the_watcher_long_before_its_poll(
    backend: Backend,
    s3_server: Server,
    tmp_path: Path,
    watchers: list[Watching],  # noqa: F811
) -> None:
    (tmp_path / "copying.py").write_text(COPYING)
    pipeline = tmp_path / "remote.yaml"
    pipeline.write_text(PIPELINE.replace('shell: "cat {inputs.raw} > {outputs.o}"', "run: copying:copy"))
    fs = backend.fs()
    fs.pipe_file(fs._strip_protocol(backend.url("in", "orders.csv")), b"o1\n")
    fs.pipe_file(fs._strip_protocol(backend.url("in", "prices.csv")), b"p1\n")
    bucket, _, root_key = backend.root.removeprefix("s3://").partition("/")
    queue = notifying_queue(s3_server, bucket, f"{root_key}/in/")
    (tmp_path / "luigi.cfg").write_text(backend.config)
    log = tmp_path / "watch.log"
    process = start_cli(
        "watch",
        str(pipeline),
        "--root",
        backend.root,
        "--interval",
        "600",
        "--settle",
        "0.2",
        "--sqs-queue",
        queue,
        cwd=tmp_path,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "LUIGI_CONFIG_PATH": str(tmp_path / "luigi.cfg")},
    )
    watchers.append(Watching(process, Path("unused"), log))
    journals = backend.target("out", ".dashpipe", RUNS_DIRECTORY)

    def ended() -> list[Run]:
        found = [run for run in JournalReader([journals]).runs() if run.exit_code is not None]
        return sorted(found, key=lambda run: run.began)

    wait_until(lambda: len(ended()) == 1, "the first pass", [process], timeout_s=90)
    assert ran(ended()[0]) == ["inbox.orders", "inbox.prices"]
    wait_until(lambda: queued(s3_server, queue) == 0, "the events of the first pass's reads", [process])

    # An object nobody declared: its event is read and deleted, and nothing runs.
    fs.pipe_file(fs._strip_protocol(backend.url("in", "unrelated.csv")), b"x\n")
    wait_until(lambda: queued(s3_server, queue) == 0, "the watcher to read the stranger's event", [process])
    assert len(ended()) == 1

    fs.pipe_file(fs._strip_protocol(backend.url("in", "orders.csv")), b"o1\no2\n")
    wait_until(lambda: len(ended()) == 2, "a run woken by the upload's event", [process], timeout_s=90)
    assert ran(ended()[1]) == ["inbox.orders"]
    assert fs.cat_file(fs._strip_protocol(backend.url("out", "orders.txt"))) == b"o1\no2\n"


def test_event_messages_name_their_objects_in_every_wrapping() -> None:
    record = {"Records": [{"s3": {"bucket": {"name": "b"}, "object": {"key": "in/a+b%2Cc.csv"}}}]}
    assert list(object_urls(json.dumps(record))) == ["s3://b/in/a b,c.csv"]
    through_sns = {"Type": "Notification", "Message": json.dumps(record)}
    assert list(object_urls(json.dumps(through_sns))) == ["s3://b/in/a b,c.csv"]
    bridged = {"detail": {"bucket": {"name": "b"}, "object": {"key": "in/a b.csv"}}}
    assert list(object_urls(json.dumps(bridged))) == ["s3://b/in/a b.csv"]
    for stranger in ['{"Event": "s3:TestEvent"}', "not json", "[1, 2]", '{"Records": [3]}']:
        assert list(object_urls(stranger)) == []


def test_a_queue_that_cannot_be_read_stops_the_watcher_naming_it(tmp_path: Path, s3_server: Server) -> None:
    (tmp_path / "inbox.yaml").write_text(PIPELINE)
    common = ["watch", str(tmp_path / "inbox.yaml"), "--root", str(tmp_path), "--sqs-queue"]
    malformed = run_cli(*common, "my-queue")
    assert malformed.exit_code == ExitCode.USAGE
    assert "--sqs-queue 'my-queue' is not a queue URL" in malformed.stderr
    missing = f"{s3_server.url}/123456789012/no-such-queue"
    absent = run_cli(*common, missing)
    assert absent.exit_code == ExitCode.USAGE, absent.output
    assert f"--sqs-queue {missing}: cannot read the queue" in absent.stderr
    assert "Traceback" not in absent.stderr
