// The Helpline agent console. Plain modules, no framework: the server's agent API and its websocket are
// the whole backend. State lives in `Console`; every change from the server goes through `refresh` (a
// conversation) or `addMessage` (a message), both of which are safe to repeat, so a replayed or doubled
// event never shows anything twice.

import { api, ApiError, onServerDate, onUnauthorized, upload } from './api.js';
import { Admin } from './admin.js';
import { $, formatBytes, formatDuration, formatTime, h, isoTime, renderKeyed, safeUrl } from './dom.js';
import { Live } from './live.js';

const AGENT = '/api/agent/v1';
const STALEST_DATE_MS = 5000; // older than this, a Date header means the clocks disagree
const ORIGINS = {
  omnize_v1: 'Omnize ClientApi V1',
  omnize_rest: 'Omnize ClientApi REST',
  zenvia_bot: 'Zenvia External bot',
  omnidesk: 'Omnidesk live chat',
  novatalks_sdk: 'Novatalks SDK',
  novatalks: 'Novatalks SDK',
  agent: 'Agent API',
};
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
const TYPING_IDLE = 5000;
const TYPING_REPEAT = 4000;
const CONTACT_TYPING_FADE = 15000;
const CONNECTION_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline: waiting for the network',
};

function originName(conversation) {
  const dialect = conversation.origin && conversation.origin.dialect;
  return ORIGINS[dialect] || dialect || 'unknown API';
}

function customerName(conversation) {
  const contact = conversation.contact;
  return (contact && (contact.name || contact.email || contact.phone)) || `Customer #${conversation.id}`;
}

function normalizeMessage(raw) {
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
    selected: raw.selected_value ?? (raw.content_attributes && raw.content_attributes.selected_value) ?? null,
    deleted: raw.deleted ? true : null,
    file: raw.file || null,
  };
}

function mergeMessage(old, fresh) {
  if (!old) return fresh;
  const merged = { ...old };
  for (const [name, value] of Object.entries(fresh)) {
    if (value === null || value === undefined) continue;
    if (name === 'sender') merged.sender = { ...old.sender, ...Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined)) };
    else merged[name] = value;
  }
  return merged;
}

// Replace an element's children, skipping the empty ones (DOM methods would print null as "null").
function fill(element, ...children) {
  element.replaceChildren(...children.filter((child) => child !== null && child !== undefined && child !== false));
}

function compareOrder(a, b) {
  return a.order[0] - b.order[0] || a.order[1] - b.order[1];
}

class Console {
  constructor() {
    this.me = null;
    this.departments = new Map();
    this.agents = new Map();
    this.conversations = new Map();
    this.selectedId = null;
    this.view = 'inbox';
    this.clockOffset = 0;
    this.maxUpload = null;
    this.features = { interactive: false, receipts: false };
    this.live = null;
    this.ticket = 0;
    this.refreshing = new Map();
    this.announced = new Set();
    this.renderPending = false;
    this.typingSentAt = 0;
    this.typingFor = null;
    this.typingIdle = null;
    this.currentUpload = null;
    this.history = [];
    this.sound = localStorage.getItem('helpline.sound') !== 'off';
    this.audio = null;
    this.admin = new Admin($('#admin'), (text, kind) => this.toast(text, kind));
    this.bind();
  }

  // -- starting and stopping ----------------------------------------------------------------------

  async boot() {
    onUnauthorized(() => this.signedOut('Your session has ended. Sign in again to go on.'));
    onServerDate((serverMs) => {
      if (Number.isNaN(serverMs)) return;
      // A Date header is a lower bound of the server's clock, not a reading: whole seconds, and uvicorn
      // refreshes it about once a second of its loop (seen 2.2 s old under load). So the estimate only
      // moves forward to it, and back only when it is further ahead than any header could be late.
      // Taking the header as the time itself put the clock up to two seconds behind (waiting times
      // shown short, jumping with every answer) even where both clocks agree.
      const estimate = Date.now() + this.clockOffset;
      if (estimate < serverMs) this.clockOffset += serverMs - estimate;
      else if (estimate > serverMs + STALEST_DATE_MS) this.clockOffset -= estimate - (serverMs + STALEST_DATE_MS);
    });
    try {
      const me = await api('GET', `${AGENT}/me`);
      await this.start(me);
    } catch (error) {
      this.showSignIn(error.status === 401 ? '' : error.message);
    }
  }

  showSignIn(message) {
    $('#app').hidden = true;
    $('#signin').hidden = false;
    $('#signin-error').textContent = message || '';
    document.title = 'Sign in · Helpline';
    $('#signin-email').focus();
  }

  async signIn(event) {
    event.preventDefault();
    const email = $('#signin-email').value.trim();
    const password = $('#signin-password').value;
    const errorBox = $('#signin-error');
    if (!email || !password) {
      errorBox.textContent = 'Enter your email and password.';
      return;
    }
    errorBox.textContent = '';
    const button = event.submitter || $('#signin-form button[type=submit]');
    button.disabled = true;
    try {
      const started = await api('POST', `${AGENT}/session`, { email, password });
      $('#signin-password').value = '';
      await this.start(started.agent);
    } catch (error) {
      errorBox.textContent = error.status === 401 ? 'Wrong email or password.' : error.message;
    } finally {
      button.disabled = false;
    }
  }

