// Small DOM helpers. Text always goes in as text (never as HTML), so nothing a customer writes can run.

export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name === 'text') element.textContent = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

// Replace an element's children, skipping the empty ones (DOM methods would print null as "null").
export function fill(element, ...children) {
  element.replaceChildren(...children.filter((child) => child !== null && child !== undefined && child !== false));
}

// Only http(s) URLs become links or image sources (no javascript:, data: or other schemes).
export function safeUrl(value) {
  if (!value) return null;
  try {
    const url = new URL(value, location.href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n) => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateAndTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatTime(epochSeconds) {
  const date = new Date(epochSeconds * 1000);
  const today = new Date();
  return date.toDateString() === today.toDateString() ? timeOnly.format(date) : dateAndTime.format(date);
}

export function isoTime(epochSeconds) {
  return new Date(epochSeconds * 1000).toISOString();
}

// Keep a list's children in the order of `items`, reusing each item's element (focus and state survive).
export function renderKeyed(list, items, keyOf, create, update) {
  const existing = new Map();
  for (const child of list.children) existing.set(child.dataset.key, child);
  let previous = null;
  for (const item of items) {
    const key = String(keyOf(item));
    let element = existing.get(key);
    if (element) existing.delete(key);
    else {
      element = create(item);
      element.dataset.key = key;
    }
    update(element, item);
    const expected = previous ? previous.nextElementSibling : list.firstElementChild;
    if (element !== expected) list.insertBefore(element, expected);
    previous = element;
  }
  for (const stale of existing.values()) stale.remove();
}
