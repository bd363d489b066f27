// The console's HTTP client: JSON calls with the session cookie, and uploads with progress.
// Every refusal becomes an ApiError carrying the server's own message.

export class ApiError extends Error {
  // `known` is false when the answer was not the API's own error shape (e.g. no such route at all).
  constructor(status, message, known = true) {
    super(message);
    this.status = status;
    this.known = known;
  }
}

let unauthorizedHandler = () => {};
let clockHandler = () => {};

export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

// Called with the server's Date header, so waiting times tick on the server's clock.
export function onServerDate(handler) {
  clockHandler = handler;
}

// The answer's JSON, or null when it has none (empty, or not JSON at all).
function parsed(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function failure(status, payload, fallback) {
  const known = Boolean(payload?.error?.message);
  return new ApiError(status, known ? payload.error.message : fallback, known);
}

export async function api(method, path, body, headers = {}) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'the server cannot be reached; check your connection');
  }
  const date = response.headers.get('date');
  if (date) clockHandler(Date.parse(date));
  const payload = parsed(await response.text());
  if (!response.ok) {
    const error = failure(response.status, payload, `${response.status} ${response.statusText}`);
    if (response.status === 401 && !path.endsWith('/session')) unauthorizedHandler(error);
    throw error;
  }
  return payload;
}

// POST a file as multipart field "file"; onProgress gets (sent, total). Returns {promise, abort}.
export function upload(path, file, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', path);
    xhr.withCredentials = true;
    xhr.setRequestHeader('accept', 'application/json');
    xhr.setRequestHeader('idempotency-key', crypto.randomUUID());
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener('load', () => {
      const payload = parsed(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve(payload);
      else {
        const error = failure(xhr.status, payload, `${xhr.status} ${xhr.statusText}`);
        if (xhr.status === 401) unauthorizedHandler(error);
        reject(error);
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'the upload was cut off; check your connection')));
    xhr.addEventListener('abort', () => reject(new ApiError(-1, 'upload cancelled')));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
