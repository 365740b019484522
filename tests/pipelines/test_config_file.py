"""luigi.cfg mistakes end in one error naming file:line, section and key (pipelines.config.config_file)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines.config import config_file
from pipelines.config.errors import ConfigFileError

REPO = Path(__file__).resolve().parents[2]


def _check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> str:
    config = tmp_path / "luigi.cfg"
    config.write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(config_file, "config_paths", lambda: [str(config)])
    with pytest.raises(ConfigFileError) as caught:
        config_file.check()
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("[s3]\n\nendpoint_url localhost\n", ["luigi.cfg:3:", "[s3]", "cannot read this line"]),
        ("[s3]\nendpoint_url http://h:9000\n", ["luigi.cfg:2:", "endpoint_url http", "endpoint_url = http"]),
        ('[s3]\nconfig_kwargs = {"a": {"b": 3}\n', ["luigi.cfg:2:", "config_kwargs", "not JSON"]),
        ("[notify]\nwhen = sometimes\n", ["luigi.cfg:2:", "[notify] when", "failure, always, never"]),
        ("[notify]\ntimeout = nan\n", ["[notify] timeout", "expected a number"]),
        ("[notify]\nsmtp_port = 99999\n", ["[notify] smtp_port", "at most 65535"]),
        ("[dashpipe]\ndurable_records = maybe\n", ["[dashpipe] durable_records", "true or false"]),
        ("[notify]\nwebhok = http://x\n", ["[notify] webhok", "did you mean 'webhook'"]),
        ("[notify]\nwebhook = ${DASHPIPE_UNSET_X}\n", ["luigi.cfg:2:", "DASHPIPE_UNSET_X"]),
        ("[notify]\nwhen = failure   # or always\n", ["[notify] when", "comment"]),
    ],
)
def test_mistake_names_file_line_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, fragments: list[str]
) -> None:
    message = _check(tmp_path, monkeypatch, text)
    for fragment in fragments:
        assert fragment in message, message


def test_repository_luigi_cfg_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config_file, "config_paths", lambda: [str(REPO / "luigi.cfg")])
    config_file.check()


def test_every_example_in_the_repository_luigi_cfg_passes_once_uncommented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What luigi.cfg shows commented out is valid as written: uncommenting a line never breaks it."""
    setting = re.compile(r"^(?:# )?(\[[a-z0-9_]+\]|[a-z_-]+ = .*)$")
    lines = [
        match.group(1)
        for line in (REPO / "luigi.cfg").read_text().splitlines()
        if (match := setting.match(line))
    ]
    assert len(lines) > 20, "the examples are no longer recognised"
    uncommented = tmp_path / "luigi.cfg"
    uncommented.write_text("\n".join(lines) + "\n")
    for name in re.findall(r"\$\{(\w+)\}", uncommented.read_text()):
        monkeypatch.setenv(name, "https://example.com/x" if "URL" in name else "x")
    monkeypatch.setattr(config_file, "config_paths", lambda: [str(uncommented)])
    config_file.check()
