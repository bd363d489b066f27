"""Types for the numbers of request bodies: what msgspec checks while decoding, so nothing wider gets in.

A JSON number has no size limit and msgspec reads ``99999999999999999999999`` as a Python int; a field
typed :data:`Id` or :data:`Int64` refuses it while decoding, naming the field, before a database driver
meets a number its column cannot hold.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from helpline.core.values import MAX_ID, MIN_INT

Id = Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)]
Int64 = Annotated[int, msgspec.Meta(ge=MIN_INT, le=MAX_ID)]
PositiveId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
