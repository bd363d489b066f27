// The SDK API as the widget uses it: REST with the contact's token, the websocket with resume.
import { backoff } from './state.js';

export class Refused extends Error {}
export class Failed extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export class Api {
  constructor(base, inbox) {
    this.base = base;
    this.inbox = inbox;
    this.token = null;
  }

  url(path, query = {}) {
    const url = new URL(`/api/v1/sdk${path}`, this.base);
    if (this.inbox) url.searchParams.set('inbox', this.inbox);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) url.searchParams.set(k, v);
    return url.toString();
  }

  headers(json) {
    const headers = {};
    if (this.token) headers.access_token = this.token;
    if (json) headers['content-type'] = 'application/json';
    return headers;
  }

  async call(method, path, { body, query } = {}) {
    const response = await fetch(this.url(path, query), {
      method,
      headers: this.headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      mode: 'cors',
      referrerPolicy: 'no-referrer',
    });
    if (response.ok) {
      const text = await response.text();
      return text ? JSON.parse(text) : null;
    }
    let message = response.statusText;
    try {
      message = (await response.json()).message || message;
    } catch {
      /* not JSON */
    }
    if (response.status === 403 && /not enabled for this site/.test(message)) throw new Refused(message);
    throw new Failed(response.status, message, Number(response.headers.get('retry-after')) || 0);
  }

  settings() {
    return this.call('GET', '/settings');
  }
  create(body) {
    return this.call('POST', '/conversations', { body });
  }
  current() {
    return this.call('GET', '/conversations');
  }
  queue() {
    return this.call('GET', '/conversations/queue');
  }
  after(id) {
    return this.call('GET', '/conversations/messages', { query: { after: id, limit: 100 } });
  }
  send(content, echoId) {
    return this.call('POST', '/conversations/messages', { body: { message: { content, echo_id: echoId } } });
  }
  status(ids, status) {
    return this.call('PATCH', '/conversations/messages/status', { body: { status, messageIds: ids } });
  }
  choose(id, value) {
    return this.call('PATCH', `/conversations/messages/${id}/interactive-attribute`, {
      body: { selected_content_attribute_value: value },
    });
  }

  // A file with progress (fetch cannot report upload progress; XMLHttpRequest can).
  upload(file, content, echoId, onProgress) {
    return new Promise((resolve, reject) => {
      const form = new FormData();
      form.append('message[content]', content || '');
      form.append('message[echo_id]', echoId);
      form.append('attachments[]', file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open('POST', this.url('/conversations/messages'));
      xhr.setRequestHeader('access_token', this.token);
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(Math.round((100 * e.loaded) / e.total));
      xhr.onload = () => {
        if (xhr.status < 300) return resolve();
        let message = xhr.statusText;
        try {
          message = JSON.parse(xhr.responseText).message || message;
        } catch {
          /* not JSON */
        }
        reject(new Failed(xhr.status, message, 0));
      };
      xhr.onerror = () => reject(new Failed(0, 'network error', 0));
      xhr.send(form);
    });
  }
}

// The live connection: subscribes with the token, resumes after the last message id it was given,
// answers keepalives, reconnects with backoff. ``handlers.frame(frame)`` gets each event.
export class Live {
  constructor(base, inbox, handlers) {
    this.url = new URL('/ws', base);
    this.url.protocol = this.url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (inbox) this.url.searchParams.set('inbox', inbox);
    this.handlers = handlers;
    this.socket = null;
    this.attempt = 0;
    this.stopped = true;
    this.timer = null;
  }

  start(token, accountId, lastId) {
    this.stop();
    this.stopped = false;
    this.token = token;
    this.accountId = accountId;
    this.lastId = () => lastId();
    this.connect();
  }

  connect() {
    if (this.stopped) return;
    const socket = new WebSocket(this.url.toString());
    this.socket = socket;
    socket.onopen = () => {
      const data = { pubsub_token: this.token, account_id: this.accountId };
      const last = this.fresh ? 0 : this.lastId();
      this.fresh = false;
      if (last) data.after = last;
      socket.send(JSON.stringify({ event: 'subscribe', data }));
    };
    socket.onmessage = (e) => {
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      if (frame.event === 'confirm_subscription') {
        this.attempt = 0;
        this.handlers.state('live');
        return;
      }
      if (frame.event === 'presence.update') {
        this.emit({ event: 'update_presence' });
        return;
      }
      this.handlers.frame(frame);
    };
    socket.onclose = (e) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      if (e.code === 4401 || e.code === 4403) {
        this.stopped = true;
        this.handlers.state(e.code === 4403 ? 'refused' : 'gone');
        return;
      }
      if (e.code === 4404) {
        // "cannot resume": subscribe afresh, and the widget reads the conversation again.
        this.fresh = true;
        this.handlers.state('resync');
      } else {
        this.handlers.state('reconnecting');
      }
      this.timer = setTimeout(() => this.connect(), backoff(this.attempt++));
    };
  }

  emit(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  // After the browser says it is back online, try at once instead of waiting out the backoff.
  nudge() {
    if (this.stopped || this.socket) return;
    clearTimeout(this.timer);
    this.attempt = 0;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close();
  }
}
