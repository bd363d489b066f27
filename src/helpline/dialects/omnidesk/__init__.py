"""Omnidesk live chat: an app, chatbot or widget backend escalates chat sessions to agents; the agents'
side reaches it through hookpoints under the ``chatServer`` base each session gives."""

DIALECT = "omnidesk"
HOOKPOINT_KIND = "omnidesk_chat_server"  # the kind of the endpoint each session's hookpoints go to
