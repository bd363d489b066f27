// What the console tells the agent without being asked: toasts, the chime, the connection's state, and
// who is waiting or ringing. Every notice is also visible text (role status or alert): sound is extra.

import { $, h } from './dom.js';
import { customerName } from './model.js';

const CONNECTION_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline: waiting for the network',
};

export class Notifications {
  constructor(state) {
    this.state = state;
    this.sound = localStorage.getItem('helpline.sound') !== 'off';
    this.audio = null;
    this.soundButton = $('#sound');
    this.toasts = $('#toasts');
    this.connectionBox = $('#connection');
    this.soundButton.addEventListener('click', () => {
      this.sound = !this.sound;
      localStorage.setItem('helpline.sound', this.sound ? 'on' : 'off');
      this.updateSoundButton();
      if (this.sound) this.chime();
    });
  }

  toast(text, kind = 'status') {
    const box = h(
      'div',
      { class: `toast ${kind}`, role: kind === 'alert' ? 'alert' : 'status' },
      h('span', { text }),
      h('button', { type: 'button', class: 'quiet small', 'aria-label': 'Dismiss', onclick: () => box.remove() }, '×'),
    );
    this.toasts.append(box);
    setTimeout(() => box.remove(), kind === 'alert' ? 12000 : 7000);
  }

  chime() {
    if (!this.sound) return;
    try {
      this.audio = this.audio || new AudioContext();
      const context = this.audio;
      const now = context.currentTime;
      for (const [offset, frequency] of [
        [0, 660],
        [0.16, 880],
      ]) {
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
    } catch {
      // No audio device: the visible notice is enough.
    }
  }

  updateSoundButton() {
    this.soundButton.setAttribute('aria-pressed', String(this.sound));
    this.soundButton.textContent = this.sound ? 'Sound on' : 'Sound off';
  }

  showConnection(status) {
    this.connectionBox.dataset.state = status;
    this.connectionBox.textContent = CONNECTION_TEXT[status] || status;
  }

  notifyWaiting(conversation) {
    const where = this.state.departmentName(conversation.department_id);
    this.toast(`${customerName(conversation)} is waiting in ${where}.`, 'status');
    this.chime();
    const item = $(`#queue [data-key="${conversation.id}"]`);
    if (item) {
      // Restart the arrival animation: a reflow between removing and adding the class replays it.
      item.classList.remove('arrived');
      void item.offsetWidth;
      item.classList.add('arrived');
    }
  }

  // A conversation event, before the conversation is fetched again (what it was is still known).
  arriving(frame, id) {
    const { state } = this;
    const conversation = state.conversations.get(id);
    const data = frame.data;
    if (frame.event === 'conversation.transferred' && conversation && state.me) {
      const wasMine = data.from_agent_id === state.me.id;
      const byMe = data.actor && data.actor.type === 'agent' && data.actor.id === state.me.id;
      if (wasMine && !byMe) {
        const where = data.to_agent ? data.to_agent.name : state.departmentName(data.to_department_id);
        this.toast(`${customerName(conversation)} was handed over to ${where}.`, 'status');
      }
    }
  }

  // The same event, once the conversation has been fetched again (what it is now is known).
  arrived(frame, id) {
    const { state } = this;
    const conversation = state.conversations.get(id);
    if (!conversation || !state.me) return;
    const newInQueue =
      (frame.event === 'conversation.queued' || frame.event === 'conversation.transferred') &&
      state.inQueue(conversation) &&
      !state.announced.has(id);
    if (newInQueue) {
      state.announced.add(id);
      this.notifyWaiting(conversation);
    }
    const ringing = conversation.offered_to === state.me.id && state.inQueue(conversation);
    if (frame.event === 'conversation.offered' && ringing) {
      this.toast(`${customerName(conversation)} is ringing you. Accept to answer.`, 'status');
      this.chime();
    }
    if (!state.inQueue(conversation)) state.announced.delete(id);
    if (frame.event === 'conversation.finished' && id === state.selectedId && frame.data.actor?.type === 'contact') {
      this.toast(`${customerName(conversation)} ended the conversation.`, 'status');
    }
  }
}
