"""Check luigi.cfg before anything reads it: one clear error naming file, line, section and key.

luigi reads its configuration files with :mod:`configparser` as ``import luigi`` runs, so a line
without ``=`` is a traceback before any of our code has run, and configparser also splits on
``:`` (``endpoint_url http://host`` quietly becomes the key ``endpoint_url http``). Values are
only read, and so only fail, much later (a bad ``[notify] timeout`` at the end of a long run).
This module reads the same files as luigi, in the same order and with the same parser settings,
and checks every key dash-pipeline reads against one table, :data:`RULES`. A line luigi itself
cannot parse stops ``import luigi`` first: :mod:`pipelines.config.unreadable_config` reports that one.
"""

from __future__ import annotations

import configparser
import math
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipelines.common.suggest import did_you_mean
from pipelines.config.errors import ConfigFileError
from pipelines.config.unreadable_config import describe

# luigi.configuration.LuigiConfigParser._config_paths, in luigi 3.8.1; LUIGI_CONFIG_PATH comes last.
LUIGI_CONFIG_PATHS = ("/etc/luigi/client.cfg", "/etc/luigi/luigi.cfg", "client.cfg", "luigi.cfg")
CFG_EXTENSIONS = ("cfg", "conf", "ini")  # luigi picks the parser by extension; .toml is not ours to check
_ENV = re.compile(r"\$\{([^}]+)\}")  # luigi's EnvironmentInterpolation
_HOOK = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_INLINE_COMMENT = re.compile(r"\s[#;]")


@dataclass(frozen=True)
class Rule:
    """How one key's value is checked: ``check`` returns the problem, or None when the value is fine."""

    check: Callable[[str], str | None]
    reads_env: bool = True  # an unset ${VAR} fails: dash-pipeline reads this key on every run


def _boolean(value: str) -> str | None:
    if value.lower() in configparser.ConfigParser.BOOLEAN_STATES:
        return None
    return "expected true or false (also yes/no, on/off, 1/0)"


def _number(low: float, high: float = math.inf, *, integer: bool = False, low_open: bool = False) -> Rule:
    kind = "a whole number" if integer else "a number"

    def check(value: str) -> str | None:
        try:
            number = int(value) if integer else float(value)
        except ValueError:
            return f"expected {kind}"
        if not math.isfinite(number):
            return f"expected {kind}"
        if number < low or (low_open and number == low) or number > high:
            bound = f"above {low:g}" if low_open else f"at least {low:g}"
            return f"expected {kind} {bound}" + (f" and at most {high:g}" if high < math.inf else "")
        return None

    return Rule(check)


def _choice(*choices: str) -> Rule:
    def check(value: str) -> str | None:
        if value in choices:
            return None
        return f"expected one of {', '.join(choices)}{did_you_mean(value, choices)}"

    return Rule(check)


def _url(*schemes: str, empty: bool = False) -> Rule:
    def check(value: str) -> str | None:
        if empty and not value:
            return None
        parts = urlsplit(value)
        if parts.scheme in schemes and parts.netloc and " " not in value:
            return None
        return f"expected a URL starting with {' or '.join(s + '://' for s in schemes)}"

    return Rule(check)


def _hooks(value: str) -> str | None:
    bad = [ref for ref in re.split(r"[,\s]+", value) if ref and not _HOOK.match(ref)]
    return f"{bad[0]!r} is not module:function" if bad else None


def _addresses(value: str) -> str | None:
    bad = [
        a.strip() for a in value.split(",") if a.strip() and not re.fullmatch(r"[^@\s]+@[^@\s]+", a.strip())
    ]
    return f"{bad[0]!r} is not an email address (separate addresses with commas)" if bad else None


def _one_word(value: str) -> str | None:
    return "expected one word (no spaces)" if not value or re.search(r"\s", value) else None


def _db_url(value: str) -> str | None:
    return None if "://" in value else "expected a database URL such as sqlite:///path/history.db"


def _text(value: str) -> str | None:
    return None


