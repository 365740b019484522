"""S3 targets with the same options share one filesystem, and so one listing per prefix."""

from __future__ import annotations

import uuid

import fsspec

from targets import FileTarget
from tests.servers import Server


def test_s3_targets_share_one_filesystem_once_a_client_was_made(s3_server: Server) -> None:
    bucket = f"t-{uuid.uuid4().hex[:12]}"
    fsspec.filesystem("s3", endpoint_url=s3_server.url).mkdir(bucket)
    first = FileTarget(f"s3://{bucket}/in/a.csv", endpoint_url=s3_server.url)
    assert not first.exists()  # botocore builds its client from the options here
    second = FileTarget(f"s3://{bucket}/in/b.csv", endpoint_url=s3_server.url)
    assert second.location.fs is first.location.fs
