// The open conversation: its title, a banner saying why the agent cannot answer (when so), and the
// message log with earlier history, attachments, interactive messages and receipts. Seeing it counts as
// reading it: the customer's side is told, where its API can hear that.

import { api } from './api.js';
import { $, formatBytes, formatTime, h, isoTime, renderKeyed, safeUrl } from './dom.js';
import { compareOrder, customerName, originName, present } from './model.js';
import { AGENT } from './state.js';

const RECEIPTS = { sent: 'Sent', delivered: 'Delivered', seen: 'Seen', failed: 'Not delivered' };

export class ConversationView {
  constructor(state) {
    this.state = state;
    this.focusComposer = false;
    this.workspace = $('#workspace');
    this.placeholder = $('#placeholder');
    this.pane = $('#conversation');
    this.title = $('#conversation-title');
    this.meta = $('#conversation-meta');
    this.banner = $('#conversation-banner');
    this.typing = $('#typing');
    this.list = $('#messages');
    this.mineOnly = [$('#transfer'), $('#finish'), $('#composer')];
  }

  render() {
    const { state } = this;
    const conversation = state.selectedId !== null ? state.conversations.get(state.selectedId) : null;
    this.workspace.classList.toggle('has-selection', Boolean(conversation));
    this.placeholder.hidden = Boolean(conversation);
    this.pane.hidden = !conversation;
    if (!conversation) return;
    const mine = state.isMine(conversation);
    const loading = conversation.state === null;
    this.title.textContent = loading ? 'Loading…' : customerName(conversation);
    const contact = conversation.contact || {};
    const meta = [state.departmentName(conversation.department_id), originName(conversation)];
    if (contact.email) meta.push(contact.email);
    if (contact.phone) meta.push(contact.phone);
    if (conversation.mood) meta.push(`mood ${conversation.mood.toLowerCase()}`);
    this.meta.textContent = loading ? '' : meta.join(' · ');
    for (const element of this.mineOnly) element.hidden = !mine;
    const note = this.note(conversation, mine);
    this.banner.hidden = !note;
    this.banner.textContent = note;
    const typing = conversation.contactTyping && !conversation.gone;
    this.typing.textContent = typing ? `${customerName(conversation)} is typing…` : '';
    this.renderMessages(conversation);
    if (mine && !document.hidden) this.markSeen(conversation);
    if (this.focusComposer && mine) {
      this.focusComposer = false;
      $('#message').focus();
    }
  }

  // Why the agent cannot answer here, or '' when they can.
  note(conversation, mine) {
    if (conversation.gone) {
      return 'This conversation is no longer yours to see: it was handed to a department you are not in.';
    }
    if (conversation.state === 'finished') {
      return conversation.finish_reason === 'unavailable'
        ? 'This conversation ended: nobody was available.'
        : 'This conversation is finished.';
    }
    if (conversation.state === 'queued') return 'Waiting in the queue. Accept it from the list to answer.';
    if (conversation.state === 'assigned' && !mine) {
      const agent = this.state.agents.get(conversation.assignee_id);
      return `${agent ? agent.name : 'Another agent'} is answering this conversation.`;
    }
    if (conversation.state === 'bot') return 'A bot is talking with this customer.';
    return '';
  }

  renderMessages(conversation) {
    const list = this.list;
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
      if (external && external.status === 'failed') {
        label = `Earlier history could not be loaded: ${external.error || 'unknown error'}`;
      }
      const kind = external && external.status === 'failed' ? 'failed' : 'history';
      items.push({ key: 'divider-history', divider: label, kind });
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
      if (this.state.me && sender.id === this.state.me.id) return 'You';
      return sender.name || this.state.agents.get(sender.id)?.name || 'Agent';
    }
    if (sender.type === 'bot') return sender.name || 'Bot';
    return sender.name || 'System';
  }

  fillMessage(li, message, conversation) {
    const signature = JSON.stringify([
      message.content,
      message.url,
      message.status,
      message.attributes,
      message.selected,
      message.deleted,
      message.kind,
      message.sender,
      message.file,
      conversation.contact?.name,
    ]);
    if (li.signature === signature) return;
    li.signature = signature;
    li.className = `message ${message.direction}${message.history ? ' history' : ''}`;
    let when = null;
    if (!message.history) {
      when = h('time', { class: 'time', datetime: isoTime(message.created_at) }, formatTime(message.created_at));
    } else if (message.time) when = h('span', { class: 'time' }, message.time);
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
    this.attachment(body, message);
    const interactive = this.interactive(message);
    if (interactive) body.append(interactive);
    li.replaceChildren(head, body);
    if (message.direction === 'outbound' && !message.history && message.status) {
      li.append(h('div', { class: `receipt ${message.status}` }, RECEIPTS[message.status] || message.status));
    }
  }

  // A file sent with the message: shown inline when the browser can (image, video, audio), and a link.
  attachment(body, message) {
    const url = safeUrl(message.url);
    if (!url) return;
    const fileName = message.file?.name || decodeURIComponent(new URL(url).pathname.split('/').pop() || 'file');
    if (message.kind === 'image') {
      const image = h('img', { src: url, alt: message.content || `Image ${fileName}`, loading: 'lazy' });
      body.append(h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', class: 'image-link' }, image));
    } else if (message.kind === 'video') {
      body.append(h('video', { src: url, controls: true, preload: 'metadata' }));
    } else if (message.kind === 'audio') {
      body.append(h('audio', { src: url, controls: true, preload: 'metadata' }));
    }
    if (message.kind !== 'text') {
      const size = message.file?.size ? ` (${formatBytes(message.file.size)})` : '';
      const attributes = { href: url, download: fileName, class: 'file-link', rel: 'noopener noreferrer' };
      body.append(h('a', attributes, `Download ${fileName}${size}`));
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
        const picked = present(chosen) && button.value === chosen;
        const content = link
          ? h('a', { href: link, target: '_blank', rel: 'noopener noreferrer' }, button.title || link)
          : h('span', {}, button.title || button.value || '');
        const tag = picked ? h('span', { class: 'tag' }, 'chosen') : null;
        row.append(h('li', { class: picked ? 'choice picked' : 'choice' }, content, tag));
      }
      box.append(row);
    }
    if (present(chosen) && chosen !== '') {
      const title = buttons.find((b) => b.value === chosen)?.title || String(chosen);
      const said = message.kind === 'feedback' ? `Rating given: ${title}` : `Customer chose: ${title}`;
      box.append(h('p', { class: 'choice-made small' }, said));
    } else {
      box.append(h('p', { class: 'muted small' }, 'No answer yet'));
    }
    return box;
  }

  // The agent has the conversation on screen: tell the customer's side their messages were seen.
  markSeen(conversation) {
    const { state } = this;
    if (!state.features.receipts || conversation.seenPending) return;
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
        if (error.status === 404 && !error.known) state.features.receipts = false;
      })
      .finally(() => {
        conversation.seenPending = false;
      });
  }
}
