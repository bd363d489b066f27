// The three lists of conversation cards (the queue, the agent's own, finished ones found by a search),
// drawn by one renderer: a card is a button that opens the conversation (plus Accept in the queue), a
// line with the customer's name, a line with department and API, and the lines only its list has.

import { $, fill, formatDuration, formatTime, h, renderKeyed } from './dom.js';
import { customerName, originName } from './model.js';

function unreadBadge(c) {
  return c.unread ? h('span', { class: 'badge', 'aria-label': `${c.unread} unread` }, String(c.unread)) : null;
}

function previewLine(c) {
  return c.preview ? h('span', { class: 'card-line preview small' }, c.preview) : null;
}

export class Lists {
  // `actions` are what a card's buttons do: open(id) and accept(id, button).
  constructor(state, actions) {
    this.state = state;
    this.actions = actions;
    this.queue = { list: $('#queue'), count: $('#queue-count'), empty: $('#queue-empty') };
    this.mine = { list: $('#mine'), count: $('#mine-count'), empty: $('#mine-empty') };
    this.history = { list: $('#history-list'), empty: $('#history-empty') };
  }

  render(view) {
    const { state } = this;
    this.cards(this.queue, state.queued(), {
      accept: true,
      badge: true,
      mark: (li, c) => li.classList.toggle('ringing', this.ringsMe(c)),
      lines: (c) => [this.waitingLine(c), previewLine(c)],
    });
    this.cards(this.mine, state.mine(), {
      badge: true,
      current: true,
      lines: (c) => [c.contactTyping ? h('span', { class: 'card-line small typing-note' }, 'typing…') : previewLine(c)],
    });
    if (view !== 'history') return;
    this.cards(
      this.history,
      state.history.filter((c) => c.state === 'finished'),
      { lines: (c) => [this.endedLine(c)] },
    );
  }

  // Draw one list: `accept` adds the Accept button, `badge` the unread count, `current` marks the open
  // card for assistive technology, `mark` sets list-specific classes, `lines` gives the extra lines.
  cards(target, items, { accept = false, badge = false, current = false, mark = null, lines }) {
    if (target.count) target.count.textContent = String(items.length);
    target.empty.hidden = items.length > 0;
    renderKeyed(
      target.list,
      items,
      (c) => c.id,
      (c) => {
        const open = h('button', { type: 'button', class: 'card-open', onclick: () => this.actions.open(c.id) });
        const take = accept
          ? h(
              'button',
              { type: 'button', class: 'primary', onclick: (event) => this.actions.accept(c.id, event.currentTarget) },
              'Accept',
            )
          : null;
        const li = h('li', { class: 'card' }, open, take);
        li.parts = { open };
        return li;
      },
      (li, c) => {
        const selected = c.id === this.state.selectedId;
        li.classList.toggle('selected', selected);
        if (current) {
          if (selected) li.parts.open.setAttribute('aria-current', 'true');
          else li.parts.open.removeAttribute('aria-current');
        }
        if (mark) mark(li, c);
        fill(
          li.parts.open,
          h(
            'span',
            { class: 'card-line' },
            h('strong', { class: 'name' }, customerName(c)),
            badge ? unreadBadge(c) : null,
          ),
          h(
            'span',
            { class: 'card-line muted small' },
            `${this.state.departmentName(c.department_id)} · ${originName(c)}`,
          ),
          ...lines(c),
        );
      },
    );
  }

  ringsMe(c) {
    return Boolean(c.offered_to && this.state.me && c.offered_to === this.state.me.id);
  }

  waitingLine(c) {
    const since = c.queued_at || c.created_at;
    return h(
      'span',
      { class: 'card-line small' },
      h('span', { class: 'position' }, c.queue_position ? `#${c.queue_position} in line` : 'waiting'),
      ' · waiting ',
      h('span', { class: 'since', 'data-since': since }, formatDuration(this.state.serverNow() - since)),
      this.ringsMe(c) ? h('span', { class: 'ringing-note' }, ' · ringing you') : null,
    );
  }

  endedLine(c) {
    const ended = c.finished_at ? formatTime(c.finished_at) : '';
    const reason = c.finish_reason === 'unavailable' ? 'nobody was available' : 'resolved';
    return h('span', { class: 'card-line small' }, `Ended ${ended} · ${reason}`);
  }
}
