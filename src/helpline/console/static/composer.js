// Writing to the customer: the message box (Enter sends, Shift+Enter is a new line), the typing signal,
// and files (the Attach button, pasting, or dropping on the conversation) sent with a progress bar.

import { api, upload } from './api.js';
import { $, formatBytes } from './dom.js';
import { AGENT } from './state.js';

const TYPING_IDLE = 5000;
const TYPING_REPEAT = 4000;

export class Composer {
  constructor(state, notices) {
    this.state = state;
    this.notices = notices;
    this.typingSentAt = 0;
    this.typingFor = null;
    this.typingIdle = null;
    this.currentUpload = null;
    this.form = $('#composer');
    this.box = $('#message');
    this.fileInput = $('#file-input');
    this.limit = $('#limit');
    this.progress = {
      box: $('#upload'),
      bar: $('#upload-progress'),
      percent: $('#upload-percent'),
      name: $('#upload-name'),
    };
    this.bind();
  }

  bind() {
    this.form.addEventListener('submit', (event) => this.send(event));
    this.box.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.form.requestSubmit();
      }
    });
    this.box.addEventListener('input', () => this.typed());
    this.box.addEventListener('paste', (event) => {
      const file = event.clipboardData?.files[0];
      if (file) {
        event.preventDefault();
        this.sendFile(file);
      }
    });
    $('#attach').addEventListener('click', () => this.fileInput.click());
    this.fileInput.addEventListener('change', (event) => this.sendFile(event.target.files[0]));
    $('#upload-cancel').addEventListener('click', () => this.currentUpload?.abort());
    this.bindDrop($('#conversation'));
  }

  // Files dropped anywhere on the conversation are sent, while the agent can write in it.
  bindDrop(pane) {
    let depth = 0;
    const droppable = (event) =>
      event.dataTransfer && [...event.dataTransfer.types].includes('Files') && !this.form.hidden;
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
  }

  showLimit() {
    const { maxUpload } = this.state;
    this.limit.textContent = maxUpload === null ? '' : `Files up to ${formatBytes(maxUpload)}`;
  }

  focus() {
    this.box.focus();
  }

  // The open conversation, when the agent may write in it.
  writable() {
    const id = this.state.selectedId;
    const conversation = this.state.conversations.get(id);
    return conversation && this.state.isMine(conversation) ? id : null;
  }

  async send(event) {
    event.preventDefault();
    const id = this.writable();
    const content = this.box.value;
    if (id === null || !content.trim()) return;
    this.box.value = '';
    this.stopTyping();
    const key = crypto.randomUUID();
    try {
      const message = await api(
        'POST',
        `${AGENT}/conversations/${id}/messages`,
        { content },
        { 'idempotency-key': key },
      );
      this.state.addMessage(id, message, false);
    } catch (error) {
      if (!this.box.value) this.box.value = content;
      this.notices.toast(
        `Not sent: ${error.message}. Your text is still in the box; press Enter to try again.`,
        'alert',
      );
    }
  }

  typed() {
    const id = this.writable();
    if (id === null) return;
    const now = Date.now();
    if (this.box.value.trim() === '') {
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
    const conversation = id !== null ? this.state.conversations.get(id) : null;
    if (conversation && this.state.isMine(conversation)) {
      api('POST', `${AGENT}/conversations/${id}/typing`, { typing: false }).catch(() => {});
    }
  }

  sendFile(file) {
    const id = this.writable();
    if (!file || id === null) return;
    const { notices, progress } = this;
    // Read at the moment of sending: the limit may be unknown (null), and then the server says it.
    const limit = this.state.maxUpload;
    if (this.currentUpload) {
      notices.toast('Wait for the file being sent to finish first.', 'alert');
      return;
    }
    if (limit !== null && file.size > limit) {
      notices.toast(`${file.name} is ${formatBytes(file.size)}; files can be up to ${formatBytes(limit)}.`, 'alert');
      return;
    }
    progress.name.textContent = file.name;
    progress.bar.value = 0;
    progress.percent.textContent = '0%';
    progress.box.hidden = false;
    const started = upload(`${AGENT}/conversations/${id}/attachments`, file, (sent, total) => {
      const value = total ? Math.floor((sent / total) * 100) : 0;
      progress.bar.value = value;
      // All bytes handed to the network is not yet all bytes arrived: say so until the server answers.
      progress.percent.textContent = value >= 100 ? 'finishing…' : `${value}%`;
    });
    this.currentUpload = started;
    started.promise
      .then((message) => {
        this.state.addMessage(id, message, false);
      })
      .catch((error) => {
        if (error.status === -1) return;
        if (error.status === 413) {
          const stated = this.state.maxUpload ? ` (the limit is ${formatBytes(this.state.maxUpload)})` : '';
          notices.toast(`${file.name} is too large${stated}.`, 'alert');
        } else {
          notices.toast(`${file.name} was not sent: ${error.message}`, 'alert');
        }
      })
      .finally(() => {
        this.currentUpload = null;
        progress.box.hidden = true;
        this.fileInput.value = '';
      });
  }
}
