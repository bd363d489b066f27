// The widget's state, as pure functions over plain data: no DOM, no network (tested with node --test).

export const RECEIPTS = ['sent', 'delivered', 'seen'];

export function initial() {
  return { messages: [], byId: new Map(), lastId: 0, conversation: null, unread: 0 };
}

// Merge messages from any source (REST page, websocket, resume): each id once, newer updates win,
// a pending local message is replaced by the server's copy with the same echo_id; ordered by id.
export function merge(state, incoming, { open = false } = {}) {
  let added = 0;
  for (const message of incoming) {
    if (!message || typeof message.id !== 'number') continue;
    const known = state.byId.get(message.id);
    if (known) {
      if ((message.updated_at ?? 0) >= (known.updated_at ?? 0))
        Object.assign(known, message, { status: later(known.status, message.status) });
      continue;
    }
    const pending = message.echo_id ? state.messages.findIndex((m) => m.pending && m.echo_id === message.echo_id) : -1;
    if (pending >= 0) state.messages.splice(pending, 1);
    const copy = { ...message };
    state.byId.set(copy.id, copy);
    state.messages.push(copy);
    if (isFromTeam(copy)) added += 1;
  }
  state.messages.sort((a, b) => (a.pending ? Infinity : a.id) - (b.pending ? Infinity : b.id));
  for (const m of state.messages) if (!m.pending && m.id > state.lastId) state.lastId = m.id;
  if (!open) state.unread += added;
  return added;
}

export function addPending(state, echoId, content, file) {
  state.messages.push({ pending: true, echo_id: echoId, content, file, message_type: 'incoming', status: 'sending' });
}

// The server took it (200): shown as sent until its own copy arrives and takes the pending one's place.
export function sentPending(state, echoId) {
  const found = state.messages.find((m) => m.pending && m.echo_id === echoId);
  if (found && found.status === 'sending') found.status = 'sent';
}

export function failPending(state, echoId) {
  const found = state.messages.find((m) => m.pending && m.echo_id === echoId);
  if (found) found.status = 'failed';
}

// Statuses only move forward (a late "delivered" never hides "seen").
export function later(a, b) {
  const ia = RECEIPTS.indexOf(a);
  const ib = RECEIPTS.indexOf(b);
  if (b === 'failed' || ia < 0) return b ?? a;
  return ib > ia ? b : a;
}

export function isFromTeam(m) {
  return m.message_type === 'outgoing' && (m.sender_type === 'User' || m.sender_type === 'AgentBot');
}

// The team's messages the customer has not yet reported at ``status`` (delivered on arrival, seen when shown).
export function toReport(state, status) {
  return state.messages
    .filter((m) => !m.pending && isFromTeam(m) && RECEIPTS.indexOf(m.status) < RECEIPTS.indexOf(status))
    .map((m) => m.id);
}

export function markReported(state, ids, status) {
  for (const id of ids) {
    const m = state.byId.get(id);
    if (m) m.status = later(m.status, status);
  }
}

// Reconnect delay: exponential from 0.5 s to 30 s, with up to a quarter of jitter.
export function backoff(attempt, random = Math.random) {
  const base = Math.min(30_000, 500 * 2 ** Math.min(attempt, 10));
  return Math.round(base * (0.75 + random() * 0.25));
}

// What the panel shows above the log, from the conversation's status and the team's availability.
export function phase(conversation, settings) {
  if (settings?.refused) return 'refused';
  if (!conversation) {
    if (settings && settings.agents_online === 0 && !settings.queue_enabled) return 'offline';
    return settings && settings.prechat !== 'none' ? 'prechat' : 'new';
  }
  if (conversation.status === 'resolved') return 'ended';
  if (conversation.substatus === 'interacting') return 'assigned';
  if (conversation.status === 'pending') return 'bot';
  return 'waiting';
}

export function echoId(random = Math.random) {
  return `w${Date.now().toString(36)}${Math.floor(random() * 1e9).toString(36)}`;
}

// The options of a card or quick reply: [{title, value, kind: "postback"|"link", url}].
export function options(message) {
  const buttons = message.content_attributes?.buttons || [];
  return buttons.map((b) =>
    b.type === 'link'
      ? { title: b.title, kind: 'link', url: b.url }
      : { title: b.title, value: b.value, kind: 'postback' },
  );
}

// A feedback answer: the rating, and the comment after a colon when there is one.
export function feedbackValue(rating, comment) {
  const text = (comment || '').trim();
  return text ? `${rating}: ${text}` : String(rating);
}
