"""Mistakes in URLs, options and credentials give one clear error naming the URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from targets import FileTarget, StorageError, TargetError
from tests.helpers import use_luigi_config
from tests.servers import Server, free_port


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nosuchproto://bucket/key", "unknown storage protocol 'nosuchproto'"),
        ("s3://", "no bucket name"),
        ("s3:///key.txt", "no bucket name"),
        ("s3://Bad_Bucket!/key", "not a valid bucket name"),
        ("gs://bucket", "no object path"),
        ("s3:/bucket/key", "did you mean 's3://'"),
        ("gs:bucket/key", "did you mean 'gs://'"),
        ("://lake/key", "no protocol before '://'"),
        ("", "malformed URL ''"),
        (" /tmp/x ", "padded with spaces"),
        ("s3://bucket/dir/", "cannot end with '/'"),
    ],
)
def test_malformed_urls_are_rejected_up_front(url: str, message: str) -> None:
    with pytest.raises(TargetError, match=message) as info:
        FileTarget(url)
    assert repr(url) in str(info.value)


def test_non_string_url() -> None:
    with pytest.raises(TargetError, match="must be a string, got int"):
        FileTarget(42)  # type: ignore[arg-type]


def test_unreachable_endpoint_names_the_url() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    target = FileTarget(
        "s3://bucket/key.txt", endpoint_url=dead, config_kwargs={"retries": {"max_attempts": 1}}
    )
    with pytest.raises(StorageError, match=r"cannot check s3://bucket/key.txt: storage endpoint unreachable"):
        target.exists()


def test_missing_credentials_is_one_clear_line(
    s3_server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    target = FileTarget("s3://bucket/key.txt", endpoint_url=s3_server.url, skip_instance_cache=True)
    with pytest.raises(StorageError, match=r"cannot check s3://bucket/key.txt: no credentials found"):
        target.exists()


def test_storage_options_come_from_luigi_cfg_with_env_interpolation(
    s3_server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "luigi.cfg"
    config.write_text('[s3]\nendpoint_url = ${TEST_S3_ENDPOINT}\nconfig_kwargs = {"connect_timeout": 5}\n')
    use_luigi_config(monkeypatch, config)
    monkeypatch.setenv("TEST_S3_ENDPOINT", s3_server.url)
    target = FileTarget("s3://cfg-bucket/a.txt")
    target.location.fs.mkdir("cfg-bucket")
    with target.open("w") as handle:
        handle.write("configured")
    assert target.exists()
    assert target.location.fs.endpoint_url == s3_server.url


def test_unset_env_var_in_luigi_cfg_names_section_and_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "luigi.cfg"
    config.write_text("[s3]\nendpoint_url = ${DASHPIPE_TEST_UNSET_VARIABLE}\n")
    use_luigi_config(monkeypatch, config)
    monkeypatch.delenv("DASHPIPE_TEST_UNSET_VARIABLE", raising=False)
    with pytest.raises(TargetError, match=r"luigi.cfg \[s3\] endpoint_url"):
        FileTarget("s3://bucket/a.txt")


def test_keyword_options_override_luigi_cfg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "luigi.cfg"
    config.write_text("[s3]\nendpoint_url = http://127.0.0.1:1\n")
    use_luigi_config(monkeypatch, config)
    target = FileTarget("s3://bucket/a.txt", endpoint_url="http://127.0.0.1:2")
    assert target.location.fs.endpoint_url == "http://127.0.0.1:2"


def test_secret_options_never_appear_in_errors_or_repr() -> None:
    secret = "s3cr3t-value-that-must-not-leak"
    target = FileTarget("s3://bucket/a.txt", key="AKIA-TEST", secret=secret)
    assert secret not in repr(target) and secret not in str(target)
    dead = f"http://127.0.0.1:{free_port()}"
    failing = FileTarget(
        "s3://bucket/a.txt",
        key="AKIA-TEST",
        secret=secret,
        endpoint_url=dead,
        config_kwargs={"retries": {"max_attempts": 1}},
    )
    with pytest.raises(StorageError) as info:
        failing.exists()
    assert secret not in str(info.value) and "AKIA-TEST" not in str(info.value)


def test_password_in_url_reaches_the_backend_but_never_a_message() -> None:
    url = f"ftp://bob:hunter2@127.0.0.1:{free_port()}/out/x.txt"
    target = FileTarget(url)
    assert "hunter2" not in repr(target) and "hunter2" not in str(target)
    assert str(target) == url.replace("hunter2", "***")
    with pytest.raises(TargetError) as info:
        target.exists()  # nothing listens there
    assert "Connection refused" in str(info.value)
    assert "hunter2" not in str(info.value)
    with pytest.raises(TargetError) as info:
        FileTarget("nosuch://bob:hunter2@host/x")
    assert "hunter2" not in str(info.value)


def test_luigi_s3_section_written_for_luigi_contrib_works(
    s3_server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A luigi.cfg already written for luigi.contrib.s3 keeps working: its key names are translated."""
    config = tmp_path / "luigi.cfg"
    config.write_text(
        "[s3]\n"
        "aws_access_key_id = ${TEST_KEY}\n"
        "aws_secret_access_key = ${TEST_SECRET}\n"
        "region_name = eu-west-1\n"
        f"endpoint_url = {s3_server.url}\n"
    )
    use_luigi_config(monkeypatch, config)
    monkeypatch.setenv("TEST_KEY", "from-luigi-cfg")
    monkeypatch.setenv("TEST_SECRET", "also-from-luigi-cfg")
    target = FileTarget("s3://luigi-cfg-bucket/a.txt")
    target.location.fs.mkdir("luigi-cfg-bucket")
    with target.open("w") as handle:
        handle.write("translated")
    assert target.exists()
    assert target.location.fs.key == "from-luigi-cfg"
    assert target.location.fs.client_kwargs["region_name"] == "eu-west-1"