# Every key dash-pipeline reads, and luigi's keys where a bad value would crash a run. In our own
# sections ([dashpipe], [notify], [hooks]) any other key is a mistake; luigi's sections may hold
# keys we do not know.
RULES: dict[str, dict[str, Rule]] = {
    "dashpipe": {
        "records": Rule(_text),
        "cache_dir": Rule(_text),
        "durable_records": Rule(_boolean),
        "task_logs": Rule(_text),
        "run_journal": Rule(_boolean),
    },
    "notify": {
        "webhook": _url("http", "https", empty=True),
        "when": _choice("failure", "always", "never"),
        "timeout": _number(0, 3600, low_open=True),
        "email_to": Rule(_addresses),
        "email_from": Rule(_addresses),
        "smtp_host": Rule(_one_word),
        "smtp_port": _number(1, 65535, integer=True),
        "smtp_starttls": Rule(_boolean),
        "smtp_user": Rule(_text),
        "smtp_password": Rule(_text),
    },
    "hooks": {"on_failure": Rule(_hooks), "on_success": Rule(_hooks), "on_retry": Rule(_hooks)},
    "core": {
        "default_scheduler_url": _url("http", "https"),
        "autoload_range": Rule(_boolean),
        "no_configure_logging": Rule(_boolean),
        "rpc_retry_attempts": _number(0, integer=True),
        "rpc_retry_wait": _number(0),
    },
    "worker": {
        "timeout": _number(0),
        "check_complete_on_run": Rule(_boolean),
        "keep_alive": Rule(_boolean),
        "retry_external_tasks": Rule(_boolean),
        "ping_interval": _number(0, low_open=True),
        "wait_interval": _number(0, low_open=True),
        "max_reschedules": _number(0, integer=True),
    },
    "task_history": {"db_connection": Rule(_db_url)},
    "retcode": {
        key: _number(0, 255, integer=True)
        for key in (
            "already_running",
            "missing_data",
            "not_run",
            "task_failed",
            "scheduling_error",
            "unhandled_exception",
        )
    },
}
OWN_SECTIONS = ("dashpipe", "notify", "hooks", "retcode")  # retcode: luigi's keys are all listed
# Every value of [resources] is read with int() by luigi's scheduler.
WHOLE_SECTIONS = {"resources": _number(0, integer=True)}
STORAGE_SECTIONS = {"s3", "s3a", "gcs", "gs", "memory", "file", "local", "mysql", "abfs", "az", "adl"}


@dataclass(frozen=True)
class Place:
    path: str
    line: int


def config_paths() -> list[str]:
    """The files luigi reads (or has read), in its order: a later file's values win."""
    if os.environ.get("LUIGI_CONFIG_PARSER", "cfg") not in CFG_EXTENSIONS:
        return []  # the TOML parser: luigi's own checks apply
    loaded = sys.modules.get("luigi.configuration")
    if loaded is not None:
        paths = list(loaded.LuigiConfigParser._config_paths)
    else:
        paths = list(LUIGI_CONFIG_PATHS)
        extra = os.environ.get("LUIGI_CONFIG_PATH")
        if extra and os.path.splitext(extra)[1][1:] in ("", *CFG_EXTENSIONS):
            paths.append(extra)
    return [path for path in paths if os.path.isfile(path)]


def shown(path: str) -> str:
    """``path`` as a user would type it: relative when it is under the working directory."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _new_parser() -> configparser.ConfigParser:
    # luigi's settings: strict, '=' and ':' as delimiters, no inline comments, case-sensitive keys.
    parser = configparser.ConfigParser(interpolation=configparser.BasicInterpolation())
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    return parser


def _scan(text: str) -> Iterator[tuple[int, str | None, str | None, str]]:
    """(line number, section, key or None, raw line) for each line, as configparser splits it."""
    section: str | None = None
    key: str | None = None
    indent = 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            yield number, section, None, line
            continue
        level = len(line) - len(line.lstrip())
        if key is not None and level > indent:
            yield number, section, key, line  # a continuation of the value above
            continue
        indent = level
        header = configparser.ConfigParser.SECTCRE.match(stripped)
        if header:
            section, key = header.group("header"), None
            yield number, section, None, line
            continue
        option = configparser.ConfigParser.OPTCRE.match(stripped)
        key = option.group("option").strip() if option else None
        yield number, section, key, line


def _read_one(path: str, text: str) -> configparser.ConfigParser:
    """Parse one file as luigi would; a line it cannot read is a ConfigFileError naming it."""
    parser = _new_parser()
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        raise ConfigFileError(describe(exc, shown(path), text)) from None
    return parser


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"{shown(path)}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigFileError(f"{shown(path)}: cannot be read: {exc.strerror}") from None


@dataclass
class _Files:
    """All files merged as luigi merges them, and where each key's final value was written."""

    parser: configparser.ConfigParser
    places: dict[tuple[str, str], Place]
    lines: dict[tuple[str, str], str]

    def where(self, section: str, key: str) -> str:
        place = self.places.get((section, key))
        prefix = f"{shown(place.path)}:{place.line}: " if place else "luigi.cfg: "
        return f"{prefix}[{section}] {key}"


