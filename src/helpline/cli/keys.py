"""``helpline rotate-key``: seal every stored secret under a new server key (see ``store.secret_box``)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpline.cli.output import emit
from helpline.config import from_env
from helpline.store import secret_box
from helpline.store.base import Store


def add_parsers(top: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    rotate = top.add_parser(
        "rotate-key",
        help="re-encrypt every stored signing secret under a new server key, in one transaction",
        description=(
            "With the key file (DATA_DIR/secret.key): makes a new key and re-encrypts every stored secret "
            "under it; the old key is kept as secret.key.old. With $HELPLINE_SECRET_KEY=NEW,OLD: "
            "re-encrypts everything under NEW (the first key), after which OLD can be dropped."
        ),
    )
    rotate.add_argument(
        "--print-new-key",
        action="store_true",
        help="only print a freshly generated key (for $HELPLINE_SECRET_KEY) and change nothing",
    )
    common(rotate)


def _rotate_key(args: argparse.Namespace, store: Store) -> int:
    if args.print_new_key:
        key = secret_box.new_key()
        emit({"key": key}, args.json, human=key)
        return 0
    if os.environ.get(secret_box.ENV, "").strip():
        box = secret_box.current()
        resealed = store.write_sync(lambda uow: secret_box.reseal(uow.db, box, everything=True))
        emit({"key_id": box.sealing_id, "resealed": resealed, "key_from": secret_box.ENV}, args.json)
        return 0
    key_dir = Path(args.data_dir or from_env().data_dir)
    key_id, resealed = secret_box.rotate_file_key(key_dir, store.write_sync)
    emit({"key_id": key_id, "resealed": resealed, "key_from": str(key_dir / secret_box.KEY_FILE)}, args.json)
    return 0


COMMANDS: dict[tuple[str, str | None], Callable[[argparse.Namespace, Store], int]] = {
    ("rotate-key", None): _rotate_key
}
