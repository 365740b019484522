"""Validation problems, each pinned to a file, line and key path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipelines.yaml.source import KeyPath, Position


def dotted(key_path: KeyPath) -> str:
    """``('steps', 'clean', 'inputs', 0)`` → ``steps.clean.inputs[0]``."""
    text = ""
    for part in key_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


@dataclass(frozen=True)
class Issue:
    file: Path
    position: Position
    key_path: KeyPath
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.position.line}:{self.position.column}"
        return f"{where}: {dotted(self.key_path)}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": str(self.file),
            "line": self.position.line,
            "column": self.position.column,
            "key": dotted(self.key_path),
            "message": self.message,
        }
