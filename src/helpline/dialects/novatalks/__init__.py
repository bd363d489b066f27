"""Novatalks SDK API: a mobile or web SDK talks to the server as the contact.

REST under ``/api/v1/sdk`` authorised by the contact's ``pubsubToken`` (header ``access_token``), and the
real-time protocol at ``/ws`` (subscribe, keepalive, conversation and message events, typing both ways).
Push notifications go to a webhook configured per inbox.
"""

DIALECT = "novatalks"
