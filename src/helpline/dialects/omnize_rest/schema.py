"""The one request body of ClientApi REST: the fields the seed and the later docs name, nothing else."""

from __future__ import annotations

import msgspec

from helpline.web.params import Id


class RestRequest(msgspec.Struct, forbid_unknown_fields=True):
    token: str | None = None
    type: str | None = None
    content: str | None = None
    departmentId: Id | str | None = None  # the vendor's field names
    clientId: int | str | None = None
    customerName: str | None = None
    customerEmail: str | None = None
    customerPhone: str | None = None
    customerCpf: str | None = None


TYPES = ("info", "message")
INFO_CONTENTS = ("init", "typing", "cleared", "finish", "departments")
