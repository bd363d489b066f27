// Delivery receipts for the customer's messages: one that reaches this console live is marked
// `delivered`, so the customer's side can tell it reached an agent before anyone has read it. Marks are
// gathered for a moment and sent as one call per conversation (up to its newest message), so a burst of
// messages never costs a call each.

import { api } from './api.js';

const GATHER_MS = 50;

function waiting(message, upTo) {
  return (
    !message.history &&
    message.id &&
    message.id <= upTo &&
    message.direction === 'inbound' &&
    (message.status === 'sent' || message.status === 'failed')
  );
}

export class Deliveries {
  constructor(state, base) {
    this.state = state;
    this.base = base;
    this.pending = new Map(); // conversation id -> the newest message id to mark
    this.timer = null;
  }

  // A message just arrived live for conversation `id`.
  arrived(id, message) {
    if (!this.state.features.receipts || !waiting(message, message.id)) return;
    this.pending.set(id, Math.max(this.pending.get(id) || 0, message.id));
    if (this.timer === null) this.timer = setTimeout(() => this.flush(), GATHER_MS);
  }

  flush() {
    this.timer = null;
    const batch = [...this.pending];
    this.pending.clear();
    for (const [id, upTo] of batch) this.send(id, upTo);
  }

  send(id, upTo) {
    const conversation = this.state.conversations.get(id);
    // Seen in the meantime (the agent had it open): nothing is left to mark.
    if (!conversation || ![...conversation.messages.values()].some((m) => waiting(m, upTo))) return;
    api('POST', `${this.base}/conversations/${id}/delivered`, { up_to: upTo }).catch((error) => {
      // A server without delivery receipts has no such route: stop asking it. Any other refusal (the
      // conversation moved out of sight) only loses a receipt; the statuses arrive as message.updated.
      if (error.status === 404 && !error.known) this.state.features.receipts = false;
    });
  }
}
