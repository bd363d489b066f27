// What the console knows of the server, and how it keeps up with it. Every change from the server goes
// through `refresh` (a conversation) or `addMessage` (a message), both of which are safe to repeat, so a
// replayed or doubled event never shows anything twice. The screens read this state; they never own it.

import { api, onServerDate } from './api.js';
import { Deliveries } from './deliveries.js';
import { Live } from './live.js';
import { mergeMessage, normalizeMessage } from './model.js';

export const AGENT = '/api/agent/v1';
const STALEST_DATE_MS = 5000; // older than this, a Date header means the clocks disagree
const CONTACT_TYPING_FADE = 15000;
const CONVERSATION_EVENTS = new Set([
  'conversation.started',
  'conversation.queued',
  'conversation.queue_position',
  'conversation.offered',
  'conversation.accepted',
  'conversation.transferred',
  'conversation.finished',
  'conversation.updated',
  'conversation.history_loaded',
  'conversation.history_failed',
]);

function blank(id) {
  return { id, messages: new Map(), messagesLoaded: false, unread: 0, preview: '', contactTyping: false };
}

export class State {
  // `hooks` is how the screens hear of changes: changed() (draw again), toast(text, kind),
  // presence(status) (the agent's own), connection(status), and arriving(frame, id) / arrived(frame, id)
  // around a conversation event's refresh (for notifications).
  constructor(hooks) {
    this.hooks = hooks;
    this.me = null;
    this.departments = new Map();
    this.agents = new Map();
    this.conversations = new Map();
    this.selectedId = null;
    this.history = [];
    this.clockOffset = 0;
    this.maxUpload = null;
    this.features = { interactive: false, receipts: false };
    this.live = null;
    this.ticket = 0;
    this.refreshing = new Map();
    this.announced = new Set();
    this.deliveries = new Deliveries(this, AGENT);
    onServerDate((serverMs) => this.serverDate(serverMs));
  }

  // -- the server's clock -------------------------------------------------------------------------

  serverDate(serverMs) {
    if (Number.isNaN(serverMs)) return;
    // A Date header is a lower bound of the server's clock, not a reading: whole seconds, and uvicorn
    // refreshes it about once a second of its loop (seen 2.2 s old under load). So the estimate only
    // moves forward to it, and back only when it is further ahead than any header could be late.
    // Taking the header as the time itself put the clock up to two seconds behind (waiting times
    // shown short, jumping with every answer) even where both clocks agree.
    const estimate = Date.now() + this.clockOffset;
    if (estimate < serverMs) this.clockOffset += serverMs - estimate;
    else if (estimate > serverMs + STALEST_DATE_MS) this.clockOffset -= estimate - (serverMs + STALEST_DATE_MS);
  }

  serverNow() {
    return (Date.now() + this.clockOffset) / 1000;
  }

  // -- signing in and out -------------------------------------------------------------------------

  async start(me) {
    this.me = me;
    this.conversations.clear();
    this.history = [];
    this.announced.clear();
    this.selectedId = null;
    await Promise.all([this.loadDirectory(), this.loadLimits(), this.loadFeatures()]);
    this.live = new Live({
      path: `${AGENT}/ws`,
      onEvent: (frame) => this.onEvent(frame),
      onReady: () => this.snapshot(),
      onResync: () => this.snapshot(),
      onStatus: (status) => this.hooks.connection(status),
      onRefused: () => this.checkSession(),
    });
    this.live.start();
  }

  stop() {
    if (this.live) this.live.stop();
    this.live = null;
    this.me = null;
    this.conversations.clear();
    this.selectedId = null;
  }

  async checkSession() {
    try {
      await api('GET', `${AGENT}/me`);
    } catch {
      // A 401 has already sent the agent to the sign-in form.
    }
  }

  async loadDirectory() {
    const [departments, agents] = await Promise.all([
      api('GET', `${AGENT}/departments`),
      api('GET', `${AGENT}/agents`),
    ]);
    this.departments = new Map(departments.departments.map((d) => [d.id, d]));
    this.agents = new Map(agents.agents.map((a) => [a.id, a]));
  }

  async loadLimits() {
    try {
      const limits = await api('GET', `${AGENT}/limits`);
      this.maxUpload = limits.max_upload_bytes;
    } catch {
      this.maxUpload = null;
    }
  }

  // What this server's agent API can do beyond the basics, read from its own OpenAPI document.
  async loadFeatures() {
    this.features = { interactive: false, receipts: true };
    try {
      const document = await api('GET', '/openapi/agent.json');
      const post = document.components?.schemas?.PostMessage?.properties || {};
      const kinds = post.content_type?.enum || [];
      this.features.interactive = Boolean(post.content_attributes) && kinds.includes('quick_reply');
    } catch {
      // Without the document the console keeps to what every version of the agent API has.
    }
  }

  // -- conversations ------------------------------------------------------------------------------

  // Load the queue and this agent's open conversations; after every (re)connection.
  async snapshot() {
    const ticket = ++this.ticket;
    let queued;
    let assigned;
    try {
      [queued, assigned] = await Promise.all([
        api('GET', `${AGENT}/conversations?status=queued&limit=1000`),
        api('GET', `${AGENT}/conversations?status=assigned&limit=1000`),
      ]);
    } catch {
      return;
    }
    const seen = new Set();
    for (const view of [...queued.conversations, ...assigned.conversations]) {
      seen.add(view.id);
      this.announced.add(view.id);
      this.apply(view, ticket);
    }
    for (const conversation of this.conversations.values()) {
      if (!seen.has(conversation.id) && (this.inQueue(conversation) || this.isMine(conversation))) {
        this.refresh(conversation.id);
      }
    }
    if (this.selectedId !== null) this.loadMessages(this.selectedId);
    this.hooks.changed();
  }