def _load() -> _Files:
    merged = _new_parser()
    places: dict[tuple[str, str], Place] = {}
    lines: dict[tuple[str, str], str] = {}
    for path in config_paths():
        text = _read_text(path)
        _read_one(path, text)
        merged.read_string(text, source=path)  # separate sources: a key may be set again in a later file
        for number, section, key, line in _scan(text):
            if (
                section is not None
                and key is not None
                and configparser.ConfigParser.OPTCRE.match(line.strip())
            ):
                places[(section, key)] = Place(path, number)
                lines[(section, key)] = line.strip()
    return _Files(merged, places, lines)


def _value(files: _Files, section: str, key: str, rule: Rule | None) -> str | None:
    """The value luigi would return, or None when an unset ${VAR} may be fine (luigi reads it lazily)."""
    try:
        raw = files.parser.get(section, key)
    except configparser.InterpolationError as exc:
        problem = exc.message.split("\n")[0]
        raise ConfigFileError(f"{files.where(section, key)}: {problem} (write %% for a literal %)") from None
    for name in _ENV.findall(raw):
        if name not in os.environ:
            if rule is None or not rule.reads_env:
                return None
            raise ConfigFileError(f"{files.where(section, key)}: ${{{name}}} is not set in the environment")
    return _ENV.sub(lambda match: os.environ[match.group(1)], raw)


def _check_value(files: _Files, section: str, key: str, rule: Rule) -> None:
    if not files.parser.has_option(section, key):
        return
    value = _value(files, section, key, rule)
    if value is None:
        return
    problem = _inline_comment(files.lines.get((section, key), "")) or rule.check(value.strip())
    if problem:
        raise ConfigFileError(f"{files.where(section, key)}: {value.strip()!r}: {problem}")


def _inline_comment(line: str) -> str | None:
    _key, _delimiter, value = line.partition("=")
    if _INLINE_COMMENT.search(value):
        return "luigi.cfg has no comments after a value: put the comment on a line of its own"
    return None


def _storage_sections() -> set[str]:
    try:
        import fsspec  # imported by the storage layer anyway; only its list of protocols is read

        return STORAGE_SECTIONS | set(fsspec.available_protocols())
    except ImportError:
        return STORAGE_SECTIONS


def check() -> None:
    """Check every file luigi reads; raise :class:`ConfigFileError` on the first mistake."""
    files = _load()
    storage = _storage_sections()
    defaults = set(files.parser.defaults())
    for section in files.parser.sections():
        keys = [key for key in files.parser.options(section) if key not in defaults]
        for key in keys:
            if re.search(r"\s", key):
                words = files.lines.get((section, key), key).split(None, 1)
                fix = f" (write {words[0]} = {words[1]})" if len(words) == 2 else ""
                raise ConfigFileError(
                    f"{files.where(section, key)}: a key cannot contain a space: is '=' missing?{fix}"
                )
        rules = RULES.get(section, {})
        for key in keys:
            name = key.replace("-", "_")  # luigi accepts dashes for underscores
            rule = rules.get(name) or WHOLE_SECTIONS.get(section)
            if rule is not None:
                _check_value(files, section, key, rule)
            elif section in OWN_SECTIONS:
                raise ConfigFileError(
                    f"{files.where(section, key)}: unknown key{did_you_mean(name, rules)}; "
                    f"[{section}] takes {', '.join(rules)}"
                )
            elif section in storage:
                _check_storage_value(files, section, key)


def _check_storage_value(files: _Files, section: str, key: str) -> None:
    value = _value(files, section, key, None)
    if value is None:
        return  # an unset ${VAR}: the storage layer reports it if this protocol is ever used
    problem = _inline_comment(files.lines.get((section, key), ""))
    if problem:
        raise ConfigFileError(f"{files.where(section, key)}: {value.strip()!r}: {problem}")
    text = value.strip()
    if text[:1] in "{[":
        import json

        try:
            json.loads(text)
        except ValueError as exc:
            raise ConfigFileError(
                f"{files.where(section, key)}: a value starting with {text[0]!r} is read as JSON, "
                f"and this is not JSON: {exc}"
            ) from None
