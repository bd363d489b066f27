"""Omnize ClientApi REST: one endpoint, dispatched on ``type`` and ``content``; conversations keyed by
(``token``, ``clientId``); triggers ``{status, clientId}`` and ``{message, clientId}`` to the token's webhook."""

DIALECT = "omnize_rest"