  // Apply a view of a conversation unless a view fetched later has been applied already.
  apply(view, ticket) {
    let conversation = this.conversations.get(view.id);
    if (conversation && conversation.ticket > ticket) return conversation;
    if (!conversation) {
      conversation = blank(view.id);
      this.conversations.set(view.id, conversation);
    }
    const contact = view.contact || conversation.contact || null;
    Object.assign(conversation, view, { contact, ticket, gone: false });
    return conversation;
  }

  // Fetch one conversation again; several calls while one is running make one more fetch, not many.
  refresh(id) {
    const running = this.refreshing.get(id);
    if (running) {
      running.again = true;
      return running.done;
    }
    const entry = { again: true };
    entry.done = (async () => {
      try {
        while (entry.again) {
          entry.again = false;
          const ticket = ++this.ticket;
          try {
            const view = await api('GET', `${AGENT}/conversations/${id}`);
            this.apply(view, ticket);
          } catch (error) {
            if (error.status === 404) this.lose(id, ticket);
          }
        }
      } finally {
        this.refreshing.delete(id);
        this.hooks.changed();
      }
    })();
    this.refreshing.set(id, entry);
    return entry.done;
  }

  lose(id, ticket) {
    const conversation = this.conversations.get(id);
    if (!conversation || conversation.ticket > ticket) return;
    conversation.gone = true;
    conversation.ticket = ticket;
  }

  // The conversation with this id, or a placeholder being fetched.
  ensure(id) {
    let conversation = this.conversations.get(id);
    if (!conversation) {
      conversation = { ...blank(id), ticket: -1, state: null };
      this.conversations.set(id, conversation);
      this.refresh(id);
    }
    return conversation;
  }

  inQueue(c) {
    return !c.gone && c.state === 'queued';
  }

  isMine(c) {
    return !c.gone && c.state === 'assigned' && this.me && c.assignee_id === this.me.id;
  }

  queued() {
    return [...this.conversations.values()]
      .filter((c) => this.inQueue(c))
      .sort((a, b) => (a.queued_at || 0) - (b.queued_at || 0) || a.id - b.id);
  }

  mine() {
    return [...this.conversations.values()]
      .filter((c) => this.isMine(c))
      .sort((a, b) => (a.assigned_at || 0) - (b.assigned_at || 0) || a.id - b.id);
  }

  departmentName(id) {
    const department = this.departments.get(id);
    return department ? department.name : `department ${id}`;
  }

  // -- live events --------------------------------------------------------------------------------

  onEvent(frame) {
    const data = frame.data || {};
    const id = data.conversation_id;
    if (CONVERSATION_EVENTS.has(frame.event) && id) {
      this.hooks.arriving(frame, id);
      this.refresh(id).then(() => this.hooks.arrived(frame, id));
      if (frame.event === 'conversation.history_loaded' && this.conversations.get(id)?.messagesLoaded) {
        this.loadMessages(id);
      }
      return;
    }
    switch (frame.event) {
      case 'message.created':
      case 'message.updated':
      case 'message.deleted':
        if (id && data.message) this.addMessage(id, data.message, frame.event === 'message.created');
        break;
      case 'contact.typing':
        if (id) this.setContactTyping(id, Boolean(data.typing));
        break;
      case 'agent.presence':
        this.presenceChanged(data.agent_id, data.status);
        break;
      default:
        break;
    }
  }

  addMessage(id, raw, created) {
    // A message for a conversation not loaded yet: keep it, and fetch the conversation.
    const conversation = this.ensure(id);
    const message = normalizeMessage(raw);
    const known = conversation.messages.has(message.key);
    conversation.messages.set(message.key, mergeMessage(conversation.messages.get(message.key), message));
    if (created && !known && message.direction === 'inbound') {
      conversation.preview = message.content || (message.kind !== 'text' ? `(${message.kind})` : '');
      conversation.contactTyping = false;
      if (id !== this.selectedId || document.hidden) conversation.unread += 1;
      this.deliveries.arrived(id, message);
    }
    this.hooks.changed();
  }

  setContactTyping(id, typing) {
    const conversation = this.conversations.get(id);
    if (!conversation) return;
    conversation.contactTyping = typing;
    clearTimeout(conversation.typingFade);
    if (typing) {
      conversation.typingFade = setTimeout(() => {
        conversation.contactTyping = false;
        this.hooks.changed();
      }, CONTACT_TYPING_FADE);
    }
    this.hooks.changed();
  }

  presenceChanged(agentId, status) {
    const agent = this.agents.get(agentId);
    if (agent) agent.presence = status;
    if (this.me && agentId === this.me.id) {
      this.me.presence = status;
      this.hooks.presence(status);
    }
  }

  async loadMessages(id) {
    const conversation = this.conversations.get(id);
    if (!conversation) return;
    try {
      const loaded = await api('GET', `${AGENT}/conversations/${id}/messages`);
      for (const raw of loaded.messages) {
        const message = normalizeMessage(raw);
        conversation.messages.set(message.key, mergeMessage(conversation.messages.get(message.key), message));
      }
      conversation.external = loaded.external_history;
      conversation.messagesLoaded = true;
    } catch (error) {
      if (error.status === 404) this.lose(id, ++this.ticket);
      else this.hooks.toast(`Could not load the messages: ${error.message}`, 'alert');
    }
    this.hooks.changed();
  }
}
