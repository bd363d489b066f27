// What the console shows of a conversation and of a message, from the agent API's views: the names it
// shows, and messages kept by key so that a repeated or partial update merges into what is known.

const ORIGINS = {
  omnize_v1: 'Omnize ClientApi V1',
  omnize_rest: 'Omnize ClientApi REST',
  zenvia_bot: 'Zenvia External bot',
  omnidesk: 'Omnidesk live chat',
  novatalks_sdk: 'Novatalks SDK',
  novatalks: 'Novatalks SDK',
  agent: 'Agent API',
};

export function originName(conversation) {
  const dialect = conversation.origin?.dialect;
  return ORIGINS[dialect] || dialect || 'unknown API';
}

export function customerName(conversation) {
  const contact = conversation.contact;
  return (contact && (contact.name || contact.email || contact.phone)) || `Customer #${conversation.id}`;
}

export function normalizeMessage(raw) {
  if (raw.history) {
    return {
      key: `h${raw.position}`,
      history: true,
      order: [0, raw.position],
      direction: raw.direction,
      sender: raw.sender || {},
      content: raw.content || '',
      kind: 'text',
      time: raw.time,
    };
  }
  return {
    key: `m${raw.id}`,
    id: raw.id,
    history: false,
    order: [1, raw.seq],
    direction: raw.direction,
    sender: raw.sender || {},
    content: raw.content || '',
    kind: raw.content_type || raw.type || 'text',
    url: raw.url || null,
    status: raw.status || null,
    created_at: raw.created_at,
    attributes: raw.content_attributes || null,
    selected: raw.selected_value ?? raw.content_attributes?.selected_value ?? null,
    deleted: raw.deleted ? true : null,
    file: raw.file || null,
  };
}

export function present(value) {
  return value !== null && value !== undefined;
}

export function mergeMessage(old, fresh) {
  if (!old) return fresh;
  const merged = { ...old };
  for (const [name, value] of Object.entries(fresh)) {
    if (!present(value)) continue;
    if (name === 'sender') {
      merged.sender = { ...old.sender, ...Object.fromEntries(Object.entries(value).filter(([, v]) => present(v))) };
    } else merged[name] = value;
  }
  return merged;
}

// Earlier history (by position) before the live conversation (by sequence number).
export function compareOrder(a, b) {
  return a.order[0] - b.order[0] || a.order[1] - b.order[1];
}
