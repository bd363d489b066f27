"""The SDK's conversation shapes: the brief one a new channel answers with, and the whole one
``conversation.status_changed`` carries (with its inbox)."""

from __future__ import annotations

from helpline.core.model import Conversation, ConversationState, Department
from helpline.dialects.novatalks import views
from helpline.dialects.novatalks.views import JSON


def conversation_brief(conversation: Conversation) -> JSON:
    status, substatus = views.status_of(conversation.state)
    return {"id": conversation.id, "status": status, "substatus": substatus}


def inbox_json(department: Department | None, department_id: int) -> JSON:
    return {
        "id": department_id,
        "name": department.name if department else "",
        "additional_settings": {
            "autoanswer": bool(department and department.auto_assign),
            "utilization": 0,
            "wrapup_code": False,
            "wrapup_timeout": 0,
            "alerting_timeout": department.ringing_max_time if department else 0,
            "conversation_type": "chat",
            "auto_assignment_limit": department.capacity if department else 0,
        },
    }


def conversation_full(
    lookup: views.Lookup, conversation: Conversation, state: ConversationState, assignee_id: int | None
) -> JSON:
    """The whole conversation, as ``conversation.status_changed`` carries it; ``state`` and the assignee
    are those the event announced (the stored row may have moved on since)."""
    status, substatus = views.status_of(state)
    inbox_id = conversation.origin_department_id
    contact = lookup.contact(conversation.contact_id) if conversation.contact_id else None
    token = lookup.uow.sdk.contact_tokens.by_contact(contact.id) if contact else None
    assignee = lookup.agent(assignee_id) if assignee_id is not None else None
    return {
        "account_id": conversation.account_id,
        "id": conversation.id,
        "inbox_id": inbox_id,
        "inbox": inbox_json(lookup.department(conversation.account_id, inbox_id), inbox_id),
        "status": status,
        "substatus": substatus,
        "priority": 0,
        "subpriority": 0,
        "assignee_id": assignee_id,
        "team_id": None,
        "channel": views.CHANNEL,
        "additional_attributes": {"chatId": None, "contactSource": "chat"},
        "custom_attributes": {},
        "dialog_id": conversation.hash,
        "messages": [],
        "meta": {
            "sender": views.contact_meta(contact, token.identifier if token else None) if contact else None,
            "assignee": views.assignee_meta(assignee),
            "team": None,
            "labels": [],
            "mentions": [],
        },
        "labels": [],
        "can_reply": state is not ConversationState.FINISHED,
        "snoozed_until": None,
        "agent_last_seen_at": 0,
        "contact_last_seen_at": 0,
        "timestamp": views.ms(conversation.updated_at or conversation.created_at),
        "created_at": views.ms(conversation.created_at),
        "session": None,
        "source_id": None,
    }
