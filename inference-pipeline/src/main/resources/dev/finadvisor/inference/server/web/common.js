// What every page shares: the API key (kept for this browser tab only), requests to the API with its errors said
// plainly, and small formatting helpers. No framework, no build step.
const $ = id => document.getElementById(id);

const apiKey = {
  get: () => sessionStorage.getItem('finadvisor.api_key') || '',
  set: value => value ? sessionStorage.setItem('finadvisor.api_key', value) : sessionStorage.removeItem('finadvisor.api_key'),
};

function apiHeaders(json) {
  const headers = json ? {'Content-Type': 'application/json'} : {};
  if (apiKey.get()) headers['Authorization'] = 'Bearer ' + apiKey.get();
  return headers;
}

/** An error the API answered with, said as a person would read it (the server's message and what to do). */
class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const message = body && body.error ? body.error.message : `HTTP ${status}`;
    const wait = retryAfter && !/retry/i.test(message) ? ` Try again in ${retryAfter} s.` : '';
    const said = {
      401: 'The server needs an API key, or the one given is wrong: set it under "API key". (' + message + ')',
      413: 'Too long: ' + message,
      429: 'Rate-limited: ' + message + wait,
      503: 'Not ready: ' + message + wait,
    }[status];
    super(said || message);
    this.status = status;
  }
}

/** fetch() against the API: JSON in and the response back, or an ApiError naming what went wrong. */
async function api(path, options = {}) {
  let res;
  try {
    res = await fetch(path, {...options, headers: apiHeaders(options.body !== undefined)});
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new Error('Cannot reach the server (' + e.message + ').');
  }
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    throw new ApiError(res.status, body, res.headers.get('Retry-After'));
  }
  return res;
}

async function apiJson(path) {
  return (await api(path)).json();
}

/** Reads a text/event-stream response, calling onEvent(name, data) for each event. */
async function readEvents(res, onEvent) {
  const reader = res.body.getReader(), decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, {stream: true});
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      onEvent(event, JSON.parse(data.join('\n')));
    }
  }
}

/** An element with text and attributes, e.g. el('a', {href: url}, 'headline'). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v; else node.setAttribute(k, v === true ? '' : v);
  }
  node.append(...children.filter(c => c !== undefined && c !== null));
  return node;
}

/** A link target only if it is an http(s) address (news URLs come from outside: never follow javascript: or data:). */
function safeUrl(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch (e) {
    return null;
  }
}

/** A link to an article, or its headline as plain text when its address is not http(s). */
function articleLink(url, text) {
  const href = safeUrl(url);
  return href ? el('a', {href, target: '_blank', rel: 'noopener'}, text) : el('span', {}, text);
}

function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/** The API key field every page has: typing a key keeps it for this tab. */
function bindApiKeyField(input, onChange) {
  input.value = apiKey.get();
  input.addEventListener('change', () => { apiKey.set(input.value.trim()); if (onChange) onChange(); });
}
