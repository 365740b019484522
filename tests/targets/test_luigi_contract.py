"""luigi's own FileSystemTargetTestMixin, run against FileTarget on every backend.

The mixin is luigi's definition of a file target (vendored in luigi_target_contract.py);
a FileTarget that passes it can stand in for luigi.LocalTarget or luigi's S3Target.
"""

from __future__ import annotations

import unittest
import uuid
from pathlib import Path

import pytest

from targets import FileTarget
from tests.conftest import Backend, make_backend
from tests.targets.luigi_target_contract import FileSystemTargetTestMixin


class _OnBackend(FileSystemTargetTestMixin, unittest.TestCase):
    __test__ = False  # only the subclasses below name a backend
    backend_name = ""
    backend: Backend

    @pytest.fixture(autouse=True)
    def _backend(self, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        self.backend = make_backend(self.backend_name, request, tmp_path)

    def create_target(self, format=None) -> FileTarget:
        return self.backend.target(f"contract-{uuid.uuid4().hex[:8]}", format=format)

    def assertCleanUp(self, tmp_path: str = "") -> None:
        # luigi's hook: no write temporary may be left beside the target.
        fs = self.backend.fs()
        root = self.backend.root
        found = fs.find(root) if fs.exists(root) else []
        self.assertEqual([path for path in found if ".dashpipe-tmp-" in path], [])


class TestLocalDisk(_OnBackend):
    __test__ = True
    backend_name = "local"


class TestMemory(_OnBackend):
    __test__ = True
    backend_name = "memory"


class TestS3(_OnBackend):
    __test__ = True
    backend_name = "s3"


class TestGCS(_OnBackend):
    __test__ = True
    backend_name = "gcs"