  async start(me) {
    this.me = me;
    this.conversations.clear();
    this.history = [];
    this.announced.clear();
    this.selectedId = null;
    $('#signin').hidden = true;
    $('#app').hidden = false;
    $('#me').textContent = me.name;
    $('#presence').value = me.presence;
    $('.presence-control').dataset.presence = me.presence;
    document.querySelector('[data-view=admin]').hidden = me.role !== 'admin';
    this.updateSoundButton();
    await Promise.all([this.loadDirectory(), this.loadLimits(), this.loadFeatures()]);
    this.live = new Live({
      path: `${AGENT}/ws`,
      onEvent: (frame) => this.onEvent(frame),
      onReady: () => this.snapshot(),
      onResync: () => this.snapshot(),
      onStatus: (status) => this.showConnection(status),
      onRefused: () => this.checkSession(),
    });
    this.live.start();
    if (!this.ticker) this.ticker = setInterval(() => this.tick(), 1000);
    this.showView('inbox');
    const wanted = /^#c(\d+)$/.exec(location.hash);
    if (wanted) this.select(Number(wanted[1]));
    this.render();
  }

  async signOut() {
    try {
      await api('DELETE', `${AGENT}/session`);
    } catch (error) {
      // Signed out locally either way; the cookie expires by itself.
    }
    this.signedOut('');
  }

  signedOut(message) {
    if (this.live) this.live.stop();
    this.live = null;
    this.me = null;
    this.conversations.clear();
    this.selectedId = null;
    history.replaceState(null, '', location.pathname);
    this.showSignIn(message);
  }

  async checkSession() {
    try {
      await api('GET', `${AGENT}/me`);
    } catch (error) {
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
      $('#limit').textContent = `Files up to ${formatBytes(this.maxUpload)}`;
    } catch (error) {
      this.maxUpload = null;
      $('#limit').textContent = '';
    }
  }

