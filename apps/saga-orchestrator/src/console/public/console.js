/* global document, sessionStorage, fetch, URLSearchParams */
// The operator console: plain DOM, no framework. Every node is built with textContent, never from HTML, so no value
// from the API can become markup. The operator's token lives in sessionStorage (this tab only) and goes out as
// `Authorization: Bearer …` on every call, to this origin only.

const TOKEN_KEY = 'orderflow.console.operatorToken';
// Kinds this page knows how to colour; any other kind is still shown, as it is.
const KNOWN_KINDS = new Set([
  'event',
  'command',
  'published',
  'transition',
  'ignored',
  'unexpected',
  'deadline',
  'operator',
]);
const PAGE_SIZE = 50;
/** A parked saga waits in a state named `…NeedsAttention` until an operator retries, compensates or resolves it. */
const isParked = (state) => typeof state === 'string' && state.endsWith('NeedsAttention');

const $ = (id) => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node;
};

/** An element with attributes and children (strings become text nodes). */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'className') node.className = String(value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name === 'onclick') node.addEventListener('click', value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null) continue;
    node.append(
      typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child,
    );
  }
  return node;
}

const text = (value) => (value === undefined || value === null ? '' : String(value));
const compactJson = (value) => {
  if (value === undefined) return '';
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
};

function setStatus(node, message, kind = 'info') {
  node.textContent = message;
  node.dataset.kind = kind;
}

// ---- the API ------------------------------------------------------------------------------------------------------

let token = sessionStorage.getItem(TOKEN_KEY) ?? '';

