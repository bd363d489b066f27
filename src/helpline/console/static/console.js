// The Helpline agent console. Plain modules, no framework: the server's agent API and its websocket are
// the whole backend. This module signs the agent in and out, switches views and draws the screens when
// the state changes; the state itself (`state.js`) and each part of the screen live in their own module.

import { Admin } from './admin.js';
import { api, onUnauthorized } from './api.js';
import { Composer } from './composer.js';
import { ConversationView } from './conversation.js';
import { Dialogs } from './dialogs.js';
import { $, formatDuration } from './dom.js';
import { Lists } from './lists.js';
import { customerName } from './model.js';
import { Notifications } from './notifications.js';
import { AGENT, State } from './state.js';

class Console {
  constructor() {
    this.view = 'inbox';
    this.renderPending = false;
    this.ticker = null;
    this.state = new State({
      changed: () => this.render(),
      toast: (text, kind) => this.notices.toast(text, kind),
      presence: (status) => this.showPresence(status),
      connection: (status) => this.notices.showConnection(status),
      arriving: (frame, id) => this.notices.arriving(frame, id),
      arrived: (frame, id) => this.notices.arrived(frame, id),
    });
    this.notices = new Notifications(this.state);
    this.composer = new Composer(this.state, this.notices);
    this.dialogs = new Dialogs(this.state, this.notices, {
      stopTyping: () => this.composer.stopTyping(),
      close: () => this.closeConversation(),
    });
    this.lists = new Lists(this.state, {
      open: (id) => this.select(id),
      accept: (id, button) => this.accept(id, button),
    });
    this.conversation = new ConversationView(this.state);
    this.admin = new Admin($('#admin'), (text, kind) => this.notices.toast(text, kind));
    this.bind();
  }

  // -- starting and stopping ----------------------------------------------------------------------

  async boot() {
    onUnauthorized(() => this.signedOut('Your session has ended. Sign in again to go on.'));
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
    $('#signin').hidden = true;
    $('#app').hidden = false;
    $('#me').textContent = me.name;
    this.showPresence(me.presence);
    document.querySelector('[data-view=admin]').hidden = me.role !== 'admin';
    this.notices.updateSoundButton();
    await this.state.start(me);
    this.composer.showLimit();
    this.dialogs.showFeatures();
    if (!this.ticker) this.ticker = setInterval(() => this.tick(), 1000);
    this.showView('inbox');
    const wanted = /^#c(\d+)$/.exec(location.hash);
    if (wanted) this.select(Number(wanted[1]));
    this.render();
  }

  async signOut() {
    try {
      await api('DELETE', `${AGENT}/session`);
    } catch {
      // Signed out locally either way; the cookie expires by itself.
    }
    this.signedOut('');
  }

  signedOut(message) {
    this.state.stop();
    history.replaceState(null, '', location.pathname);
    this.showSignIn(message);
  }

  // -- what the agent does ------------------------------------------------------------------------

  // The dot follows what the server confirmed, not what was just picked.
  showPresence(status) {
    $('#presence').value = status;
    $('.presence-control').dataset.presence = status;
  }

  async setPresence(status) {
    const select = $('#presence');
    const before = this.state.me.presence;
    select.disabled = true;
    try {
      const me = await api('PUT', `${AGENT}/presence`, { status });
      this.state.presenceChanged(me.id, me.presence);
    } catch (error) {
      select.value = before;
      this.notices.toast(`Presence not changed: ${error.message}`, 'alert');
    } finally {
      select.disabled = false;
    }
  }

  async accept(id, button) {
    const { state } = this;
    if (button) button.disabled = true;
    const ticket = ++state.ticket;
    try {
      const view = await api('POST', `${AGENT}/conversations/${id}/accept`);
      state.apply(view, ticket);
      this.conversation.focusComposer = true;
      this.select(id);
    } catch (error) {
      if (error.status === 409) {
        const conversation = state.conversations.get(id);
        const who = conversation ? customerName(conversation) : 'This conversation';
        this.notices.toast(`Too late: ${error.message}. (${who})`, 'alert');
      } else {
        this.notices.toast(`Could not accept: ${error.message}`, 'alert');
      }
      state.refresh(id);
    } finally {
      if (button) button.disabled = false;
    }
  }

