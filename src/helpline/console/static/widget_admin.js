// The admin screen for the web widget: per department open to SDK clients, its allowed origins, greeting,
// colour and pre-chat form (as `helpline widget settings` sets them), and the snippet that embeds it.

import { api } from './api.js';
import { h } from './dom.js';

const ADMIN = '/api/admin/v1';
const PRECHAT = [
  ['none', 'None'],
  ['name', 'Ask for a name'],
  ['email', 'Ask for a name and an email address'],
];

let counter = 0;

function field(label, input, hint) {
  counter += 1;
  input.id = `widget-${counter}`;
  const hintId = hint ? `${input.id}-hint` : null;
  if (hintId) input.setAttribute('aria-describedby', hintId);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: input.id }, label),
    input,
    hint ? h('span', { class: 'muted small', id: hintId }, hint) : null,
  );
}

// The settings of every department open to SDK clients; a department without an inbox answers 404.
async function openWidgets(departments) {
  const found = await Promise.all(
    departments.map((d) =>
      api('GET', `${ADMIN}/departments/${d.id}/widget`).then(
        (settings) => ({ department: d, settings }),
        (failure) => {
          if (failure.status === 404) return null;
          throw failure;
        },
      ),
    ),
  );
  return found.filter((item) => item?.settings.sdk);
}

function snippet(identifier) {
  return `<script src="${location.origin}/widget.js" data-inbox="${identifier}" async></script>`;
}

function embedBox(department, identifier) {
  const code = h('textarea', { readonly: true, rows: '2', class: 'mono', spellcheck: 'false' });
  code.value = snippet(identifier);
  const copy = h(
    'button',
    { type: 'button', class: 'quiet small', 'aria-label': `Copy the embed snippet of ${department.name}` },
    'Copy',
  );
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(code.value);
      copy.textContent = 'Copied';
    } catch {
      code.select();
    }
  });
  return h('div', { class: 'field' }, field('Embed snippet', code, 'Paste it before </body> on your site.'), copy);
}

function settingsForm(department, settings, toast) {
  const origins = h('textarea', { rows: '3', autocomplete: 'off', spellcheck: 'false' });
  origins.value = settings.allowed_origins.join('\n');
  const greeting = h('input', { type: 'text', autocomplete: 'off' });
  greeting.value = settings.greeting || '';
  const color = h('input', { type: 'text', autocomplete: 'off', class: 'mono', placeholder: '#0b5fff' });
  color.value = settings.color || '';
  const prechat = h(
    'select',
    {},
    PRECHAT.map(([value, label]) => h('option', { value, selected: value === settings.prechat }, label)),
  );
  const error = h('p', { class: 'form-error', role: 'alert' });
  const form = h(
    'form',
    { class: 'admin-form', 'aria-label': `Web widget of ${department.name}` },
    h('h3', {}, department.name),
    field('Allowed origins', origins, 'One per line, e.g. https://shop.example; * allows any site.'),
    field('Greeting', greeting),
    field('Colour', color, 'As #rrggbb.'),
    field('Pre-chat form', prechat),
    error,
    h('button', { type: 'submit', class: 'primary', 'aria-label': `Save the widget of ${department.name}` }, 'Save'),
    embedBox(department, settings.sdk_identifier),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      const saved = await api('PUT', `${ADMIN}/departments/${department.id}/widget`, {
        allowed_origins: origins.value
          .split('\n')
          .map((line) => line.trim())
          .filter(Boolean),
        greeting: greeting.value,
        color: color.value.trim(),
        prechat: prechat.value,
      });
      origins.value = saved.allowed_origins.join('\n');
      greeting.value = saved.greeting || '';
      color.value = saved.color || '';
      toast(`Web widget of ${department.name} saved.`, 'status');
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  return form;
}

export async function renderWidgets(panel, departments, toast) {
  const open = await openWidgets(departments);
  panel.replaceChildren(
    ...(open.length
      ? open.map(({ department, settings }) => settingsForm(department, settings, toast))
      : [h('p', { class: 'empty' }, 'No department is open to SDK clients yet.')]),
  );
}
