"""One summary per run to a webhook, over a real socket; a notifier that is down never fails the run."""

from __future__ import annotations

import email
import email.policy
import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipelines import ExitCode
from tests.helpers import run_cli
from tests.servers import free_port

PIPELINE = """
pipeline: nightly
params:
  root: {type: string}
steps:
  good:
    shell: "echo ok > {outputs.o}"
    outputs: {o: "{root}/good.txt"}
  bad:
    shell: "echo 'warehouse unreachable' >&2; exit 4"
    priority: 10
    outputs: {o: "{root}/bad.txt"}
  after_bad:
    shell: "cp {inputs.bad} {outputs.o}"
    inputs: {bad: bad.o}
    outputs: {o: "{root}/after.txt"}
"""


class PostReceiver:
    """A local HTTP server that keeps the body of every POST it receives, decompressed."""

    def __init__(self) -> None:
        self.posts: list[bytes] = []
        received = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "br":
                    import brotli

                    body = brotli.decompress(body)
                received.append(body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Hook(PostReceiver):
    """A webhook whose URL holds a token, as Slack's do."""

    @property
    def url(self) -> str:
        return f"http://{self.address}/hooks/T0K3N-secret"

    @property
    def bodies(self) -> list[dict]:
        return [json.loads(body) for body in self.posts]


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    yield server
    server.close()


def run(tmp_path: Path, config: str, *steps: str):
    (tmp_path / "nightly.yaml").write_text(PIPELINE)
    return run_cli(
        "run", "nightly.yaml", *steps, "--root", str(tmp_path / "out"), "-k", cwd=tmp_path, config=config
    )


def test_a_failed_run_sends_one_summary(hook: Hook, tmp_path: Path) -> None:
    result = run(tmp_path, f"[notify]\nwebhook = {hook.url}\n")
    assert result.exit_code == ExitCode.TASK_FAILED
    assert len(hook.bodies) == 1  # one per run, not one per task
    body = hook.bodies[0]
    assert body["run"]["exit_code"] == 1 and body["run"]["summary"]["failed"] == 1
    assert (
        "FAILED" in body["text"] and "nightly.bad" in body["text"] and "warehouse unreachable" in body["text"]
    )
    assert "T0K3N-secret" not in result.output


def test_the_webhook_json_holds_each_failure_beside_the_text(hook: Hook, tmp_path: Path) -> None:
    result = run(tmp_path, f"[notify]\nwebhook = {hook.url}\n")
    assert result.exit_code == ExitCode.TASK_FAILED, result.output
    (body,) = hook.bodies
    out = tmp_path / "out"
    (log,) = (tmp_path / ".dashpipe" / "logs").glob("*/nightly.bad_*.log")
    run_id = log.parent.name
    error = "nightly.yaml: steps.bad: command exited with 4: warehouse unreachable"
    # The failed task only: the one not run because of it is counted, not listed as a failure.
    assert body["failures"] == [
        {
            "name": f"nightly.bad(root={out})",
            "family": "nightly.bad",
            "outcome": "failed",
            "error": error,
            "error_lines": [error],
            "log": str(log),
        }
    ]
    seconds = body["run"].pop("seconds")
    assert isinstance(seconds, float) and seconds > 0
    assert body["run"] == {
        "id": run_id,
        "pipeline": "nightly.yaml",
        "outcome": "failed",
        "exit_code": 1,
        "summary": {"ran": 1, "up to date": 0, "failed": 1, "error": 0, "missing input": 0, "not run": 1},
    }
    assert body["text"].startswith(f"dashpipe run {run_id} of nightly.yaml FAILED (exit 1)\n")


def test_a_password_in_an_error_stays_out_of_the_webhook_json(hook: Hook, tmp_path: Path) -> None:
    (tmp_path / "nightly.yaml").write_text(
        PIPELINE.replace("warehouse unreachable", "cannot reach sftp://etl:hunter2@db.example.com/orders")
    )
    config = f"[notify]\nwebhook = {hook.url}\n"
    result = run_cli(
        "run", "nightly.yaml", "bad", "--root", str(tmp_path / "out"), cwd=tmp_path, config=config
    )
    assert result.exit_code == ExitCode.TASK_FAILED, result.output
    (body,) = hook.bodies
    assert "hunter2" not in json.dumps(body)
    masked = "cannot reach sftp://etl:***@db.example.com/orders"
    assert body["failures"][0]["error"].endswith(masked) and masked in body["text"]


def test_success_is_quiet_unless_asked(hook: Hook, tmp_path: Path) -> None:
    assert run(tmp_path, f"[notify]\nwebhook = {hook.url}\n", "good").exit_code == ExitCode.OK
    assert hook.bodies == []
    (tmp_path / "out" / "good.txt").unlink()
    config = f"[notify]\nwebhook = {hook.url}\nwhen = always\n"
    assert run(tmp_path, config, "good").exit_code == ExitCode.OK
    assert len(hook.bodies) == 1 and "succeeded" in hook.bodies[0]["text"]
    assert hook.bodies[0]["run"]["outcome"] == "succeeded" and hook.bodies[0]["failures"] == []


def test_a_notifier_that_is_down_never_fails_the_run(tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}/hooks/T0K3N-secret"
    result = run(tmp_path, f"[notify]\nwebhook = {down}\nwhen = always\n", "good")
    assert result.exit_code == ExitCode.OK
    assert "dashpipe: warning: notification to http://127.0.0.1:" in result.stderr
    assert "T0K3N-secret" not in result.output


class Mailbox:
    """A real SMTP server (aiosmtpd) on a free local port, keeping what it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[dict] = []
        received = self.messages

        class Handler:
            async def handle_DATA(self, server, session, envelope) -> str:
                received.append({"to": envelope.rcpt_tos, "data": envelope.content.decode()})
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    server = Mailbox()
    yield server
    server.close()


def test_a_failed_run_emails_one_summary(mailbox: Mailbox, hook: Hook, tmp_path: Path) -> None:
    config = (
        f"[notify]\nwebhook = {hook.url}\nemail_to = oncall@example.com, lead@example.com\n"
        f"email_from = etl@example.com\nsmtp_host = 127.0.0.1\nsmtp_port = {mailbox.port}\n"
    )
    result = run(tmp_path, config)
    assert result.exit_code == ExitCode.TASK_FAILED
    assert len(hook.bodies) == 1 and len(mailbox.messages) == 1  # both channels, once each
    (message,) = mailbox.messages
    assert message["to"] == ["oncall@example.com", "lead@example.com"]
    mail = email.message_from_string(message["data"], policy=email.policy.default)
    assert mail["Subject"] == "[dashpipe] nightly.yaml FAILED"
    text = mail.get_content().replace("\r\n", "\n")
    out = tmp_path / "out"
    # What failed with the first lines of its error and where its log is; what did not run and why.
    (log,) = (tmp_path / ".dashpipe" / "logs").glob("*/nightly.bad__*.log")
    assert f"• failed: nightly.bad(root={out})\n" in text and f"\n    full log: {log}\n" in text
    assert "\n    nightly.yaml: steps.bad: command exited with 4: warehouse unreachable\n" in text
    assert (
        f"• not run: nightly.after_bad(root={out}): a task it needs failed (nightly.bad(root={out}))" in text
    )
    assert "dashpipe: warning" not in result.output


def test_smtp_server_down_is_a_warning_and_the_run_still_completes(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here
    config = (
        f"[notify]\nemail_to = oncall@example.com\nsmtp_host = 127.0.0.1\nsmtp_port = {port}\nwhen = always\n"
    )
    (tmp_path / "nightly.yaml").write_text(PIPELINE)
    result = run_cli(
        "run", "nightly.yaml", "good", "--root", str(tmp_path / "out"), cwd=tmp_path, config=config
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert (tmp_path / "out" / "good.txt").read_text() == "ok\n"
    assert f"dashpipe: warning: email to SMTP server 127.0.0.1:{port} failed" in result.output


class SentryIngest(PostReceiver):
    """Stands in for Sentry's ingest endpoint: the real SDK posts its envelopes here."""

    @property
    def dsn(self) -> str:
        return f"http://publickey@{self.address}/42"

    @property
    def envelopes(self) -> list[str]:
        return [body.decode() for body in self.posts]


def test_failed_task_is_reported_to_sentry_when_sentry_dsn_is_set(tmp_path: Path) -> None:
    ingest = SentryIngest()
    try:
        (tmp_path / "nightly.yaml").write_text(PIPELINE)
        result = run_cli(
            "run",
            "nightly.yaml",
            "--root",
            str(tmp_path / "out"),
            "-k",
            cwd=tmp_path,
            env={"SENTRY_DSN": ingest.dsn},
        )
    finally:
        ingest.close()
    assert result.exit_code == ExitCode.TASK_FAILED, result.output
    assert len(ingest.envelopes) == 1  # the failed task only
    (envelope,) = ingest.envelopes
    assert "nightly.bad" in envelope and "warehouse unreachable" in envelope
    assert '"run_id"' in envelope and '"task_family":"nightly.bad"' in envelope.replace(" ", "")
    assert "dashpipe: warning" not in result.output
    assert ingest.dsn not in result.output
