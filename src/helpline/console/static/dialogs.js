// The two dialogs of an open conversation: handing it over (to a department or an agent), and offering
// choices (quick replies, a card with buttons, or a rating request) where the server's API takes them.

import { api } from './api.js';
import { $, h } from './dom.js';
import { customerName } from './model.js';
import { AGENT } from './state.js';

// "Title | VALUE" lines into buttons: in a card an http(s) value is a link, anything else a postback.
function parseButtons(kind, text) {
  const buttons = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const cut = line.indexOf('|');
    const title = (cut < 0 ? line : line.slice(0, cut)).trim();
    const value = (cut < 0 ? title : line.slice(cut + 1)).trim() || title;
    if (kind === 'card' && /^https?:\/\//.test(value)) buttons.push({ type: 'link', title, url: value });
    else if (kind === 'card') buttons.push({ type: 'postback', title, value });
    else buttons.push({ title, value });
  }
  return buttons;
}

export class Dialogs {
  // `actions`: stopTyping() (the agent stops writing here) and close() (leave the conversation).
  constructor(state, notices, actions) {
    this.state = state;
    this.notices = notices;
    this.actions = actions;
    this.transfer = {
      dialog: $('#transfer-dialog'),
      target: $('#transfer-target'),
      error: $('#transfer-error'),
      confirm: $('#transfer-confirm'),
    };
    this.choices = {
      dialog: $('#choices-dialog'),
      form: $('#choices-form'),
      kind: $('#choices-kind'),
      question: $('#choices-question'),
      options: $('#choices-options'),
      image: $('#choices-image'),
      hint: $('#choices-hint'),
      error: $('#choices-error'),
      confirm: $('#choices-confirm'),
      button: $('#choices'),
    };
    $('#transfer').addEventListener('click', () => this.openTransfer());
    $('#transfer-form').addEventListener('submit', (event) => this.confirmTransfer(event));
    $('#transfer-cancel').addEventListener('click', () => this.transfer.dialog.close());
    this.choices.button.addEventListener('click', () => this.openChoices());
    this.choices.kind.addEventListener('change', () => this.choicesKindChanged());
    this.choices.form.addEventListener('submit', (event) => this.offerChoices(event));
    $('#choices-cancel').addEventListener('click', () => this.choices.dialog.close());
  }

  // The Choices button shows only where the server's agent API takes interactive messages.
  showFeatures() {
    this.choices.button.hidden = !this.state.features.interactive;
  }

  // -- handing over -------------------------------------------------------------------------------

  openTransfer() {
    const { state, transfer } = this;
    const conversation = state.conversations.get(state.selectedId);
    if (!conversation) return;
    const select = transfer.target;
    select.replaceChildren();
    const departments = h('optgroup', { label: 'Departments' });
    for (const department of state.departments.values()) {
      if (!department.active || department.id === conversation.department_id) continue;
      departments.append(h('option', { value: `d${department.id}` }, department.name));
    }
    const agents = h('optgroup', { label: 'Agents' });
    for (const agent of state.agents.values()) {
      if (agent.id === state.me.id) continue;
      const label = agent.presence === 'online' ? agent.name : `${agent.name} (${agent.presence})`;
      agents.append(h('option', { value: `a${agent.id}`, disabled: agent.presence === 'offline' }, label));
    }
    if (departments.children.length) select.append(departments);
    if (agents.children.length) select.append(agents);
    transfer.error.textContent = select.options.length ? '' : 'There is nobody to hand this conversation to.';
    transfer.confirm.disabled = !select.options.length;
    transfer.dialog.showModal();
    select.focus();
  }

  async confirmTransfer(event) {
    event.preventDefault();
    const { state, transfer } = this;
    const id = state.selectedId;
    const conversation = state.conversations.get(id);
    const target = transfer.target.value;
    if (!conversation || !target) return;
    const toDepartment = target[0] === 'd';
    const body = toDepartment ? { department_id: Number(target.slice(1)) } : { agent_id: Number(target.slice(1)) };
    const where = toDepartment ? state.departmentName(body.department_id) : state.agents.get(body.agent_id)?.name;
    transfer.confirm.disabled = true;
    const ticket = ++state.ticket;
    try {
      const view = await api('POST', `${AGENT}/conversations/${id}/transfer`, body);
      transfer.dialog.close();
      this.actions.stopTyping();
      state.apply(view, ticket);
      this.notices.toast(`${customerName(conversation)} was handed over to ${where}.`, 'status');
      if (!state.isMine(state.conversations.get(id))) this.actions.close();
      state.refresh(id);
    } catch (error) {
      transfer.error.textContent = error.message;
    } finally {
      transfer.confirm.disabled = false;
    }
  }

  // -- offering choices ---------------------------------------------------------------------------

  openChoices() {
    this.choices.error.textContent = '';
    this.choicesKindChanged();
    this.choices.dialog.showModal();
    this.choices.question.focus();
  }

  choicesKindChanged() {
    const kind = this.choices.kind.value;
    $('#choices-options-field').hidden = kind === 'feedback';
    $('#choices-image-field').hidden = kind === 'feedback';
    this.choices.hint.textContent =
      kind === 'card'
        ? 'One button a line: “Title | https://…” opens a link, “Title | VALUE” answers with VALUE.'
        : 'One option a line: “Title”, or “Title | VALUE” to answer with VALUE.';
  }

  async offerChoices(event) {
    event.preventDefault();
    const { state, choices } = this;
    const id = state.selectedId;
    const conversation = state.conversations.get(id);
    if (!conversation || !state.isMine(conversation)) return;
    const kind = choices.kind.value;
    const content = choices.question.value.trim();
    const attributes = {};
    if (kind !== 'feedback') {
      const buttons = parseButtons(kind, choices.options.value);
      if (!buttons.length) {
        choices.error.textContent = 'Give at least one option.';
        return;
      }
      attributes.buttons = buttons;
      const image = choices.image.value.trim();
      if (image) attributes.image_url = image;
    }
    if (!content) {
      choices.error.textContent = 'Write the question or title first.';
      return;
    }
    choices.confirm.disabled = true;
    try {
      const message = await api(
        'POST',
        `${AGENT}/conversations/${id}/messages`,
        { content, content_type: kind, content_attributes: attributes },
        { 'idempotency-key': crypto.randomUUID() },
      );
      state.addMessage(id, message, false);
      choices.dialog.close();
      choices.form.reset();
    } catch (error) {
      choices.error.textContent = error.message;
    } finally {
      choices.confirm.disabled = false;
    }
  }
}