/** `{ ok, status, data }` or `{ ok: false, status, problem }`; never throws. */
async function api(method, path, body, credential = token) {
  const headers = { accept: 'application/json', authorization: `Bearer ${credential}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
  } catch (err) {
    return { ok: false, status: 0, problem: { title: 'The orchestrator could not be reached', detail: err.message } };
  }
  const raw = await res.text();
  let data;
  try {
    data = raw ? JSON.parse(raw) : undefined;
  } catch {
    data = undefined;
  }
  if (res.ok) return { ok: true, status: res.status, data };
  const problem = data && typeof data === 'object' ? data : { title: res.statusText || 'Error' };
  if (res.status === 401 && credential === token && token) signOut('The token was refused (401): sign in again.');
  return { ok: false, status: res.status, problem };
}

/** RFC 9457 problem details as one line: status, title, detail, and each invalid field. */
function describe(result) {
  const problem = result.problem ?? {};
  const parts = [`${result.status ? `${result.status} ` : ''}${text(problem.title) || 'Error'}`];
  if (problem.detail) parts.push(text(problem.detail));
  if (Array.isArray(problem.errors)) {
    for (const error of problem.errors) parts.push(`${text(error?.field)}: ${text(error?.message)}`);
  }
  return parts.join(' — ');
}

// ---- signing in and out -------------------------------------------------------------------------------------------

function showMessage(message) {
  const node = $('message');
  node.textContent = message;
  node.hidden = !message;
}

function showSignedIn(signedIn) {
  $('sign-in').hidden = signedIn;
  $('signed-in').hidden = !signedIn;
  $('views').hidden = !signedIn;
  $('content').hidden = !signedIn;
}

function signOut(message = '') {
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  for (const id of [
    'state-counts',
    'counts-status',
    'search-status',
    'saga-attention',
    'saga-summary',
    'action-result',
  ]) {
    $(id).replaceChildren();
  }
  for (const table of ['state-sagas', 'timeline', 'dead-letter-queues', 'dead-letter-list', 'notifications']) {
    $(table).querySelector('tbody').replaceChildren();
  }
  $('saga').hidden = true;
  $('state-list').hidden = true;
  $('dead-letter-messages').hidden = true;
  showSignedIn(false);
  showMessage(message);
}

async function signIn(candidate) {
  // The token is kept only once the orchestrator has accepted it.
  const result = await api('GET', '/sagas/counts', undefined, candidate);
  if (!result.ok) {
    showMessage(
      result.status === 401 ? `The token was refused: ${describe(result)}` : `Could not sign in: ${describe(result)}`,
    );
    return;
  }
  token = candidate;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('token').value = '';
  showMessage('');
  showSignedIn(true);
  renderCounts(result.data);
}

// ---- views ----------------------------------------------------------------------------------------------------------

const loaders = {
  sagas: () => loadCounts(),
  'dead-letters': () => loadDeadLetters(),
  notifications: () => loadNotifications(),
};

function showView(name) {
  for (const button of $('views').querySelectorAll('button[data-view]')) {
    button.setAttribute('aria-pressed', String(button.dataset.view === name));
  }
  for (const section of $('content').querySelectorAll('section[data-view]'))
    section.hidden = section.dataset.view !== name;
  void loaders[name]?.();
}

// ---- sagas by state -----------------------------------------------------------------------------------------------

async function loadCounts() {
  const result = await api('GET', '/sagas/counts');
  if (!result.ok) return setStatus($('counts-status'), `Could not load the counts: ${describe(result)}`, 'error');
  renderCounts(result.data);
}

function renderCounts(data) {
  const counts = data && typeof data.counts === 'object' && data.counts ? data.counts : {};
  $('state-counts').replaceChildren(
    ...Object.entries(counts).map(([state, count]) =>
      el(
        'li',
        {},
        el(
          'button',
          {
            type: 'button',
            className: ['state', isParked(state) && 'parked', isParked(state) && Number(count) > 0 && 'waiting']
              .filter(Boolean)
              .join(' '),
            title: isParked(state) ? 'Parked: these sagas wait for an operator' : undefined,
            dataset: { state },
            onclick: () => void listState(state),
          },
          el('span', { className: 'state-name' }, state),
          ' ',
          el('span', { className: 'count' }, text(count)),
        ),
      ),
    ),
  );
  setStatus($('counts-status'), `Counted at ${new Date().toISOString()}`);
}

let listing = { state: '', cursor: undefined };

async function listState(state, cursor) {
  const query = new URLSearchParams({ state, limit: String(PAGE_SIZE) });
  if (cursor) query.set('cursor', cursor);
  const result = await api('GET', `/sagas?${query}`);
  $('state-list').hidden = false;
  $('state-list-title').textContent = `Sagas in ${state}`;
  const body = $('state-sagas').querySelector('tbody');
  if (!cursor) body.replaceChildren();
  if (!result.ok) {
    body.append(el('tr', {}, el('td', { colspan: 4, className: 'error' }, describe(result))));
    $('state-more').hidden = true;
    return;
  }
  const items = Array.isArray(result.data?.items) ? result.data.items : [];
  for (const saga of items) {
    body.append(
      el(
        'tr',
        {},
        el(
          'td',
          {},
          el(
            'button',
            { type: 'button', className: 'link', onclick: () => void openSaga(saga.correlationId) },
            text(saga.correlationId),
          ),
        ),
        el('td', {}, text(saga.state)),
        el('td', {}, text(saga.createdAt)),
        el('td', {}, text(saga.updatedAt)),
      ),
    );
  }
  if (!cursor && items.length === 0) body.append(el('tr', {}, el('td', { colspan: 4 }, 'None')));
  listing = { state, cursor: result.data?.nextCursor };
  $('state-more').hidden = !listing.cursor;
}

// ---- one saga's timeline ------------------------------------------------------------------------------------------

let currentOrderId = '';

async function openSaga(orderId) {
  showView('sagas');
  $('order-id').value = orderId;
  await loadSaga(orderId);
}

async function loadSaga(orderId) {
  const result = await api('GET', `/sagas/${encodeURIComponent(orderId)}`);
  if (!result.ok) {
    $('saga').hidden = true;
    currentOrderId = '';
    setStatus($('search-status'), describe(result), 'error');
    return;
  }
  if (orderId !== currentOrderId) setStatus($('action-result'), '');
  currentOrderId = orderId;
  setStatus($('search-status'), '');
  renderSaga(result.data ?? {});
}

function renderSaga(saga) {
  $('saga').hidden = false;
  $('saga-title').textContent = `Order ${text(saga.correlationId)}`;
  renderAttention(saga);
  const summary = [
    ['State', saga.state],
    ['Version', saga.version],
    ['Created', saga.createdAt],
    ['Updated', saga.updatedAt],
    ['Completed', saga.completedAt],
    ['Data', compactJson(saga.data)],
  ];
  $('saga-summary').replaceChildren(
    ...summary.flatMap(([term, value]) => [
      el('dt', {}, term),
      el('dd', { className: term === 'State' && isParked(value) ? 'parked' : undefined }, text(value) || '—'),
    ]),
  );
  const history = Array.isArray(saga.history) ? saga.history : [];
  $('timeline')
    .querySelector('tbody')
    .replaceChildren(...history.map(historyRow));
}

/** Why a parked saga stopped, and where, above everything else; nothing for a saga that is not parked. */
function renderAttention(saga) {
  const node = $('saga-attention');
  if (!isParked(saga.state)) {
    node.hidden = true;
    node.replaceChildren();
    return;
  }
  const attention = saga.data && typeof saga.data.attention === 'object' ? (saga.data.attention ?? {}) : {};
  node.replaceChildren(
    el('strong', {}, `Needs attention (${text(saga.state)}): `),
    el('span', { className: 'reason' }, text(attention.reason) || 'no reason recorded'),
    el(
      'span',
      { className: 'where' },
      [
        attention.state ? ` — stopped in ${text(attention.state)}` : '',
        attention.at ? ` at ${text(attention.at)}` : '',
      ].join(''),
    ),
  );
  node.hidden = false;
}

/** One history entry as a row; an entry of a kind this page does not know is shown the same way, as it is. */
function historyRow(entry) {
  const kind = text(entry?.kind) || 'unknown';
  const from = text(entry?.fromState);
  const to = text(entry?.toState);
  return el(
    'tr',
    { dataset: { kind } },
    el('td', { className: 'time' }, text(entry?.at)),
    el('td', {}, el('span', { className: `kind kind-${KNOWN_KINDS.has(kind) ? kind : 'other'}` }, kind)),
    el('td', { className: 'message-type' }, text(entry?.messageType)),
    el('td', { className: 'states' }, from || to ? `${from || '—'} → ${to || '—'}` : ''),
    el('td', {}, el('code', { className: 'detail' }, compactJson(entry?.detail))),
  );
}

// ---- operator actions on one saga ---------------------------------------------------------------------------------

const ACTION_NAMES = { retry: 'Retry', compensate: 'Force compensation', resolve: 'Resolve' };

async function act(action) {
  const result = $('action-result');
  const note = $('note').value.trim();
  if (!currentOrderId) return setStatus(result, 'Open a saga first.', 'error');
  if (!note) {
    $('note').focus();
    return setStatus(result, 'Type a note first: every operator action records why.', 'error');
  }
  const buttons = [...$('actions').querySelectorAll('button[data-action]')];
  setStatus(result, `${ACTION_NAMES[action]}…`);
  // One action at a time: a second click would act on a saga the first one already changed.
  for (const button of buttons) button.disabled = true;
  const answer = await api('POST', `/sagas/${encodeURIComponent(currentOrderId)}/${action}`, { note });
  for (const button of buttons) button.disabled = false;
  // The note stays on a refusal, so the operator can try another action with it.
  if (!answer.ok) return setStatus(result, `${ACTION_NAMES[action]} failed: ${describe(answer)}`, 'error');
  $('note').value = '';
  // The answer is the saga as the action left it (the same view as GET /sagas/{orderId}).
  if (answer.data && typeof answer.data === 'object') renderSaga(answer.data);
  else await loadSaga(currentOrderId);
  setStatus(result, `${ACTION_NAMES[action]}: done, the saga is now ${text(answer.data?.state) || 'reloaded'}.`);
  void loadCounts();
}

// ---- dead letters -------------------------------------------------------------------------------------------------

async function loadDeadLetters() {
  const status = $('dead-letters-status');
  const body = $('dead-letter-queues').querySelector('tbody');
  const result = await api('GET', '/console/api/dead-letters');
  body.replaceChildren();
  if (!result.ok) return setStatus(status, `Could not load the dead letters: ${describe(result)}`, 'error');
  if (!result.data?.configured) {
    return setStatus(
      status,
      'Dead letters: not configured (CONSOLE_SERVICE_URLS is not set on the orchestrator).',
      'error',
    );
  }
  const services = Array.isArray(result.data.services) ? result.data.services : [];
  for (const service of services) {
    if (!service.ok) {
      body.append(
        el(
          'tr',
          { dataset: { service: text(service.service) } },
          el('td', {}, text(service.service)),
          el('td', { colspan: 4, className: 'error' }, `unavailable: ${text(service.status)} ${text(service.detail)}`),
        ),
      );
      continue;
    }
    for (const queue of service.queues ?? []) {
      body.append(
        el(
          'tr',
          { dataset: { service: text(service.service), queue: text(queue.queue) } },
          el('td', {}, text(service.service)),
          el('td', {}, text(queue.queue)),
          el('td', {}, text(queue.deadLetterQueue)),
          el('td', { className: queue.messages > 0 ? 'depth nonzero' : 'depth' }, text(queue.messages)),
          el(
            'td',
            {},
            el('button', { type: 'button', onclick: () => void listDeadLetters(service.service, queue.queue) }, 'Show'),
          ),
        ),
      );
    }
  }
  setStatus(status, `${services.length} services, read at ${new Date().toISOString()}`);
}

let deadLetterQueue = { service: '', queue: '' };

async function listDeadLetters(service, queue) {
  deadLetterQueue = { service, queue };
  $('dead-letter-messages').hidden = false;
  $('dead-letter-messages-title').textContent = `${queue} (${service}): dead letters`;
  setStatus($('dead-letter-result'), '');
  const body = $('dead-letter-list').querySelector('tbody');
  const path = `/console/api/dead-letters/${encodeURIComponent(service)}/${encodeURIComponent(queue)}?limit=${PAGE_SIZE}`;
  const result = await api('GET', path);
  body.replaceChildren();
  if (!result.ok) return body.append(el('tr', {}, el('td', { colspan: 7, className: 'error' }, describe(result))));
  const letters = Array.isArray(result.data) ? result.data : [];
  if (letters.length === 0) body.append(el('tr', {}, el('td', { colspan: 7 }, 'None')));
  for (const letter of letters) {
    body.append(
      el(
        'tr',
        {},
        el(
          'td',
          {},
          el('input', {
            type: 'checkbox',
            className: 'replay',
            value: text(letter.messageId),
            disabled: !letter.messageId,
            'aria-label': `Replay ${text(letter.messageId)}`,
          }),
        ),
        el('td', {}, text(letter.messageId)),
        el('td', {}, text(letter.type)),
        el('td', {}, text(letter.reason)),
        el('td', { className: 'error-text' }, text(letter.error)),
        el('td', {}, text(letter.failedAt)),
        el('td', {}, text(letter.attempts)),
      ),
    );
  }
}

async function replaySelected() {
  const result = $('dead-letter-result');
  const messageIds = [...$('dead-letter-list').querySelectorAll('input.replay:checked')].map((box) => box.value);
  if (messageIds.length === 0) return setStatus(result, 'Select the messages to replay first.', 'error');
  const { service, queue } = deadLetterQueue;
  const path = `/console/api/dead-letters/${encodeURIComponent(service)}/${encodeURIComponent(queue)}/replay`;
  const answer = await api('POST', path, { messageIds });
  if (!answer.ok) return setStatus(result, `Replay failed: ${describe(answer)}`, 'error');
  await Promise.all([loadDeadLetters(), listDeadLetters(service, queue)]);
  setStatus(result, `Replayed ${text(answer.data?.replayed)} of ${messageIds.length} selected.`);
}

// ---- failed merchant notifications --------------------------------------------------------------------------------

async function loadNotifications() {
  const status = $('notifications-status');
  const body = $('notifications').querySelector('tbody');
  const result = await api('GET', `/console/api/notifications/failed?limit=${PAGE_SIZE}`);
  body.replaceChildren();
  if (!result.ok) return setStatus(status, `Could not load the notifications: ${describe(result)}`, 'error');
  const notifications = Array.isArray(result.data?.notifications) ? result.data.notifications : [];
  for (const n of notifications) {
    const attempts = Array.isArray(n.attempts) ? n.attempts : [];
    const last = attempts.at(-1);
    const lastText = last ? [last.outcome, last.statusCode, last.error].filter((v) => v !== undefined).join(' ') : '';
    const cell = el('td');
    cell.append(el('button', { type: 'button', onclick: () => void redeliver(n.notificationId, cell) }, 'Redeliver'));
    body.append(
      el(
        'tr',
        {},
        el('td', {}, text(n.notificationId)),
        el(
          'td',
          {},
          el('button', { type: 'button', className: 'link', onclick: () => void openSaga(n.orderId) }, text(n.orderId)),
        ),
        el('td', {}, `${text(n.status)}${n.statusReason ? ` (${text(n.statusReason)})` : ''}`),
        el('td', {}, text(attempts.length)),
        el('td', { className: 'error-text' }, lastText),
        el('td', {}, text(n.settledAt)),
        cell,
      ),
    );
  }
  setStatus(status, notifications.length === 0 ? 'No failed notifications.' : `${notifications.length} failed.`);
}

async function redeliver(notificationId, cell) {
  const answer = await api('POST', `/console/api/notifications/${encodeURIComponent(notificationId)}/redeliver`);
  cell.replaceChildren(
    el(
      'span',
      { className: answer.ok ? 'ok' : 'error' },
      answer.ok ? `Redelivering (${text(answer.data?.state)})` : describe(answer),
    ),
  );
}

// ---- wiring -------------------------------------------------------------------------------------------------------

$('sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  const candidate = $('token').value.trim();
  if (candidate) void signIn(candidate);
});
$('sign-out').addEventListener('click', () => signOut('Signed out.'));
for (const button of $('views').querySelectorAll('button[data-view]')) {
  button.addEventListener('click', () => showView(button.dataset.view));
}
$('counts-refresh').addEventListener('click', () => void loadCounts());
$('state-more').addEventListener('click', () => void listState(listing.state, listing.cursor));
$('search').addEventListener('submit', (event) => {
  event.preventDefault();
  const orderId = $('order-id').value.trim();
  if (orderId) void loadSaga(orderId);
});
for (const button of $('actions').querySelectorAll('button[data-action]')) {
  button.addEventListener('click', () => void act(button.dataset.action));
}
$('dead-letters-refresh').addEventListener('click', () => void loadDeadLetters());
$('dead-letter-replay').addEventListener('click', () => void replaySelected());
$('notifications-refresh').addEventListener('click', () => void loadNotifications());

if (token) {
  showSignedIn(true);
  void loadCounts();
} else {
  showSignedIn(false);
}