  select(id) {
    const { state } = this;
    if (state.selectedId !== id) this.composer.stopTyping();
    state.selectedId = id;
    const conversation = state.ensure(id);
    conversation.unread = 0;
    history.replaceState(null, '', `#c${id}`);
    state.loadMessages(id);
    this.render();
  }

  closeConversation() {
    this.composer.stopTyping();
    this.state.selectedId = null;
    history.replaceState(null, '', location.pathname);
    this.render();
  }

  moveSelection(step) {
    const mine = this.state.mine();
    if (!mine.length) return;
    const index = mine.findIndex((c) => c.id === this.state.selectedId);
    const next = mine[(index + step + mine.length) % mine.length];
    this.select(next.id);
  }

  async finish() {
    const { state } = this;
    const id = state.selectedId;
    const conversation = state.conversations.get(id);
    if (!conversation) return;
    const button = $('#finish');
    button.disabled = true;
    const ticket = ++state.ticket;
    this.composer.stopTyping();
    try {
      const view = await api('POST', `${AGENT}/conversations/${id}/finish`);
      state.apply(view, ticket);
      this.notices.toast(`The conversation with ${customerName(conversation)} is finished.`, 'status');
    } catch (error) {
      this.notices.toast(`Could not finish: ${error.message}`, 'alert');
      state.refresh(id);
    } finally {
      button.disabled = false;
      this.render();
    }
  }

  async search(event) {
    if (event) event.preventDefault();
    const { state } = this;
    const q = $('#search').value.trim();
    const params = new URLSearchParams({ status: 'finished', limit: '100' });
    if (q) params.set('q', q);
    const ticket = ++state.ticket;
    try {
      const found = await api('GET', `${AGENT}/conversations?${params}`);
      state.history = found.conversations.map((view) => state.apply(view, ticket));
      $('#history-empty').textContent = q ? `Nothing found for “${q}”.` : 'No finished conversations yet.';
    } catch (error) {
      this.notices.toast(`Search failed: ${error.message}`, 'alert');
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

  // -- drawing ------------------------------------------------------------------------------------

  // Draw once per frame however many changes arrived since the last one.
  render() {
    if (this.renderPending) return;
    this.renderPending = true;
    requestAnimationFrame(() => {
      this.renderPending = false;
      if (!this.state.me) return;
      this.lists.render(this.view);
      this.conversation.render();
      this.renderTitle();
    });
  }

  renderTitle() {
    const waiting = this.state.queued().length;
    const unread = this.state.mine().reduce((sum, c) => sum + c.unread, 0);
    const parts = [];
    if (waiting) parts.push(`(${waiting})`);
    if (unread) parts.push('•');
    parts.push('Helpline');
    document.title = parts.join(' ');
  }

  tick() {
    const now = this.state.serverNow();
    for (const element of document.querySelectorAll('[data-since]')) {
      element.textContent = formatDuration(now - Number(element.dataset.since));
    }
  }

  // -- wiring -------------------------------------------------------------------------------------

  bind() {
    $('#signin-form').addEventListener('submit', (event) => this.signIn(event));
    $('#signout').addEventListener('click', () => this.signOut());
    $('#presence').addEventListener('change', (event) => this.setPresence(event.target.value));
    for (const tab of document.querySelectorAll('.view-tab')) {
      tab.addEventListener('click', () => this.showView(tab.dataset.view));
    }
    $('#finish').addEventListener('click', () => this.finish());
    $('#back').addEventListener('click', () => this.closeConversation());
    $('#search-form').addEventListener('submit', (event) => this.search(event));
    document.addEventListener('keydown', (event) => {
      if (!this.state.me || !event.altKey) return;
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        this.moveSelection(event.key === 'ArrowDown' ? 1 : -1);
      }
    });
    document.addEventListener('visibilitychange', () => {
      const { state } = this;
      if (!document.hidden && state.selectedId !== null) {
        const conversation = state.conversations.get(state.selectedId);
        if (conversation?.unread) {
          conversation.unread = 0;
          this.render();
        }
      }
    });
  }
}

const app = new Console();
// For people debugging a connection (and the browser tests): `helplineConsole.live.drop()` cuts the
// websocket the way a network failure would; the console reconnects and catches up by itself. It is the
// console's state (`state.js`): what the console knows, its clock offset and its upload limit.
window.helplineConsole = app.state;
app.boot();
