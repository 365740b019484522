"""HTTP inputs against a real local server: versions from one HEAD each, reads revalidated
through the cache, retries on 429, credentials from the environment and never shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from targets import StorageError, TargetError, target_for_url
from targets.http import HttpTarget
from targets.listing import observe_many
from tests.servers import AccessLog, Server


def test_a_url_is_an_http_target_whose_version_is_the_etag(http_api: tuple[Server, Path]) -> None:
    server, root = http_api
    (root / "orders.csv").write_text("o1\n")
    target = target_for_url(f"{server.url}/files/orders.csv")
    assert isinstance(target, HttpTarget)
    assert target_for_url(server.url.replace("http://", "https://") + "/x").type_name == "http"
    first = target.fingerprint()
    assert first is not None and set(first) == {"kind", "etag"}
    assert target.matches(first) is True
    (root / "orders.csv").write_text("o1\no2\n")
    assert target.matches(first) is False
    assert not target_for_url(f"{server.url}/files/missing.csv").exists()


def test_without_an_etag_last_modified_and_size_are_the_version(http_api: tuple[Server, Path]) -> None:
    server, root = http_api
    (root / "a.csv").write_text("a\n")
    fingerprint = HttpTarget(f"{server.url}/plain/a.csv").fingerprint()
    assert fingerprint is not None and fingerprint["size"] == "2" and "last_modified" in fingerprint


def test_many_inputs_cost_one_head_each_and_no_download(http_api: tuple[Server, Path]) -> None:
    server, root = http_api
    for index in range(50):
        (root / f"f{index}.csv").write_text(f"{index}\n")
    targets = [HttpTarget(f"{server.url}/files/f{index}.csv") for index in range(50)]
    log = AccessLog(server)
    observed = observe_many(targets)
    requests = log.since()
    assert sorted(requests) == sorted(("HEAD", f"/files/f{index}.csv") for index in range(50))
    assert all(observed[id(target)]["etag"] for target in targets)


def test_a_read_again_is_revalidated_not_downloaded(http_api: tuple[Server, Path]) -> None:
    server, root = http_api
    (root / "big.csv").write_bytes(b"x" * 100_000)
    target = HttpTarget(f"{server.url}/files/big.csv")
    log = AccessLog(server)
    assert target.read_bytes() == b"x" * 100_000
    with target.open("r") as handle:
        assert handle.read() == "x" * 100_000
    text = server.log_path.read_text()
    assert [request for request in log.since()] == [("GET", "/files/big.csv")] * 2
    assert text.rstrip().splitlines()[-1].split('" ')[1].startswith("304"), text[-300:]


def test_429_is_retried_after_what_retry_after_says(http_api: tuple[Server, Path]) -> None:
    server, root = http_api
    (root / "slow.csv").write_text("s\n")
    log = AccessLog(server)
    assert HttpTarget(f"{server.url}/busy/slow.csv").read_bytes() == b"s\n"
    assert log.since() == [("GET", "/busy/slow.csv")] * 2


def test_credentials_come_from_the_environment_and_are_never_shown(
    http_api: tuple[Server, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = http_api
    target = HttpTarget(f"{server.url}/files/x.csv", token_env="API_TOKEN_FOR_TEST")
    with pytest.raises(TargetError, match="environment variable API_TOKEN_FOR_TEST is not set"):
        target.exists()
    monkeypatch.setenv("API_TOKEN_FOR_TEST", "s3cr3t-token")
    assert target.request_headers() == {"Authorization": "Bearer s3cr3t-token"}
    assert "s3cr3t" not in repr(target) and "s3cr3t" not in str(target)
    with pytest.raises(TargetError, match="never in the URL") as caught:
        HttpTarget("https://user:s3cr3t-token@example.com/x")
    assert "s3cr3t" not in str(caught.value)


def test_a_server_that_fails_is_an_error_naming_the_url() -> None:
    url = "http://127.0.0.1:9/nothing-listens-here"
    with pytest.raises(StorageError, match=re.escape(url)):
        HttpTarget(url, timeout=2, retries=0).exists()
