"""``HELPLINE_FILE_STORE`` and ``HELPLINE_FILES_DIR``: which adapter, and where the local one writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpline.bootstrap import create_app
from helpline.config import from_env
from helpline.files.database import DatabaseFileStore
from helpline.files.local import LocalFileStore


def test_the_local_directory_is_the_default_and_can_be_moved(tmp_path: Path) -> None:
    settings = from_env({"HELPLINE_DATA_DIR": str(tmp_path)})
    assert (settings.file_store, settings.files_dir()) == ("local", str(tmp_path / "files"))
    shared = tmp_path / "shared"
    moved = from_env({"HELPLINE_DATA_DIR": str(tmp_path), "HELPLINE_FILES_DIR": str(shared)})
    assert moved.files_dir() == str(shared)


def test_a_store_that_does_not_exist_is_refused_by_name() -> None:
    assert from_env({"HELPLINE_FILE_STORE": " Database "}).file_store == "database"
    with pytest.raises(ValueError, match="HELPLINE_FILE_STORE is one of local, database, got 's3'"):
        from_env({"HELPLINE_FILE_STORE": "s3"})


@pytest.mark.parametrize(("name", "adapter"), [("local", LocalFileStore), ("database", DatabaseFileStore)])
def test_the_server_uses_the_store_it_is_told(tmp_path: Path, name: str, adapter: type) -> None:
    settings = from_env({"HELPLINE_DATA_DIR": str(tmp_path), "HELPLINE_FILE_STORE": name})
    app = create_app(settings)
    try:
        assert isinstance(app.state.services.files, adapter)
    finally:
        app.state.services.store.close_sync()
