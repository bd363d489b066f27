"""What a request handler may use; built once by :mod:`helpline.bootstrap` and handed to each surface."""

from __future__ import annotations

from dataclasses import dataclass

from helpline.config import Settings
from helpline.core.files import FileStore
from helpline.realtime.hub import Hub
from helpline.store.base import Store


@dataclass(slots=True)
class Services:
    store: Store
    settings: Settings
    hub: Hub
    files: FileStore

    def public_url(self, path: str) -> str:
        """Absolute URL for a path of ours, for receivers outside (webhooks carry file URLs)."""
        return self.settings.resolved_public_url() + path
