// The admin screens: departments, agents, API tokens (shown once) and the webhook delivery log.

import { api } from './api.js';
import { formatTime, h } from './dom.js';
import { renderWidgets } from './widget_admin.js';

const ADMIN = '/api/admin/v1';
const TABS = [
  ['departments', 'Departments'],
  ['agents', 'Agents'],
  ['tokens', 'API tokens'],
  ['deliveries', 'Deliveries'],
  ['widget', 'Web widget'],
];

function field(label, input, hint) {
  const id = `admin-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    input,
    hint ? h('span', { class: 'muted small' }, hint) : null,
  );
}

function check(label, input) {
  return h('label', { class: 'check' }, input, ` ${label}`);
}

function table(caption, headers, rows) {
  const head = h('thead', {}, h('tr', {}, ...headers.map((name) => h('th', { scope: 'col' }, name))));
  const body = h('tbody', {}, rows);
  return h(
    'div',
    { class: 'table-wrap' },
    h('table', {}, h('caption', { class: 'visually-hidden' }, caption), head, body),
  );
}

export class Admin {
  constructor(root, toast) {
    this.root = root;
    this.toast = toast;
    this.tab = 'departments';
    this.departmentRows = [];
    this.built = false;
  }

  build() {
    const tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Administration' });
    this.tabs = new Map();
    this.panels = new Map();
    for (const [key, label] of TABS) {
      const tab = h(
        'button',
        {
          type: 'button',
          role: 'tab',
          id: `admin-tab-${key}`,
          'aria-controls': `admin-panel-${key}`,
          onclick: () => this.show(key),
        },
        label,
      );
      tab.addEventListener('keydown', (event) => {
        if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
        const keys = TABS.map(([k]) => k);
        const index = keys.indexOf(key) + (event.key === 'ArrowRight' ? 1 : -1);
        const next = keys[(index + keys.length) % keys.length];
        this.show(next);
        this.tabs.get(next).focus();
      });
      const panel = h('div', {
        role: 'tabpanel',
        id: `admin-panel-${key}`,
        'aria-labelledby': `admin-tab-${key}`,
        class: 'admin-panel',
        hidden: true,
      });
      tablist.append(tab);
      this.tabs.set(key, tab);
      this.panels.set(key, panel);
    }
    this.root.replaceChildren(h('h2', { class: 'admin-title' }, 'Administration'), tablist, ...this.panels.values());
    this.built = true;
  }

  open() {
    if (!this.built) this.build();
    this.show(this.tab);
  }

  show(key) {
    this.tab = key;
    for (const [name, tab] of this.tabs) {
      const selected = name === key;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      this.panels.get(name).hidden = !selected;
    }
    this[key]().catch((error) => this.toast(`Could not load ${key}: ${error.message}`, 'alert'));
  }

  // -- departments --------------------------------------------------------------------------------

  async departmentsList() {
    this.departmentRows = (await api('GET', `${ADMIN}/departments`)).departments;
    return this.departmentRows;
  }

  async departments() {
    const panel = this.panels.get('departments');
    const departments = await this.departmentsList();
    const name = h('input', { type: 'text', required: true, autocomplete: 'off' });
    const queue = h('input', { type: 'checkbox', checked: true });
    const wait = h('input', { type: 'number', min: '1', value: '900', required: true });
    const ringing = h('input', { type: 'number', min: '1', value: '60', required: true });
    const capacity = h('input', { type: 'number', min: '1', value: '5', required: true });
    const auto = h('input', { type: 'checkbox' });
    const error = h('p', { class: 'form-error', role: 'alert' });
    const form = h(
      'form',
      { class: 'admin-form', 'aria-label': 'New department' },
      h('h3', {}, 'New department'),
      field('Department name', name),
      check('Customers wait in a queue when nobody is free', queue),
      field('Longest wait (seconds)', wait),
      field('Ringing time (seconds)', ringing),
      field('Conversations per agent', capacity),
      check('Offer new conversations to the least busy agent', auto),
      error,
      h('button', { type: 'submit', class: 'primary' }, 'Create department'),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      try {
        const created = await api('POST', `${ADMIN}/departments`, {
          name: name.value,
          queue_enabled: queue.checked,
          queued_max_time: Number(wait.value),
          ringing_max_time: Number(ringing.value),
          capacity: Number(capacity.value),
          auto_assign: auto.checked,
        });
        this.toast(`Department ${created.name} created.`, 'status');
        await this.departments();
      } catch (failure) {
        error.textContent = failure.message;
      }
    });
    const rows = departments.map((d) =>
      h(
        'tr',
        {},
        h('td', {}, d.name),
        h('td', {}, d.queue_enabled ? 'yes' : 'no'),
        h('td', {}, `${d.queued_max_time} s`),
        h('td', {}, `${d.ringing_max_time} s`),
        h('td', {}, String(d.capacity)),
        h('td', {}, d.auto_assign ? 'yes' : 'no'),
        h('td', {}, d.active ? 'active' : 'inactive'),
      ),
    );
    panel.replaceChildren(
      table('Departments', ['Name', 'Queue', 'Longest wait', 'Ringing', 'Per agent', 'Auto-assign', 'State'], rows),
      form,
    );
  }

  async widget() {
    await renderWidgets(this.panels.get('widget'), await this.departmentsList(), this.toast);
  }

  // -- agents -------------------------------------------------------------------------------------

  async agents() {
    const panel = this.panels.get('agents');
    const [found, departments] = await Promise.all([api('GET', `${ADMIN}/agents`), this.departmentsList()]);
    const names = new Map(departments.map((d) => [d.id, d.name]));
    const name = h('input', { type: 'text', required: true, autocomplete: 'off' });
    const email = h('input', { type: 'email', required: true, autocomplete: 'off' });
    const password = h('input', { type: 'password', required: true, minlength: '6', autocomplete: 'new-password' });
    const role = h('select', {}, h('option', { value: 'agent' }, 'Agent'), h('option', { value: 'admin' }, 'Admin'));
    const boxes = departments.map((d) => [d.id, h('input', { type: 'checkbox', value: String(d.id) })]);
    const error = h('p', { class: 'form-error', role: 'alert' });
    const form = h(
      'form',
      { class: 'admin-form', 'aria-label': 'New agent' },
      h('h3', {}, 'New agent'),
      field('Full name', name),
      field('Email address', email),
      field('Initial password', password, 'At least 6 characters.'),
      field('Role', role),
      h(
        'fieldset',
        {},
        h('legend', {}, 'Departments'),
        boxes.map(([id, box]) => check(names.get(id), box)),
      ),
      error,
      h('button', { type: 'submit', class: 'primary' }, 'Create agent'),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      try {
        const created = await api('POST', `${ADMIN}/agents`, {
          name: name.value,
          email: email.value,
          password: password.value,
          role: role.value,
          department_ids: boxes.filter(([, box]) => box.checked).map(([id]) => id),
        });
        await this.agents();
        this.panels
          .get('agents')
          .append(
            this.secretBox(`${created.name} can sign in now. Their API key, shown only this once:`, [
              ['API key', created.api_key],
            ]),
          );
      } catch (failure) {
        error.textContent = failure.message;
      }
    });
    const rows = found.agents.map((a) =>
      h(
        'tr',
        {},
        h('td', {}, a.name),
        h('td', {}, a.email),
        h('td', {}, a.role),
        h('td', {}, a.presence),
        h('td', {}, a.department_ids.map((id) => names.get(id) || `#${id}`).join(', ') || '—'),
      ),
    );
    panel.replaceChildren(table('Agents', ['Name', 'Email', 'Role', 'Presence', 'Departments'], rows), form);
  }

  secretBox(text, secrets) {
    const box = h('div', { class: 'secret', role: 'status' }, h('p', {}, h('strong', {}, text)));
    for (const [label, value] of secrets) {
      if (!value) continue;
      const input = h('input', { type: 'text', readonly: true, value, class: 'mono' });
      const copy = h('button', { type: 'button', class: 'quiet small' }, `Copy ${label.toLowerCase()}`);
      copy.addEventListener('click', async () => {
        try {
          await navigator.clipboard.writeText(value);
          copy.textContent = 'Copied';
        } catch {
          input.select();
        }
      });
      box.append(field(label, input), copy);
    }
    return box;
  }

  // -- API tokens ---------------------------------------------------------------------------------

  async tokens() {
    const panel = this.panels.get('tokens');
    const found = await api('GET', `${ADMIN}/tokens`);
    const webhook = h('input', {
      type: 'url',
      placeholder: 'https://your-app.example/hooks/helpline',
      autocomplete: 'off',
    });
    const error = h('p', { class: 'form-error', role: 'alert' });
    const form = h(
      'form',
      { class: 'admin-form', 'aria-label': 'New API token' },
      h('h3', {}, 'New API token'),
      field('Webhook URL (optional)', webhook, 'Where this token’s events are POSTed, signed with its own secret.'),
      error,
      h('button', { type: 'submit', class: 'primary' }, 'Create token'),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      try {
        const created = await api('POST', `${ADMIN}/tokens`, { webhook_url: webhook.value || null });
        await this.tokens();
        this.panels.get('tokens').append(
          this.secretBox('Copy the token now: it is shown only this once.', [
            ['Token', created.token],
            ['Signing secret', created.signing_secret],
          ]),
        );
      } catch (failure) {
        error.textContent = failure.message;
      }
    });
    const rows = found.tokens.map((t) => {
      const revoke = h(
        'button',
        { type: 'button', class: 'danger small', 'aria-label': `Revoke token ${t.prefix}…` },
        'Revoke',
      );
      revoke.addEventListener('click', async () => {
        if (!window.confirm(`Revoke the token starting ${t.prefix}? Apps using it stop working at once.`)) return;
        try {
          await api('POST', `${ADMIN}/tokens/${t.id}/revoke`);
          this.toast(`Token ${t.prefix}… revoked.`, 'status');
          await this.tokens();
        } catch (failure) {
          this.toast(`Not revoked: ${failure.message}`, 'alert');
        }
      });
      return h(
        'tr',
        {},
        h('td', { class: 'mono' }, `${t.prefix}…`),
        h('td', { class: 'wrap' }, t.webhook_url || '—'),
        h('td', {}, t.active ? 'active' : 'revoked'),
        h('td', {}, formatTime(t.created_at)),
        h('td', {}, t.active ? revoke : ''),
      );
    });
    panel.replaceChildren(table('API tokens', ['Token', 'Webhook', 'State', 'Created', 'Action'], rows), form);
  }

  // -- deliveries ---------------------------------------------------------------------------------

  async deliveries() {
    const panel = this.panels.get('deliveries');
    const state = this.deliveryState || '';
    const query = new URLSearchParams({ limit: '100' });
    if (state) query.set('state', state);
    const found = await api('GET', `${ADMIN}/deliveries?${query}`);
    const filter = h(
      'select',
      {},
      ['', 'pending', 'succeeded', 'failed'].map((value) =>
        h('option', { value, selected: value === state }, value ? value : 'all'),
      ),
    );
    filter.addEventListener('change', () => {
      this.deliveryState = filter.value;
      this.deliveries().catch((error) => this.toast(error.message, 'alert'));
    });
    const refresh = h('button', { type: 'button', class: 'quiet' }, 'Refresh');
    refresh.addEventListener('click', () => this.deliveries().catch((error) => this.toast(error.message, 'alert')));
    const rows = found.deliveries.map((d) => {
      const replay = h('button', { type: 'button', class: 'small', 'aria-label': `Replay delivery ${d.id}` }, 'Replay');
      replay.addEventListener('click', async () => {
        replay.disabled = true;
        try {
          await api('POST', `${ADMIN}/deliveries/${d.id}/replay`);
          this.toast(`Delivery ${d.id} will be sent again.`, 'status');
          await this.deliveries();
        } catch (failure) {
          this.toast(`Not replayed: ${failure.message}`, 'alert');
          replay.disabled = false;
        }
      });
      const last = d.last_status ? `HTTP ${d.last_status}` : d.last_error || '—';
      const attempts = h(
        'details',
        {},
        h('summary', {}, `${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`),
        h(
          'ul',
          { class: 'attempts' },
          d.attempts_detail.map((a) =>
            h(
              'li',
              {},
              a.in_flight
                ? `${formatTime(a.attempted_at)}: sending, or cut off before an answer`
                : `${formatTime(a.attempted_at)}: ${a.status ? `HTTP ${a.status}` : a.error || 'no answer'} in ${Math.round(a.latency_ms)} ms`,
            ),
          ),
        ),
      );
      return h(
        'tr',
        { 'data-state': d.state },
        h('td', {}, String(d.id)),
        h('td', {}, d.event_type),
        h('td', { class: 'wrap' }, d.endpoint_url || `endpoint ${d.endpoint_id}`),
        h('td', {}, h('span', { class: `state ${d.state}` }, d.state)),
        h('td', {}, attempts),
        h('td', { class: 'wrap' }, last),
        h('td', {}, formatTime(d.created_at)),
        h('td', {}, replay),
      );
    });
    panel.replaceChildren(
      h('div', { class: 'toolbar' }, field('Show', filter), refresh),
      rows.length
        ? table(
            'Webhook deliveries',
            ['#', 'Event', 'Endpoint', 'State', 'Attempts', 'Last answer', 'Created', 'Action'],
            rows,
          )
        : h('p', { class: 'empty' }, 'No deliveries yet.'),
    );
  }
}
