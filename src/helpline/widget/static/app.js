// The widget itself: a launcher and a chat panel in a shadow root, driving the SDK API.
import { Api, Failed, Live, Refused } from './api.js';
import { pickLocale, size, translator } from './i18n.js';
import * as S from './state.js';
import { CSS } from './styles.js';

const ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
const CLIP =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z"/></svg>';
const TYPING_SEND_MS = 2000;
const QUEUE_POLL_MS = 8000;
const TYPING_SHOW_MS = 6000;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

function safeUrl(raw) {
  try {
    const url = new URL(raw, location.href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : null;
  } catch {
    return null;
  }
}

// Pictures are loaded only from Helpline itself (files, agents' photos it serves): a URL elsewhere would
// tell a third party who is reading. Others show as a link the customer may choose to open.
function ownUrl(raw, ...bases) {
  const url = safeUrl(raw);
  if (!url) return null;
  const origin = new URL(url).origin;
  return bases.some((b) => b && new URL(b).origin === origin) ? url : null;
}

class Widget {
  constructor(config) {
    this.config = config;
    this.locale = pickLocale(config.locale, navigator.languages);
    this.t = translator(this.locale);
    this.api = new Api(config.base, config.inbox);
    this.key = `helpline:${config.inbox || 'default'}`;
    this.state = S.initial();
    this.settings = null;
    this.identity = {};
    this.isOpen = sessionStorage.getItem(`${this.key}:open`) === '1';
    this.sound = localStorage.getItem('helpline:sound') !== 'off';
    this.baseTitle = document.title;
    this.titled = null;
    this.typingTimer = null;
    this.lastTypingSent = 0;
    this.notice = '';
    this.live = new Live(config.base, config.inbox, {
      frame: (frame) => this.onFrame(frame),
      state: (s) => this.onLiveState(s),
    });
    this.build();
  }

  // -- storage: the token outlives reloads and is shared by the site's tabs ----------------------

  stored() {
    try {
      return JSON.parse(localStorage.getItem(this.key) || 'null');
    } catch {
      return null;
    }
  }

  remember(record) {
    localStorage.setItem(this.key, JSON.stringify(record));
  }

  forget() {
    localStorage.removeItem(this.key);
  }

  // -- building the DOM --------------------------------------------------------------------------

  build() {
    const t = this.t;
    this.host = el('div', { 'data-helpline': '' });
    const root = this.host.attachShadow({ mode: 'open' });
    root.append(el('style', { text: CSS }));
    const dir = document.documentElement.dir === 'rtl' ? 'rtl' : 'ltr';
    this.frame = el('div', { class: `hl ${this.config.position}`, dir, lang: this.locale });
    root.append(this.frame);

    this.badge = el('span', { class: 'badge', 'aria-hidden': 'true', hidden: true });
    this.launcher = el('button', {
      class: 'launcher',
      type: 'button',
      'aria-haspopup': 'dialog',
      'aria-expanded': 'false',
      onclick: () => this.toggle(),
    });
    this.launcher.innerHTML = ICON;
    this.launcher.append(this.badge);

    this.avatar = el('img', { alt: '', hidden: true });
    this.titleNode = el('h2', { text: this.config.title || t('title') });
    this.availability = el('span', { class: 'availability' });
    this.soundButton = el(
      'button',
      {
        class: 'icon',
        type: 'button',
        'aria-label': t('sound'),
        'aria-pressed': String(this.sound),
        onclick: () => this.toggleSound(),
      },
      '♪',
    );
    this.endButton = el('button', { class: 'end', type: 'button', text: t('close'), onclick: () => this.endChat() });
    const minimise = el(
      'button',
      { class: 'icon', type: 'button', 'aria-label': t('minimise'), onclick: () => this.close(true) },
      '✕',
    );
    const header = el(
      'header',
      {},
      this.avatar,
      el('div', { class: 'who' }, this.titleNode, this.availability),
      this.soundButton,
      this.endButton,
      minimise,
    );

    this.greeting = el('p', { class: 'greeting' });
    this.noticeNode = el('p', { class: 'notice', role: 'status' });
    this.prechat = this.buildPrechat();
    this.offline = this.buildOffline();
    this.log = el('ol', { class: 'log', role: 'log', 'aria-label': t('messages'), 'aria-live': 'polite' });
    this.body = el('div', { class: 'body' }, this.greeting, this.prechat, this.offline, this.log, this.noticeNode);
    this.typing = el('div', { class: 'typing', 'aria-live': 'polite' });

    this.input = el('textarea', { class: 'compose', rows: '1', 'aria-label': t('message'), placeholder: t('message') });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.sendText();
      }
    });
    this.input.addEventListener('input', () => this.typed());
    this.input.addEventListener('paste', (e) => {
      const files = [...(e.clipboardData?.files || [])];
      if (files.length) {
        e.preventDefault();
        this.sendFiles(files);
      }
    });
    this.picker = el('input', { type: 'file', multiple: true, hidden: true, tabindex: '-1' });
    this.picker.addEventListener('change', () => {
      this.sendFiles([...this.picker.files]);
      this.picker.value = '';
    });
    const attach = el('button', {
      class: 'attach',
      type: 'button',
      'aria-label': t('attach'),
      onclick: () => this.picker.click(),
    });
    attach.innerHTML = CLIP;
    const send = el('button', { class: 'send', type: 'button', text: t('send'), onclick: () => this.sendText() });
    this.progress = el('progress', { max: '100', value: '0', hidden: true });
    this.hint = el('span');
    this.composer = el(
      'div',
      { class: 'composer' },
      el('div', { class: 'row' }, attach, this.input, send),
      el('div', { class: 'hint' }, this.hint, this.progress),
      this.picker,
    );

    this.panel = el(
      'section',
      { class: 'panel', role: 'dialog', 'aria-label': t('chat'), hidden: true },
      header,
      this.body,
      this.typing,
      this.composer,
    );
    this.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.close(true);
    });
    this.panel.addEventListener('dragover', (e) => {
      e.preventDefault();
      this.panel.classList.add('dropping');
    });
    this.panel.addEventListener('dragleave', () => this.panel.classList.remove('dropping'));
    this.panel.addEventListener('drop', (e) => {
      e.preventDefault();
      this.panel.classList.remove('dropping');
      this.sendFiles([...(e.dataTransfer?.files || [])]);
    });
    this.frame.append(this.launcher, this.panel);
    // An async script in <head> may run before <body> exists.
    if (document.body) document.body.append(this.host);
    else document.addEventListener('DOMContentLoaded', () => document.body.append(this.host), { once: true });
  }

  buildPrechat() {
    const t = this.t;
    this.preName = el('input', { type: 'text', autocomplete: 'name', required: true });
    this.preEmail = el('input', { type: 'email', autocomplete: 'email' });
    this.preEmailLabel = el('label', { class: 'field' }, t('email'), this.preEmail);
    return el(
      'form',
      {
        class: 'fields',
        hidden: true,
        onsubmit: (e) => {
          e.preventDefault();
          if (!this.preName.value.trim()) return this.preName.focus();
          this.identity = {
            ...this.identity,
            name: this.preName.value.trim(),
            email: this.preEmail.value.trim() || undefined,
          };
          this.prechatDone = true;
          this.render();
          this.input.focus();
        },
      },
      el('label', { class: 'field' }, t('name'), this.preName),
      this.preEmailLabel,
      el('button', { class: 'primary', type: 'submit', text: t('start') }),
    );
  }

  buildOffline() {
    const t = this.t;
    this.offName = el('input', { type: 'text', autocomplete: 'name', required: true });
    this.offEmail = el('input', { type: 'email', autocomplete: 'email', required: true });
    this.offText = el('textarea', { rows: '4', required: true });
    return el(
      'form',
      {
        class: 'fields',
        hidden: true,
        onsubmit: (e) => {
          e.preventDefault();
          this.leaveMessage();
        },
      },
      el('p', { class: 'notice', text: t('offlineIntro') }),
      el('label', { class: 'field' }, t('name'), this.offName),
      el('label', { class: 'field' }, t('email'), this.offEmail),
      el('label', { class: 'field' }, t('message'), this.offText),
      el('button', { class: 'primary', type: 'submit', text: t('leave') }),
    );
  }

  // -- starting ----------------------------------------------------------------------------------

  async init() {
    await this.loadSettings();
    const record = this.stored();
    if (record?.token && !this.settings?.refused) await this.resume(record);
    window.addEventListener('storage', (e) => {
      if (e.key === this.key) this.otherTab();
    });
    document.addEventListener('visibilitychange', () => this.seen());
    window.addEventListener('online', () => this.live.nudge());
    if (this.isOpen) this.open(false);
    this.render();
  }

  async loadSettings() {
    try {
      this.settings = await this.api.settings();
      const w = this.settings.widget || {};
      this.frame.style.setProperty('--accent', this.config.color || w.color || '#2463eb');
    } catch (problem) {
      this.settings = { refused: problem instanceof Refused, error: problem.message };
    }
  }

  async resume(record) {
    this.api.token = record.token;
    this.accountId = record.accountId;
    try {
      const found = await this.api.current();
      this.state.conversation = found.conversation;
      S.merge(this.state, found.messages, { open: this.isOpen });
      this.state.unread = record.unread || 0;
      this.live.start(record.token, record.accountId, () => this.state.lastId);
      this.report();
      this.watchQueue(true);
    } catch (problem) {
      if (problem instanceof Failed && (problem.status === 401 || problem.status === 404)) this.reset(false);
      else if (problem instanceof Refused) this.settings = { refused: true };
    }
  }

  otherTab() {
    const record = this.stored();
    if (record?.token && record.token !== this.api.token) {
      this.reset(false);
      this.resume(record).then(() => this.render());
    } else if (!record && this.api.token) {
      this.reset(false);
      this.render();
    }
  }

  reset(clearStorage = true) {
    this.live.stop();
    clearTimeout(this.queueTimer);
    if (clearStorage) this.forget();
    this.api.token = null;
    this.state = S.initial();
    this.agent = null;
    this.notice = '';
    this.prechatDone = false;
    this.updateTitle();
  }

  // -- open / close ------------------------------------------------------------------------------

  toggle() {
    if (this.isOpen) this.close(true);
    else this.open(true);
  }

  open(focus = true) {
    this.isOpen = true;
    sessionStorage.setItem(`${this.key}:open`, '1');
    this.panel.hidden = false;
    this.launcher.setAttribute('aria-expanded', 'true');
    this.state.unread = 0;
    this.saveUnread();
    this.render();
    this.seen();
    if (focus) {
      const target = [this.preName, this.offName, this.input].find((n) => n.offsetParent !== null);
      (target || this.input).focus();
    }
    this.loadSettings().then(() => this.render());
  }

  close(focusLauncher) {
    this.isOpen = false;
    sessionStorage.removeItem(`${this.key}:open`);
    this.panel.hidden = true;
    this.launcher.setAttribute('aria-expanded', 'false');
    this.render();
    if (focusLauncher) this.launcher.focus();
  }

  toggleSound() {
    this.sound = !this.sound;
    localStorage.setItem('helpline:sound', this.sound ? 'on' : 'off');
    this.soundButton.setAttribute('aria-pressed', String(this.sound));
  }

  async endChat() {
    if (this.api.token) {
      try {
        await this.api.call('POST', '/conversations/resolve');
      } catch {
        /* forgetting the token ends it for this customer anyway */
      }
    }
    this.reset(true);
    this.render();
    this.input.focus();
  }

  identify(details) {
    const allowed = ['name', 'email', 'phone_number', 'custom_attributes'];
    for (const k of allowed) if (details && details[k] !== undefined) this.identity[k] = details[k];
    if (this.identity.name) this.prechatDone = true;
    this.render();
  }

  // -- sending -----------------------------------------------------------------------------------

  // A new conversation, once: a second send (a file dropped while the first message is on its way) waits
  // for it instead of opening another. After the end of one, the API itself starts the next.
  async ensureConversation(firstMessage) {
    if (this.creating) {
      await this.creating;
      return false;
    }
    if (this.api.token) return false;
    this.creating = this.createConversation(firstMessage);
    try {
      await this.creating;
      return true;
    } finally {
      this.creating = null;
    }
  }

  async createConversation(firstMessage) {
    const body = {
      name: this.identity.name || this.t('visitor'),
      email: this.identity.email,
      phone_number: this.identity.phone_number,
      custom_attributes: this.identity.custom_attributes,
      additional_attributes: { source: 'web_widget', page_url: location.href.slice(0, 500) },
    };
    if (firstMessage) body.message = firstMessage;
    const created = (await this.api.create(body)).payload;
    this.api.token = created.contactInbox.pubsubToken;
    this.accountId = created.account_id;
    this.state.conversation = created.conversation;
    this.remember({ token: this.api.token, accountId: this.accountId });
    const found = await this.api.current();
    this.state.conversation = found.conversation;
    S.merge(this.state, found.messages, { open: true });
    this.live.start(this.api.token, this.accountId, () => this.state.lastId);
    this.watchQueue(true);
  }

  async sendText() {
    const content = this.input.value;
    if (!content.trim()) return;
    this.input.value = '';
    this.sendTyping(false);
    const echo = S.echoId();
    S.addPending(this.state, echo, content);
    this.render();
    try {
      const created = await this.ensureConversation({ content, echo_id: echo });
      if (!created) await this.api.send(content, echo);
      S.sentPending(this.state, echo);
      this.notice = '';
      if (created) this.render();
    } catch (problem) {
      S.failPending(this.state, echo);
      this.fail(problem);
    }
    this.render();
  }

  async sendFiles(files) {
    const limit = this.settings?.attachments?.max_bytes || Infinity;
    for (const file of files) {
      if (file.size > limit) {
        this.notice = this.t('tooBig', { file: file.name, size: size(limit) });
        this.render();
        continue;
      }
      const echo = S.echoId();
      S.addPending(this.state, echo, '', file.name);
      this.render();
      try {
        await this.ensureConversation(null);
        this.progress.hidden = false;
        await this.api.upload(file, '', echo, (percent) => {
          this.progress.value = percent;
          this.hint.textContent = this.t('uploading', { percent });
        });
        S.sentPending(this.state, echo);
        this.notice = '';
      } catch (problem) {
        S.failPending(this.state, echo);
        this.fail(problem);
      } finally {
        this.progress.hidden = true;
        this.progress.value = 0;
        this.render();
      }
    }
  }

  async leaveMessage() {
    const name = this.offName.value.trim();
    const email = this.offEmail.value.trim();
    const content = this.offText.value.trim();
    if (!name || !email || !content) return;
    try {
      await this.api.create({
        name,
        email,
        message: { content, echo_id: S.echoId() },
        additional_attributes: { source: 'web_widget', left_offline: true },
      });
      this.leftMessage = true;
      this.notice = this.t('left');
    } catch (problem) {
      this.fail(problem);
    }
    this.render();
  }

  async choose(message, value) {
    try {
      await this.api.choose(message.id, value);
      message.content_attributes = { ...message.content_attributes, selected_value: value };
    } catch (problem) {
      this.fail(problem);
    }
    this.render();
  }

  fail(problem) {
    if (problem instanceof Refused) this.settings = { refused: true };
    else if (problem instanceof Failed && problem.status === 429) this.notice = this.t('tooMany');
    else this.notice = this.t('error', { message: problem.message });
  }

  typed() {
    const now = Date.now();
    if (this.input.value.trim() && now - this.lastTypingSent > TYPING_SEND_MS) this.sendTyping(true);
    if (!this.input.value.trim()) this.sendTyping(false);
  }

  sendTyping(typing) {
    const id = this.state.conversation?.id;
    if (!id) return;
    this.lastTypingSent = typing ? Date.now() : 0;
    this.live.emit({ event: 'typing', data: { conversation_id: id, typing } });
  }

  // -- live --------------------------------------------------------------------------------------

  onFrame(frame) {
    const data = frame.data || {};
    if (frame.event === 'message.created' || frame.event === 'message.updated') {
      const visible = this.isOpen && !document.hidden;
      const added = S.merge(this.state, [data], { open: visible });
      if (added && S.isFromTeam(data)) {
        this.typing.textContent = '';
        if (!visible) this.ding();
      }
      this.saveUnread();
      this.report();
    } else if (frame.event === 'conversation.status_changed') {
      this.state.conversation = { ...data, queue_position: this.state.conversation?.queue_position };
      this.watchQueue(true);
      const assignee = data.meta?.assignee;
      if (assignee) this.agent = assignee;
      if (data.status === 'resolved') this.typing.textContent = '';
    } else if (frame.event === 'typing' && data.sender_type === 'User') {
      this.typing.textContent = this.t('typing', { name: data.sender?.name || '' });
      clearTimeout(this.typingTimer);
      this.typingTimer = setTimeout(() => (this.typing.textContent = ''), TYPING_SHOW_MS);
    }
    this.render();
  }

  // The place in the queue is not pushed to SDK clients: while waiting, ask for it now and then.
  watchQueue(now = false) {
    clearTimeout(this.queueTimer);
    const c = this.state.conversation;
    if (!this.api.token || !c || c.status === 'resolved' || c.substatus === 'interacting') return;
    this.queueTimer = setTimeout(
      async () => {
        try {
          const found = await this.api.queue();
          const c = this.state.conversation;
          if (c && found.conversation_id === c.id) {
            this.state.conversation = {
              ...c,
              status: found.status,
              substatus: found.substatus,
              queue_position: found.queue_position,
            };
            this.render();
          }
        } catch {
          /* the next status change or tick tries again */
        }
        this.watchQueue();
      },
      now ? 0 : QUEUE_POLL_MS,
    );
  }

  onLiveState(state) {
    if (state === 'resync') this.resync = true;
    if (state === 'live' && this.resync && this.api.token) {
      // The server could not resume from our last message: read the conversation over again.
      this.resync = false;
      this.api
        .current()
        .then((found) => {
          this.state.conversation = { ...found.conversation, queue_position: this.state.conversation?.queue_position };
          S.merge(this.state, found.messages, { open: this.isOpen && !document.hidden });
          this.report();
          this.render();
        })
        .catch(() => {});
    }
    this.connection = state;
    if (state === 'gone') this.reset(true);
    if (state === 'refused') this.settings = { refused: true };
    this.render();
  }

  // Agents' messages: delivered as soon as they are here, seen once the open panel shows them.
  report() {
    const delivered = S.toReport(this.state, 'delivered');
    if (delivered.length) {
      S.markReported(this.state, delivered, 'delivered');
      this.api.status(delivered, 'delivered').catch(() => {});
    }
    this.seen();
  }

  seen() {
    if (!this.isOpen || document.hidden || !this.api.token) return this.updateTitle();
    this.state.unread = 0;
    this.saveUnread();
    const unseen = S.toReport(this.state, 'seen');
    if (unseen.length) {
      S.markReported(this.state, unseen, 'seen');
      this.api.status(unseen, 'seen').catch(() => {});
    }
    this.updateTitle();
  }

  saveUnread() {
    const record = this.stored();
    if (record && record.token === this.api.token) this.remember({ ...record, unread: this.state.unread });
  }

  // The count goes in front of the page's own title, and the page's title comes back without it; a
  // title the page sets meanwhile is kept.
  updateTitle() {
    const n = this.state.unread;
    if (n) {
      if (!this.titled || document.title !== this.titled) this.baseTitle = document.title;
      this.titled = `(${n}) ${this.baseTitle}`;
      document.title = this.titled;
    } else if (this.titled) {
      if (document.title === this.titled) document.title = this.baseTitle;
      this.titled = null;
    }
  }

  ding() {
    if (!this.sound) return;
    try {
      if (!this.audio) this.audio = new AudioContext();
      const audio = this.audio;
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.08, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.25);
    } catch {
      /* no audio here: the title count still tells */
    }
  }

  // -- rendering ---------------------------------------------------------------------------------

  render() {
    const t = this.t;
    const n = this.state.unread;
    this.launcher.setAttribute('aria-label', n ? `${t('open')} (${t('unread', { n })})` : t('open'));
    this.badge.hidden = !n;
    this.badge.textContent = String(n);
    this.updateTitle();
    if (!this.isOpen) return;
    const settings = this.settings || {};
    const w = settings.widget || {};
    const phase = S.phase(this.state.conversation, {
      ...settings,
      prechat: this.identity.name || this.prechatDone ? 'none' : w.prechat || 'none',
    });
    const refused = phase === 'refused';
    this.greeting.textContent = refused ? '' : w.greeting || t('greeting');
    this.greeting.hidden = refused;
    this.availability.textContent = refused ? '' : settings.agents_online ? t('online') : t('away');
    if (this.agent && phase === 'assigned') {
      this.titleNode.textContent = this.agent.name;
      const photo = this.agent.avatar_url && ownUrl(this.agent.avatar_url, this.config.base, this.settings?.public_url);
      this.avatar.hidden = !photo;
      if (photo) this.avatar.src = photo;
    } else {
      this.titleNode.textContent = this.config.title || t('title');
      this.avatar.hidden = true;
    }
    this.prechat.hidden = phase !== 'prechat';
    this.preEmailLabel.hidden = w.prechat !== 'email';
    const offline = phase === 'offline' && !this.leftMessage;
    this.offline.hidden = !offline;
    this.composer.hidden = refused || phase === 'prechat' || offline || (phase === 'offline' && this.leftMessage);
    this.endButton.hidden = !this.api.token;
    this.hint.textContent = settings.attachments ? t('maxSize', { size: size(settings.attachments.max_bytes) }) : '';
    const notices = {
      refused: t('refused'),
      waiting: this.state.conversation?.queue_position
        ? `${t('waiting')} ${t('position', { n: this.state.conversation.queue_position })}`
        : t('waiting'),
      ended: t('ended'),
      bot: t('bot'),
      assigned: this.agent ? t('assigned', { name: this.agent.name }) : '',
    };
    let notice = this.notice || notices[phase] || '';
    if (this.connection === 'reconnecting' && !refused) notice = t('reconnecting');
    this.noticeNode.textContent = notice;
    this.noticeNode.classList.toggle('error', refused);
    this.renderLog();
  }

  renderLog() {
    const atBottom = this.body.scrollHeight - this.body.scrollTop - this.body.clientHeight < 40;
    // Unchanged messages keep their nodes (and a half-filled rating form its state).
    const nodes = new Map();
    const items = this.state.messages.map((m) => {
      const key = m.pending ? `e:${m.echo_id}` : m.id;
      const sig = JSON.stringify([m.status, m.content, m.content_attributes, m.attachments, m.file, m.sender?.name]);
      const known = this.nodes?.get(key);
      const node = known && known.sig === sig ? known.node : this.renderMessage(m);
      nodes.set(key, { sig, node });
      return node;
    });
    this.nodes = nodes;
    this.log.replaceChildren(...items);
    if (atBottom || items.length) this.body.scrollTop = this.body.scrollHeight;
  }

  renderMessage(m) {
    const t = this.t;
    const mine = m.message_type === 'incoming';
    const kind = m.message_type === 'activity' ? 'activity' : mine ? 'mine' : 'theirs';
    const item = el('li', { class: `msg ${kind}`, 'data-id': m.id ?? null });
    if (!mine && kind === 'theirs') item.append(el('span', { class: 'meta', text: m.sender?.name || '' }));
    const bubble = el('div', { class: 'bubble' });
    const attrs = m.content_attributes || {};
    if (attrs.deleted) bubble.textContent = '—';
    else if (m.content) bubble.textContent = m.content;
    if (m.file) bubble.textContent = m.file;
    for (const a of m.attachments || []) {
      const url = safeUrl(a.data_url);
      if (!url) continue;
      const name = url.split('/').pop();
      const inline = a.file_type === 'image' && ownUrl(url, this.config.base, this.settings?.public_url);
      bubble.append(
        inline
          ? el(
              'a',
              { href: url, target: '_blank', rel: 'noopener noreferrer' },
              el('img', { class: 'file', src: url, alt: decodeURIComponent(name) }),
            )
          : el('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: decodeURIComponent(name) }),
      );
    }
    if (bubble.childNodes.length) item.append(bubble);
    if (m.content_type === 'card' && attrs.image_url) {
      const own = ownUrl(attrs.image_url, this.config.base, this.settings?.public_url);
      const elsewhere = !own && safeUrl(attrs.image_url);
      if (own) item.prepend(el('div', { class: 'card' }, el('img', { src: own, alt: '' })));
      else if (elsewhere)
        item.append(
          el('a', { href: elsewhere, target: '_blank', rel: 'noopener noreferrer', text: this.t('picture') }),
        );
    }
    if (m.content_type === 'quick_reply' || m.content_type === 'card') item.append(this.renderChoices(m));
    if (m.content_type === 'feedback') item.append(this.renderFeedback(m));
    if (mine)
      item.append(el('span', { class: 'meta receipt', text: t(m.status === 'sending' ? 'sending' : m.status) || '' }));
    return item;
  }

  renderChoices(m) {
    const chosen = m.content_attributes?.selected_value;
    const box = el('div', { class: 'choices', role: 'group', 'aria-label': m.content || '' });
    for (const option of S.options(m)) {
      if (option.kind === 'link') {
        const url = safeUrl(option.url);
        if (url) box.append(el('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: option.title }));
        continue;
      }
      const picked = chosen != null && chosen === option.value;
      box.append(
        el('button', {
          type: 'button',
          'aria-pressed': String(picked),
          disabled: chosen != null,
          text: option.title,
          onclick: () => this.choose(m, option.value),
        }),
      );
    }
    if (chosen != null) {
      const title = S.options(m).find((o) => o.value === chosen)?.title ?? chosen;
      box.append(el('span', { class: 'meta', text: this.t('chosen', { value: title }) }));
    }
    return box;
  }

  renderFeedback(m) {
    const t = this.t;
    const chosen = m.content_attributes?.selected_value;
    if (chosen != null) return el('span', { class: 'meta', text: t('thanks', { value: chosen }) });
    const comment = el('input', { type: 'text' });
    let rating = 0;
    const stars = el('div', { class: 'stars', role: 'group', 'aria-label': m.content || '' });
    for (let n = 1; n <= 5; n++) {
      stars.append(
        el('button', {
          type: 'button',
          'aria-label': t('rate', { n }),
          'aria-pressed': 'false',
          text: `★${n}`,
          onclick: (e) => {
            rating = n;
            for (const b of stars.children) b.setAttribute('aria-pressed', String(b === e.currentTarget));
          },
        }),
      );
    }
    const submit = el('button', { class: 'primary', type: 'submit', text: t('submit') });
    return el(
      'form',
      {
        class: 'fields',
        onsubmit: (e) => {
          e.preventDefault();
          if (rating) this.choose(m, S.feedbackValue(rating, comment.value));
        },
      },
      stars,
      el('label', { class: 'field' }, t('comment'), comment),
      submit,
    );
  }
}

export function start(config, api, queue) {
  const widget = new Widget(config);
  api.identify = (details) => widget.identify(details);
  api.open = () => widget.open(true);
  api.close = () => widget.close(false);
  for (const [name, args] of queue.splice(0)) api[name](...args);
  widget.init();
}