  // -- the server's state -------------------------------------------------------------------------

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
    } catch (error) {
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
    this.render();
  }

  // Apply a view of a conversation unless a view fetched later has been applied already.
  apply(view, ticket) {
    let conversation = this.conversations.get(view.id);
    if (conversation && conversation.ticket > ticket) return conversation;
    if (!conversation) {
      conversation = { messages: new Map(), messagesLoaded: false, unread: 0, preview: '', contactTyping: false };
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
        this.render();
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
      conversation = { id, messages: new Map(), messagesLoaded: false, unread: 0, preview: '', contactTyping: false, ticket: -1, state: null };
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

  onEvent(frame) {
    const data = frame.data || {};
    const id = data.conversation_id;
    if (CONVERSATION_EVENTS.has(frame.event) && id) {
      this.beforeRefresh(frame, id);
      this.refresh(id).then(() => this.afterRefresh(frame, id));
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

  beforeRefresh(frame, id) {
    const conversation = this.conversations.get(id);
    const data = frame.data;
    if (frame.event === 'conversation.transferred' && conversation && this.me) {
      const wasMine = data.from_agent_id === this.me.id;
      const byMe = data.actor && data.actor.type === 'agent' && data.actor.id === this.me.id;
      if (wasMine && !byMe) {
        const where = data.to_agent ? data.to_agent.name : this.departmentName(data.to_department_id);
        this.toast(`${customerName(conversation)} was handed over to ${where}.`, 'status');
      }
    }
  }

  afterRefresh(frame, id) {
    const conversation = this.conversations.get(id);
    if (!conversation || !this.me) return;
    const newInQueue =
      (frame.event === 'conversation.queued' || frame.event === 'conversation.transferred') &&
      this.inQueue(conversation) &&
      !this.announced.has(id);
    if (newInQueue) {
      this.announced.add(id);
      this.notifyWaiting(conversation);
    }
    if (frame.event === 'conversation.offered' && conversation.offered_to === this.me.id && this.inQueue(conversation)) {
      this.toast(`${customerName(conversation)} is ringing you. Accept to answer.`, 'status');
      this.chime();
    }
    if (!this.inQueue(conversation)) this.announced.delete(id);
    if (frame.event === 'conversation.finished' && id === this.selectedId && frame.data.actor?.type === 'contact') {
      this.toast(`${customerName(conversation)} ended the conversation.`, 'status');
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
    }
    this.render();
  }

  setContactTyping(id, typing) {
    const conversation = this.conversations.get(id);
    if (!conversation) return;
    conversation.contactTyping = typing;
    clearTimeout(conversation.typingFade);
    if (typing) {
      conversation.typingFade = setTimeout(() => {
        conversation.contactTyping = false;
        this.render();
      }, CONTACT_TYPING_FADE);
    }
    this.render();
  }

  presenceChanged(agentId, status) {
    const agent = this.agents.get(agentId);
    if (agent) agent.presence = status;
    if (this.me && agentId === this.me.id) {
      this.me.presence = status;
      $('#presence').value = status;
      $('.presence-control').dataset.presence = status;
    }
  }

  departmentName(id) {
    const department = this.departments.get(id);
    return department ? department.name : `department ${id}`;
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
      else this.toast(`Could not load the messages: ${error.message}`, 'alert');
    }
    this.render();
  }

  // The agent has the conversation on screen: tell the customer's side their messages were seen.
  markSeen(conversation) {
    if (!this.features.receipts || conversation.seenPending) return;
    const unseen = [...conversation.messages.values()].filter(
      (m) => !m.history && m.id && m.direction === 'inbound' && m.status && m.status !== 'seen',
    );
    if (!unseen.length) return;
    conversation.seenPending = true;
    const upTo = Math.max(...unseen.map((m) => m.id));
    api('POST', `${AGENT}/conversations/${conversation.id}/seen`, { up_to: upTo })
      .then(() => {
        for (const message of unseen) message.status = 'seen';
      })
      .catch((error) => {
        // A server without read receipts has no such route: stop asking it.
        if (error.status === 404 && !error.known) this.features.receipts = false;
      })
      .finally(() => {
        conversation.seenPending = false;
      });
  }

  // What this server's agent API can do beyond the basics, read from its own OpenAPI document.
  async loadFeatures() {
    this.features = { interactive: false, receipts: true };
    try {
      const document = await api('GET', '/openapi/agent.json');
      const post = document.components?.schemas?.PostMessage?.properties || {};
      const kinds = post.content_type?.enum || [];
      this.features.interactive = Boolean(post.content_attributes) && kinds.includes('quick_reply');
    } catch (error) {
      // Without the document the console keeps to what every version of the agent API has.
    }
    $('#choices').hidden = !this.features.interactive;
  }

  openChoices() {
    $('#choices-error').textContent = '';
    this.choicesKindChanged();
    $('#choices-dialog').showModal();
    $('#choices-question').focus();
  }

  choicesKindChanged() {
    const kind = $('#choices-kind').value;
    $('#choices-options-field').hidden = kind === 'feedback';
    $('#choices-image-field').hidden = kind === 'feedback';
    $('#choices-hint').textContent =
      kind === 'card'
        ? 'One button a line: “Title | https://…” opens a link, “Title | VALUE” answers with VALUE.'
        : 'One option a line: “Title”, or “Title | VALUE” to answer with VALUE.';
  }

  async offerChoices(event) {
    event.preventDefault();
    const id = this.selectedId;
    const conversation = this.conversations.get(id);
    if (!conversation || !this.isMine(conversation)) return;
    const kind = $('#choices-kind').value;
    const content = $('#choices-question').value.trim();
    const attributes = {};
    if (kind !== 'feedback') {
      const buttons = [];
      for (const line of $('#choices-options').value.split('\n')) {
        if (!line.trim()) continue;
        const cut = line.indexOf('|');
        const title = (cut < 0 ? line : line.slice(0, cut)).trim();
        const value = (cut < 0 ? title : line.slice(cut + 1)).trim() || title;
        if (kind === 'card' && /^https?:\/\//.test(value)) buttons.push({ type: 'link', title, url: value });
        else if (kind === 'card') buttons.push({ type: 'postback', title, value });
        else buttons.push({ title, value });
      }
      if (!buttons.length) {
        $('#choices-error').textContent = 'Give at least one option.';
        return;
      }
      attributes.buttons = buttons;
      const image = $('#choices-image').value.trim();
      if (image) attributes.image_url = image;
    }
    if (!content) {
      $('#choices-error').textContent = 'Write the question or title first.';
      return;
    }
    const button = $('#choices-confirm');
    button.disabled = true;
    try {
      const message = await api(
        'POST',
        `${AGENT}/conversations/${id}/messages`,
        { content, content_type: kind, content_attributes: attributes },
        { 'idempotency-key': crypto.randomUUID() },
      );
      this.addMessage(id, message, false);
      $('#choices-dialog').close();
      $('#choices-form').reset();
    } catch (error) {
      $('#choices-error').textContent = error.message;
    } finally {
      button.disabled = false;
    }
  }

  // -- notifications ------------------------------------------------------------------------------

  notifyWaiting(conversation) {
    this.toast(`${customerName(conversation)} is waiting in ${this.departmentName(conversation.department_id)}.`, 'status');
    this.chime();
    const item = $(`#queue [data-key="${conversation.id}"]`);
    if (item) {
      item.classList.remove('arrived');
      void item.offsetWidth;
      item.classList.add('arrived');
    }
  }

  chime() {
    if (!this.sound) return;
    try {
      this.audio = this.audio || new AudioContext();
      const context = this.audio;
      const now = context.currentTime;
      for (const [offset, frequency] of [[0, 660], [0.16, 880]]) {
        const oscillator = context.createOscillator();
        const gain = context.createGain();
        oscillator.type = 'sine';
        oscillator.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, now + offset);
        gain.gain.exponentialRampToValueAtTime(0.12, now + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.35);
        oscillator.connect(gain).connect(context.destination);
        oscillator.start(now + offset);
        oscillator.stop(now + offset + 0.4);
      }
    } catch (error) {
      // No audio device: the visible notice is enough.
    }
  }

  toast(text, kind = 'status') {
    const box = h(
      'div',
      { class: `toast ${kind}`, role: kind === 'alert' ? 'alert' : 'status' },
      h('span', { text }),
      h('button', { type: 'button', class: 'quiet small', 'aria-label': 'Dismiss', onclick: () => box.remove() }, '×'),
    );
    $('#toasts').append(box);
    setTimeout(() => box.remove(), kind === 'alert' ? 12000 : 7000);
  }

  updateSoundButton() {
    $('#sound').setAttribute('aria-pressed', String(this.sound));
    $('#sound').textContent = this.sound ? 'Sound on' : 'Sound off';
  }

  // -- what the agent does ------------------------------------------------------------------------

  async setPresence(status) {
    const select = $('#presence');
    const before = this.me.presence;
    select.disabled = true;
    try {
      const me = await api('PUT', `${AGENT}/presence`, { status });
      this.presenceChanged(me.id, me.presence);
    } catch (error) {
      select.value = before;
      this.toast(`Presence not changed: ${error.message}`, 'alert');
    } finally {
      select.disabled = false;
    }
  }

  async accept(id, button) {
    if (button) button.disabled = true;
    const ticket = ++this.ticket;
    try {
      const view = await api('POST', `${AGENT}/conversations/${id}/accept`);
      this.apply(view, ticket);
      this.focusComposer = true;
      this.select(id);
    } catch (error) {
      if (error.status === 409) {
        const conversation = this.conversations.get(id);
        const who = conversation ? customerName(conversation) : 'This conversation';
        this.toast(`Too late: ${error.message}. (${who})`, 'alert');
      } else {
        this.toast(`Could not accept: ${error.message}`, 'alert');
      }
      this.refresh(id);
    } finally {
      if (button) button.disabled = false;
    }
  }

  select(id) {
    if (this.selectedId !== id) this.stopTyping();
    this.selectedId = id;
    const conversation = this.ensure(id);
    conversation.unread = 0;
    history.replaceState(null, '', `#c${id}`);
    this.loadMessages(id);
    this.render();
  }

  closeConversation() {
    this.stopTyping();
    this.selectedId = null;
    history.replaceState(null, '', location.pathname);
    this.render();
  }

  async send(event) {
    event.preventDefault();
    const id = this.selectedId;
    const conversation = this.conversations.get(id);
    const box = $('#message');
    const content = box.value;
    if (!conversation || !this.isMine(conversation) || !content.trim()) return;
    box.value = '';
    this.stopTyping();
    const key = crypto.randomUUID();
    try {
      const message = await api('POST', `${AGENT}/conversations/${id}/messages`, { content }, { 'idempotency-key': key });
      this.addMessage(id, message, false);
    } catch (error) {
      if (!box.value) box.value = content;
      this.toast(`Not sent: ${error.message}. Your text is still in the box; press Enter to try again.`, 'alert');
    }
  }

  typed() {
    const id = this.selectedId;
    const conversation = this.conversations.get(id);
    if (!conversation || !this.isMine(conversation)) return;
    const now = Date.now();
    if ($('#message').value.trim() === '') {
      this.stopTyping();
      return;
    }
    if (this.typingFor !== id || now - this.typingSentAt > TYPING_REPEAT) {
      this.typingFor = id;
      this.typingSentAt = now;
      api('POST', `${AGENT}/conversations/${id}/typing`, { typing: true }).catch(() => {});
    }
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => this.stopTyping(), TYPING_IDLE);
  }

  stopTyping() {
    clearTimeout(this.typingIdle);
    const id = this.typingFor;
    this.typingFor = null;
    this.typingSentAt = 0;
    const conversation = id !== null ? this.conversations.get(id) : null;
    if (conversation && this.isMine(conversation)) {
      api('POST', `${AGENT}/conversations/${id}/typing`, { typing: false }).catch(() => {});
    }
  }

  sendFile(file) {
    const id = this.selectedId;
    const conversation = this.conversations.get(id);
    if (!file || !conversation || !this.isMine(conversation)) return;
    if (this.currentUpload) {
      this.toast('Wait for the file being sent to finish first.', 'alert');
      return;
    }
    if (this.maxUpload !== null && file.size > this.maxUpload) {
      this.toast(`${file.name} is ${formatBytes(file.size)}; files can be up to ${formatBytes(this.maxUpload)}.`, 'alert');
      return;
    }
    const box = $('#upload');
    const bar = $('#upload-progress');
    const percent = $('#upload-percent');
    $('#upload-name').textContent = file.name;
    bar.value = 0;
    percent.textContent = '0%';
    box.hidden = false;
    const started = upload(`${AGENT}/conversations/${id}/attachments`, file, (sent, total) => {
      const value = total ? Math.floor((sent / total) * 100) : 0;
      bar.value = value;
      // All bytes handed to the network is not yet all bytes arrived: say so until the server answers.
      percent.textContent = value >= 100 ? 'finishing…' : `${value}%`;
    });
    this.currentUpload = started;
    started.promise
      .then((message) => {
        this.addMessage(id, message, false);
      })
      .catch((error) => {
        if (error.status === -1) return;
        if (error.status === 413) {
          const limit = this.maxUpload ? ` (the limit is ${formatBytes(this.maxUpload)})` : '';
          this.toast(`${file.name} is too large${limit}.`, 'alert');
        } else {
          this.toast(`${file.name} was not sent: ${error.message}`, 'alert');
        }
      })
      .finally(() => {
        this.currentUpload = null;
        box.hidden = true;
        $('#file-input').value = '';
      });
  }

  openTransfer() {
    const conversation = this.conversations.get(this.selectedId);
    if (!conversation) return;
    const select = $('#transfer-target');
    select.replaceChildren();
    const departments = h('optgroup', { label: 'Departments' });
    for (const department of this.departments.values()) {
      if (!department.active || department.id === conversation.department_id) continue;
      departments.append(h('option', { value: `d${department.id}` }, department.name));
    }
    const agents = h('optgroup', { label: 'Agents' });
    for (const agent of this.agents.values()) {
      if (agent.id === this.me.id) continue;
      const label = agent.presence === 'online' ? agent.name : `${agent.name} (${agent.presence})`;
      agents.append(h('option', { value: `a${agent.id}`, disabled: agent.presence === 'offline' }, label));
    }
    if (departments.children.length) select.append(departments);
    if (agents.children.length) select.append(agents);
    $('#transfer-error').textContent = select.options.length ? '' : 'There is nobody to hand this conversation to.';
    $('#transfer-confirm').disabled = !select.options.length;
    $('#transfer-dialog').showModal();
    select.focus();
  }

  async confirmTransfer(event) {
    event.preventDefault();
    const id = this.selectedId;
    const conversation = this.conversations.get(id);
    const target = $('#transfer-target').value;
    if (!conversation || !target) return;
    const body = target[0] === 'd' ? { department_id: Number(target.slice(1)) } : { agent_id: Number(target.slice(1)) };
    const where = target[0] === 'd' ? this.departmentName(body.department_id) : this.agents.get(body.agent_id)?.name;
    const button = $('#transfer-confirm');
    button.disabled = true;
    const ticket = ++this.ticket;
    try {
      const view = await api('POST', `${AGENT}/conversations/${id}/transfer`, body);
      $('#transfer-dialog').close();
      this.stopTyping();
      this.apply(view, ticket);
      this.toast(`${customerName(conversation)} was handed over to ${where}.`, 'status');
      if (!this.isMine(this.conversations.get(id))) this.closeConversation();
      this.refresh(id);
    } catch (error) {
      $('#transfer-error').textContent = error.message;
    } finally {
      button.disabled = false;
    }
  }

  async finish() {
    const id = this.selectedId;
    const conversation = this.conversations.get(id);
    if (!conversation) return;
    const button = $('#finish');
    button.disabled = true;
    const ticket = ++this.ticket;
    this.stopTyping();
    try {
      const view = await api('POST', `${AGENT}/conversations/${id}/finish`);
      this.apply(view, ticket);
      this.toast(`The conversation with ${customerName(conversation)} is finished.`, 'status');
    } catch (error) {
      this.toast(`Could not finish: ${error.message}`, 'alert');
      this.refresh(id);
    } finally {
      button.disabled = false;
      this.render();
    }
  }

  async search(event) {
    if (event) event.preventDefault();
    const q = $('#search').value.trim();
    const params = new URLSearchParams({ status: 'finished', limit: '100' });
    if (q) params.set('q', q);
    const ticket = ++this.ticket;
    try {
      const found = await api('GET', `${AGENT}/conversations?${params}`);
      this.history = found.conversations.map((view) => this.apply(view, ticket));
      $('#history-empty').textContent = q ? `Nothing found for “${q}”.` : 'No finished conversations yet.';
    } catch (error) {
      this.toast(`Search failed: ${error.message}`, 'alert');
    }
    this.render();
  }

  showView(view) {
    this.view = view;
    for (const tab of document.querySelectorAll('.view-tab')) {
      if (tab.dataset.view === view) tab.setAttribute('aria-current', 'page');
      else tab.removeAttribute('aria-current');
    }
    $('#panel-inbox').hidden = view !== 'inbox';
    $('#panel-history').hidden = view !== 'history';
    const adminView = view === 'admin';
    $('.sidebar').hidden = adminView;
    $('#conversation-pane').hidden = adminView;
    $('#admin').hidden = !adminView;
    $('#workspace').classList.toggle('admin-mode', adminView);
    if (adminView) this.admin.open();
    if (view === 'history') this.search();
    this.render();
  }

  showConnection(status) {
    const box = $('#connection');
    box.dataset.state = status;
    box.textContent = CONNECTION_TEXT[status] || status;
  }

  moveSelection(step) {
    const mine = this.myConversations();
    if (!mine.length) return;
    const index = mine.findIndex((c) => c.id === this.selectedId);
    const next = mine[(index + step + mine.length) % mine.length];
    this.select(next.id);
  }

  // -- rendering ----------------------------------------------------------------------------------

  queued() {
    return [...this.conversations.values()]
      .filter((c) => this.inQueue(c))
      .sort((a, b) => (a.queued_at || 0) - (b.queued_at || 0) || a.id - b.id);
  }

  myConversations() {
    return [...this.conversations.values()]
      .filter((c) => this.isMine(c))
      .sort((a, b) => (a.assigned_at || 0) - (b.assigned_at || 0) || a.id - b.id);
  }

  serverNow() {
    return (Date.now() + this.clockOffset) / 1000;
  }

  render() {
    if (this.renderPending) return;
    this.renderPending = true;
    requestAnimationFrame(() => {
      this.renderPending = false;
      if (!this.me) return;
      this.renderQueue();
      this.renderMine();
      this.renderHistory();
      this.renderConversation();
      this.renderTitle();
    });
  }

  renderTitle() {
    const waiting = this.queued().length;
    const unread = this.myConversations().reduce((sum, c) => sum + c.unread, 0);
    const parts = [];
    if (waiting) parts.push(`(${waiting})`);
    if (unread) parts.push('•');
    parts.push('Helpline');
    document.title = parts.join(' ');
  }

  renderQueue() {
    const items = this.queued();
    $('#queue-count').textContent = String(items.length);
    $('#queue-empty').hidden = items.length > 0;
    renderKeyed(
      $('#queue'),
      items,
      (c) => c.id,
      (c) => {
        const open = h('button', { type: 'button', class: 'card-open', onclick: () => this.select(c.id) });
        const accept = h('button', { type: 'button', class: 'primary', onclick: (event) => this.accept(c.id, event.currentTarget) }, 'Accept');
        const li = h('li', { class: 'card' }, open, accept);
        li.parts = { open };
        return li;
      },
      (li, c) => {
        const ringing = c.offered_to && this.me && c.offered_to === this.me.id;
        li.classList.toggle('selected', c.id === this.selectedId);
        li.classList.toggle('ringing', Boolean(ringing));
        fill(li.parts.open,
          h('span', { class: 'card-line' }, h('strong', { class: 'name' }, customerName(c)), c.unread ? h('span', { class: 'badge', 'aria-label': `${c.unread} unread` }, String(c.unread)) : null),
          h('span', { class: 'card-line muted small' }, `${this.departmentName(c.department_id)} · ${originName(c)}`),
          h(
            'span',
            { class: 'card-line small' },
            h('span', { class: 'position' }, c.queue_position ? `#${c.queue_position} in line` : 'waiting'),
            ' · waiting ',
            h('span', { class: 'since', 'data-since': c.queued_at || c.created_at }, formatDuration(this.serverNow() - (c.queued_at || c.created_at))),
            ringing ? h('span', { class: 'ringing-note' }, ' · ringing you') : null,
          ),
          c.preview ? h('span', { class: 'card-line preview small' }, c.preview) : null,
        );
      },
    );
  }

  renderMine() {
    const items = this.myConversations();
    $('#mine-count').textContent = String(items.length);
    $('#mine-empty').hidden = items.length > 0;
    renderKeyed(
      $('#mine'),
      items,
      (c) => c.id,
      (c) => {
        const open = h('button', { type: 'button', class: 'card-open', onclick: () => this.select(c.id) });
        const li = h('li', { class: 'card' }, open);
        li.parts = { open };
        return li;
      },
      (li, c) => {
        const selected = c.id === this.selectedId;
        li.classList.toggle('selected', selected);
        if (selected) li.parts.open.setAttribute('aria-current', 'true');
        else li.parts.open.removeAttribute('aria-current');
        fill(li.parts.open,
          h('span', { class: 'card-line' }, h('strong', { class: 'name' }, customerName(c)), c.unread ? h('span', { class: 'badge', 'aria-label': `${c.unread} unread` }, String(c.unread)) : null),
          h('span', { class: 'card-line muted small' }, `${this.departmentName(c.department_id)} · ${originName(c)}`),
          c.contactTyping ? h('span', { class: 'card-line small typing-note' }, 'typing…') : c.preview ? h('span', { class: 'card-line preview small' }, c.preview) : null,
        );
      },
    );
  }

  renderHistory() {
    if (this.view !== 'history') return;
    const items = this.history.filter((c) => c.state === 'finished');
    $('#history-empty').hidden = items.length > 0;
    renderKeyed(
      $('#history-list'),
      items,
      (c) => c.id,
      (c) => {
        const open = h('button', { type: 'button', class: 'card-open', onclick: () => this.select(c.id) });
        const li = h('li', { class: 'card' }, open);
        li.parts = { open };
        return li;
      },
      (li, c) => {
        li.classList.toggle('selected', c.id === this.selectedId);
        const ended = c.finished_at ? formatTime(c.finished_at) : '';
        const reason = c.finish_reason === 'unavailable' ? 'nobody was available' : 'resolved';
        fill(li.parts.open,
          h('span', { class: 'card-line' }, h('strong', { class: 'name' }, customerName(c))),
          h('span', { class: 'card-line muted small' }, `${this.departmentName(c.department_id)} · ${originName(c)}`),
          h('span', { class: 'card-line small' }, `Ended ${ended} · ${reason}`),
        );
      },
    );
  }

  renderConversation() {
    const workspace = $('#workspace');
    const conversation = this.selectedId !== null ? this.conversations.get(this.selectedId) : null;
    workspace.classList.toggle('has-selection', Boolean(conversation));
    $('#placeholder').hidden = Boolean(conversation);
    $('#conversation').hidden = !conversation;
    if (!conversation) return;
    const mine = this.isMine(conversation);
    $('#conversation-title').textContent = conversation.state === null ? 'Loading…' : customerName(conversation);
    const contact = conversation.contact || {};
    const meta = [this.departmentName(conversation.department_id), originName(conversation)];
    if (contact.email) meta.push(contact.email);
    if (contact.phone) meta.push(contact.phone);
    if (conversation.mood) meta.push(`mood ${conversation.mood.toLowerCase()}`);
    $('#conversation-meta').textContent = conversation.state === null ? '' : meta.join(' · ');
    $('#transfer').hidden = !mine;
    $('#finish').hidden = !mine;
    $('#composer').hidden = !mine;
    const banner = $('#conversation-banner');
    let note = '';
    if (conversation.gone) note = 'This conversation is no longer yours to see: it was handed to a department you are not in.';
    else if (conversation.state === 'finished') {
      note = conversation.finish_reason === 'unavailable' ? 'This conversation ended: nobody was available.' : 'This conversation is finished.';
    } else if (conversation.state === 'queued') note = 'Waiting in the queue. Accept it from the list to answer.';
    else if (conversation.state === 'assigned' && !mine) {
      const agent = this.agents.get(conversation.assignee_id);
      note = `${agent ? agent.name : 'Another agent'} is answering this conversation.`;
    } else if (conversation.state === 'bot') note = 'A bot is talking with this customer.';
    banner.hidden = !note;
    banner.textContent = note;
    const typing = $('#typing');
    typing.textContent = conversation.contactTyping && !conversation.gone ? `${customerName(conversation)} is typing…` : '';
    this.renderMessages(conversation);
    if (mine && !document.hidden) this.markSeen(conversation);
    if (this.focusComposer && mine) {
      this.focusComposer = false;
      $('#message').focus();
    }
  }

  renderMessages(conversation) {
    const list = $('#messages');
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    const changedConversation = list.dataset.conversation !== String(conversation.id);
    if (changedConversation) {
      list.replaceChildren();
      list.dataset.conversation = String(conversation.id);
    }
    const messages = [...conversation.messages.values()].sort(compareOrder);
    const items = [];
    const external = conversation.external || conversation.external_history;
    const historyCount = messages.filter((m) => m.history).length;
    if (historyCount || (external && external.status !== 'none')) {
      let label = 'Earlier history';
      if (external && external.status === 'pending') label = 'Earlier history is loading…';
      if (external && external.status === 'failed') label = `Earlier history could not be loaded: ${external.error || 'unknown error'}`;
      items.push({ key: 'divider-history', divider: label, kind: external && external.status === 'failed' ? 'failed' : 'history' });
    }
    let liveStarted = false;
    for (const message of messages) {
      if (!message.history && !liveStarted && historyCount) {
        items.push({ key: 'divider-live', divider: 'Live conversation', kind: 'live' });
        liveStarted = true;
      }
      items.push(message);
    }
    renderKeyed(
      list,
      items,
      (item) => item.key,
      (item) => (item.divider ? h('li', { class: `divider ${item.kind}` }) : h('li', { class: 'message' })),
      (li, item) => {
        if (item.divider) li.textContent = item.divider;
        else this.fillMessage(li, item, conversation);
      },
    );
    if (changedConversation || nearBottom) list.scrollTop = list.scrollHeight;
  }

  senderName(message, conversation) {
    const sender = message.sender || {};
    if (message.history) {
      if (message.direction === 'inbound') return customerName(conversation);
      return sender.type === 'bot' ? 'Bot' : 'Agent';
    }
    if (message.direction === 'inbound') return customerName(conversation);
    if (sender.type === 'agent') {
      if (this.me && sender.id === this.me.id) return 'You';
      return sender.name || this.agents.get(sender.id)?.name || 'Agent';
    }
    if (sender.type === 'bot') return sender.name || 'Bot';
    return sender.name || 'System';
  }

  fillMessage(li, message, conversation) {
    const signature = JSON.stringify([message.content, message.url, message.status, message.attributes, message.selected, message.deleted, message.kind, message.sender, message.file, conversation.contact && conversation.contact.name]);
    if (li.signature === signature) return;
    li.signature = signature;
    li.className = `message ${message.direction}${message.history ? ' history' : ''}`;
    const when = message.history
      ? message.time
        ? h('span', { class: 'time' }, message.time)
        : null
      : h('time', { class: 'time', datetime: isoTime(message.created_at) }, formatTime(message.created_at));
    const head = h(
      'div',
      { class: 'message-head' },
      h('span', { class: 'sender' }, this.senderName(message, conversation)),
      message.history ? h('span', { class: 'tag' }, 'history') : null,
      when,
    );
    const body = h('div', { class: 'message-body' });
    if (message.deleted) {
      body.append(h('p', { class: 'text muted' }, 'This message was deleted.'));
      li.replaceChildren(head, body);
      return;
    }
    if (message.content) body.append(h('p', { class: 'text' }, message.content));
    const url = safeUrl(message.url);
    const fileName = message.file?.name || (url ? decodeURIComponent(new URL(url).pathname.split('/').pop() || 'file') : '');
    if (url && message.kind === 'image') {
      body.append(h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', class: 'image-link' }, h('img', { src: url, alt: message.content || `Image ${fileName}`, loading: 'lazy' })));
    } else if (url && message.kind === 'video') {
      body.append(h('video', { src: url, controls: true, preload: 'metadata' }));
    } else if (url && message.kind === 'audio') {
      body.append(h('audio', { src: url, controls: true, preload: 'metadata' }));
    }
    if (url && message.kind !== 'text') {
      const size = message.file?.size ? ` (${formatBytes(message.file.size)})` : '';
      body.append(h('a', { href: url, download: fileName, class: 'file-link', rel: 'noopener noreferrer' }, `Download ${fileName}${size}`));
    }
    const interactive = this.interactive(message);
    if (interactive) body.append(interactive);
    li.replaceChildren(head, body);
    if (message.direction === 'outbound' && !message.history && message.status) {
      const labels = { sent: 'Sent', delivered: 'Delivered', seen: 'Seen', failed: 'Not delivered' };
      li.append(h('div', { class: `receipt ${message.status}` }, labels[message.status] || message.status));
    }
  }

  // Cards, quick replies and feedback requests, with the customer's choice when there is one.
  interactive(message) {
    if (!['card', 'quick_reply', 'feedback'].includes(message.kind)) return null;
    const attributes = message.attributes || {};
    const box = h('div', { class: `interactive ${message.kind}` });
    const image = safeUrl(attributes.image_url);
    if (image) box.append(h('img', { src: image, alt: '', loading: 'lazy', class: 'card-image' }));
    const chosen = message.selected;
    const buttons = Array.isArray(attributes.buttons) ? attributes.buttons : [];
    if (buttons.length) {
      const row = h('ul', { class: 'choices', 'aria-label': 'Options offered' });
      for (const button of buttons) {
        const link = button.type === 'link' ? safeUrl(button.url) : null;
        const picked = chosen !== null && chosen !== undefined && button.value === chosen;
        const content = link
          ? h('a', { href: link, target: '_blank', rel: 'noopener noreferrer' }, button.title || link)
          : h('span', {}, button.title || button.value || '');
        row.append(h('li', { class: picked ? 'choice picked' : 'choice' }, content, picked ? h('span', { class: 'tag' }, 'chosen') : null));
      }
      box.append(row);
    }
    if (chosen !== null && chosen !== undefined && chosen !== '') {
      const title = buttons.find((b) => b.value === chosen)?.title || String(chosen);
      box.append(h('p', { class: 'choice-made small' }, message.kind === 'feedback' ? `Rating given: ${title}` : `Customer chose: ${title}`));
    } else {
      box.append(h('p', { class: 'muted small' }, 'No answer yet'));
    }
    return box;
  }

  tick() {
    const now = this.serverNow();
    for (const element of document.querySelectorAll('[data-since]')) {
      element.textContent = formatDuration(now - Number(element.dataset.since));
    }
  }

  // -- wiring -------------------------------------------------------------------------------------

  bind() {
    $('#signin-form').addEventListener('submit', (event) => this.signIn(event));
    $('#signout').addEventListener('click', () => this.signOut());
    // The dot follows what the server confirmed, not what was just picked.
    $('#presence').addEventListener('change', (event) => this.setPresence(event.target.value));
    $('#sound').addEventListener('click', () => {
      this.sound = !this.sound;
      localStorage.setItem('helpline.sound', this.sound ? 'on' : 'off');
      this.updateSoundButton();
      if (this.sound) this.chime();
    });
    for (const tab of document.querySelectorAll('.view-tab')) {
      tab.addEventListener('click', () => this.showView(tab.dataset.view));
    }
    $('#composer').addEventListener('submit', (event) => this.send(event));
    const box = $('#message');
    box.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $('#composer').requestSubmit();
      }
    });
    box.addEventListener('input', () => this.typed());
    box.addEventListener('paste', (event) => {
      const file = event.clipboardData && event.clipboardData.files[0];
      if (file) {
        event.preventDefault();
        this.sendFile(file);
      }
    });
    $('#attach').addEventListener('click', () => $('#file-input').click());
    $('#file-input').addEventListener('change', (event) => this.sendFile(event.target.files[0]));
    $('#upload-cancel').addEventListener('click', () => this.currentUpload && this.currentUpload.abort());
    const pane = $('#conversation');
    let depth = 0;
    const droppable = (event) => event.dataTransfer && [...event.dataTransfer.types].includes('Files') && !$('#composer').hidden;
    pane.addEventListener('dragenter', (event) => {
      if (!droppable(event)) return;
      event.preventDefault();
      depth += 1;
      pane.classList.add('dragging');
    });
    pane.addEventListener('dragover', (event) => {
      if (droppable(event)) event.preventDefault();
    });
    pane.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (!depth) pane.classList.remove('dragging');
    });
    pane.addEventListener('drop', (event) => {
      if (!droppable(event)) return;
      event.preventDefault();
      depth = 0;
      pane.classList.remove('dragging');
      this.sendFile(event.dataTransfer.files[0]);
    });
    $('#transfer').addEventListener('click', () => this.openTransfer());
    $('#transfer-form').addEventListener('submit', (event) => this.confirmTransfer(event));
    $('#transfer-cancel').addEventListener('click', () => $('#transfer-dialog').close());
    $('#finish').addEventListener('click', () => this.finish());
    $('#choices').addEventListener('click', () => this.openChoices());
    $('#choices-kind').addEventListener('change', () => this.choicesKindChanged());
    $('#choices-form').addEventListener('submit', (event) => this.offerChoices(event));
    $('#choices-cancel').addEventListener('click', () => $('#choices-dialog').close());
    $('#back').addEventListener('click', () => this.closeConversation());
    $('#search-form').addEventListener('submit', (event) => this.search(event));
    document.addEventListener('keydown', (event) => {
      if (!this.me || !event.altKey) return;
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        this.moveSelection(event.key === 'ArrowDown' ? 1 : -1);
      }
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.selectedId !== null) {
        const conversation = this.conversations.get(this.selectedId);
        if (conversation && conversation.unread) {
          conversation.unread = 0;
          this.render();
        }
      }
    });
  }
}

const app = new Console();
// For people debugging a connection (and the browser tests): `helplineConsole.live.drop()` cuts the
// websocket the way a network failure would; the console reconnects and catches up by itself.
window.helplineConsole = app;
app.boot();
