/* global document, sessionStorage, fetch, URLSearchParams, setTimeout, clearTimeout */
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
  for (const table of [
    'state-sagas',
    'timeline',
    'dead-letter-queues',
    'dead-letter-list',
    'notifications',
    'batch-outcomes',
    'batch-audit',
    'replay-outcomes',
    'replay-audit',
  ]) {
    $(table).querySelector('tbody').replaceChildren();
  }
  for (const id of ['batch-outcomes', 'batch-audit', 'batch-audit-title', 'replay-outcomes', 'replay-audit']) {
    $(id).hidden = true;
  }
  $('replay-audit-title').hidden = true;
  $('auto-refresh').checked = false;
  scheduleRefresh();
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

let currentView = 'sagas';

function showView(name) {
  currentView = name;
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
  const select = $('filter-state');
  const chosen = select.value;
  select.replaceChildren(
    el('option', { value: '' }, 'any'),
    ...Object.keys(counts).map((state) => el('option', { value: state }, state)),
  );
  select.value = Object.hasOwn(counts, chosen) ? chosen : '';
}

/** A `datetime-local` value (the operator's local time) as an ISO 8601 instant, or undefined when empty. */
function instantOf(value) {
  if (!value) return undefined;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? undefined : time.toISOString();
}

/** The saga filters as query parameters; empty ones are left out. */
function sagaFilters() {
  const filters = {
    state: $('filter-state').value,
    since: instantOf($('filter-since').value),
    until: instantOf($('filter-until').value),
    reason: $('filter-reason').value.trim(),
    orderId: $('filter-order').value.trim().toLowerCase(),
  };
  return Object.fromEntries(Object.entries(filters).filter(([, value]) => value));
}

function describeFilters(filters) {
  const parts = Object.entries(filters).map(([name, value]) => `${name} ${value}`);
  return parts.length === 0 ? 'All sagas' : `Sagas with ${parts.join(', ')}`;
}

let listing = { filters: {}, cursor: undefined };

/** Lists the sagas by the filters; `cursor` appends the next page. */
async function listSagas(filters, cursor) {
  const query = new URLSearchParams({ ...filters, limit: String(PAGE_SIZE) });
  if (cursor) query.set('cursor', cursor);
  const result = await api('GET', `/sagas?${query}`);
  $('state-list').hidden = false;
  $('state-list-title').textContent = describeFilters(filters);
  const body = $('state-sagas').querySelector('tbody');
  if (!cursor) {
    body.replaceChildren();
    $('select-all-sagas').checked = false;
  }
  if (!result.ok) {
    body.append(el('tr', {}, el('td', { colspan: 6, className: 'error' }, describe(result))));
    $('state-more').hidden = true;
    return;
  }
  const items = Array.isArray(result.data?.items) ? result.data.items : [];
  for (const saga of items) body.append(sagaRow(saga));
  if (!cursor && items.length === 0) body.append(el('tr', {}, el('td', { colspan: 6 }, 'None')));
  listing = { filters, cursor: result.data?.nextCursor };
  $('state-more').hidden = !listing.cursor;
}

const listState = (state) => {
  $('filter-state').value = state;
  return listSagas(sagaFilters());
};

/** Why the saga stopped (parked) or why its order was cancelled, as its data says. */
function reasonOf(saga) {
  const data = saga.data && typeof saga.data === 'object' ? saga.data : {};
  const attention = data.attention && typeof data.attention === 'object' ? data.attention : {};
  return text(attention.reason) || text(data.reason);
}

function sagaRow(saga) {
  const orderId = text(saga.correlationId);
  return el(
    'tr',
    { dataset: { orderId } },
    el(
      'td',
      {},
      el('input', {
        type: 'checkbox',
        className: 'select-saga',
        value: orderId,
        dataset: { version: text(saga.version) },
        'aria-label': `Select ${orderId}`,
      }),
    ),
    el('td', {}, el('button', { type: 'button', className: 'link', onclick: () => void openSaga(orderId) }, orderId)),
    el('td', { className: isParked(saga.state) ? 'parked' : undefined }, text(saga.state)),
    el('td', { className: 'reason' }, reasonOf(saga)),
    el('td', {}, text(saga.createdAt)),
    el('td', {}, text(saga.updatedAt)),
  );
}

const selectedSagas = () =>
  [...$('state-sagas').querySelectorAll('input.select-saga:checked')].map((box) => ({
    orderId: box.value,
    version: Number(box.dataset.version),
  }));

// ---- batch actions ------------------------------------------------------------------------------------------------

const OUTCOME_NAMES = { succeeded: 'succeeded', skipped: 'skipped: state changed', failed: 'failed' };

function outcomeRow(id, item, ...cells) {
  const outcome = text(item?.outcome);
  return el(
    'tr',
    { dataset: { id, outcome } },
    el('td', {}, id),
    el('td', { className: `outcome outcome-${outcome}` }, OUTCOME_NAMES[outcome] ?? outcome),
    ...cells.map((cell) => el('td', {}, text(cell))),
  );
}

function tallyText(data) {
  return `${text(data?.succeeded)} succeeded, ${text(data?.skipped)} skipped, ${text(data?.failed)} failed`;
}

/**
 * The audit's records of one batch, read from `path` until the batch's row and one per item are there: they are
 * written once the batch's answer has been sent, so a moment after it.
 */
async function showAudit(path, expected, table, title) {
  let records = [];
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const result = await api('GET', path);
    records = result.ok && Array.isArray(result.data) ? result.data : [];
    if (records.length >= expected) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  table
    .querySelector('tbody')
    .replaceChildren(
      ...records.map((record) =>
        el(
          'tr',
          { dataset: { outcome: text(record?.target?.outcome) } },
          el('td', { className: 'time' }, text(record?.at)),
          el('td', {}, text(record?.operator)),
          el('td', {}, text(record?.action)),
          el('td', {}, el('code', { className: 'detail' }, compactJson(record?.target))),
          el('td', {}, text(record?.status)),
        ),
      ),
    );
  table.hidden = false;
  title.hidden = false;
}

async function actOnSelected(action) {
  const result = $('batch-result');
  const sagas = selectedSagas();
  const note = $('batch-why').value.trim();
  if (sagas.length === 0) return setStatus(result, 'Select the sagas to act on first.', 'error');
  if (!note) {
    $('batch-why').focus();
    return setStatus(result, 'Say why first: every operator action records it.', 'error');
  }
  const buttons = [...$('saga-batch').querySelectorAll('button[data-batch]')];
  for (const button of buttons) button.disabled = true;
  setStatus(result, `${ACTION_NAMES[action]}: ${sagas.length} sagas…`);
  const answer = await api('POST', '/sagas/actions', { action, note, sagas });
  for (const button of buttons) button.disabled = false;
  if (!answer.ok) return setStatus(result, `${ACTION_NAMES[action]} failed: ${describe(answer)}`, 'error');
  const items = Array.isArray(answer.data?.items) ? answer.data.items : [];
  $('batch-outcomes')
    .querySelector('tbody')
    .replaceChildren(
      ...items.map((item) => outcomeRow(text(item.orderId), item, item.status, item.state, item.detail)),
    );
  $('batch-outcomes').hidden = false;
  setStatus(result, `${ACTION_NAMES[action]}: ${tallyText(answer.data)}.`, answer.data?.failed > 0 ? 'error' : 'info');
  $('batch-why').value = '';
  const batch = encodeURIComponent(text(answer.data?.batchId));
  await Promise.all([
    showAudit(`/operator-actions?batch=${batch}&limit=500`, items.length + 1, $('batch-audit'), $('batch-audit-title')),
    loadCounts(),
    listSagas(listing.filters),
  ]);
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
  filterQueues();
  setStatus(status, `${services.length} services, read at ${new Date().toISOString()}`);
}

/** Hides the queues the queue filter leaves out; a service that did not answer is always shown. */
function filterQueues() {
  const wanted = $('filter-queue').value.trim().toLowerCase();
  const nonEmpty = $('filter-queue-nonempty').checked;
  for (const row of $('dead-letter-queues').querySelectorAll('tbody tr[data-queue]')) {
    const depth = Number(row.querySelector('td.depth')?.textContent ?? 0);
    row.hidden = (wanted !== '' && !row.dataset.queue.toLowerCase().includes(wanted)) || (nonEmpty && depth === 0);
  }
}

function deadLetterFilters() {
  const filters = {
    reason: $('dl-filter-reason').value.trim(),
    since: instantOf($('dl-filter-since').value),
    until: instantOf($('dl-filter-until').value),
  };
  return Object.fromEntries(Object.entries(filters).filter(([, value]) => value));
}

let deadLetterQueue = { service: '', queue: '' };

async function listDeadLetters(service, queue, { keepResult = false } = {}) {
  if (service !== deadLetterQueue.service || queue !== deadLetterQueue.queue) keepResult = false;
  deadLetterQueue = { service, queue };
  $('dead-letter-messages').hidden = false;
  $('dead-letter-messages-title').textContent = `${queue} (${service}): dead letters`;
  if (!keepResult) {
    setStatus($('dead-letter-result'), '');
    for (const id of ['replay-outcomes', 'replay-audit', 'replay-audit-title']) $(id).hidden = true;
  }
  const body = $('dead-letter-list').querySelector('tbody');
  const query = new URLSearchParams({ ...deadLetterFilters(), limit: String(PAGE_SIZE) });
  const path = `/console/api/dead-letters/${encodeURIComponent(service)}/${encodeURIComponent(queue)}?${query}`;
  const result = await api('GET', path);
  body.replaceChildren();
  $('select-all-dead-letters').checked = false;
  if (!result.ok) return body.append(el('tr', {}, el('td', { colspan: 7, className: 'error' }, describe(result))));
  const letters = Array.isArray(result.data) ? result.data : [];
  if (letters.length === 0) body.append(el('tr', {}, el('td', { colspan: 7 }, 'None')));
  for (const letter of letters) {
    body.append(
      el(
        'tr',
        { dataset: { messageId: text(letter.messageId) } },
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
  const note = $('replay-why').value.trim();
  if (messageIds.length === 0) return setStatus(result, 'Select the messages to replay first.', 'error');
  if (!note) {
    $('replay-why').focus();
    return setStatus(result, 'Say why first: every replay records it.', 'error');
  }
  const { service, queue } = deadLetterQueue;
  const path = `/console/api/dead-letters/${encodeURIComponent(service)}/${encodeURIComponent(queue)}/replay-batch`;
  $('dead-letter-replay').disabled = true;
  const answer = await api('POST', path, { messageIds, note });
  $('dead-letter-replay').disabled = false;
  if (!answer.ok) return setStatus(result, `Replay failed: ${describe(answer)}`, 'error');
  const items = Array.isArray(answer.data?.items) ? answer.data.items : [];
  $('replay-outcomes')
    .querySelector('tbody')
    .replaceChildren(...items.map((item) => outcomeRow(text(item.messageId), item, item.detail)));
  $('replay-outcomes').hidden = false;
  setStatus(result, `Replay: ${tallyText(answer.data)}.`, answer.data?.failed > 0 ? 'error' : 'info');
  $('replay-why').value = '';
  const batch = encodeURIComponent(text(answer.data?.batchId));
  await Promise.all([
    showAudit(
      `/console/api/operator-actions/${encodeURIComponent(service)}?batch=${batch}&limit=500`,
      items.length + 1,
      $('replay-audit'),
      $('replay-audit-title'),
    ),
    loadDeadLetters(),
    listDeadLetters(service, queue, { keepResult: true }),
  ]);
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

// ---- auto-refresh -------------------------------------------------------------------------------------------------
// One timer, set again only once a refresh has finished, so a slow orchestrator never has refreshes piling up; none
// while the tab is hidden (one on its return instead). A list with a selection in it is left alone: refreshing it
// would take the selection away from under the operator.

let refreshTimer;
let refreshing = false;

async function refreshVisibleView() {
  if (refreshing || !token) return;
  refreshing = true;
  try {
    if (currentView === 'sagas') {
      await loadCounts();
      if (!$('state-list').hidden && selectedSagas().length === 0) await listSagas(listing.filters);
    } else if (currentView === 'dead-letters') {
      await loadDeadLetters();
      const { service, queue } = deadLetterQueue;
      const selected = $('dead-letter-list').querySelector('input.replay:checked');
      if (!$('dead-letter-messages').hidden && !selected) await listDeadLetters(service, queue, { keepResult: true });
    } else {
      await loadNotifications();
    }
    setStatus($('refresh-status'), `refreshed ${new Date().toLocaleTimeString()}`);
  } finally {
    refreshing = false;
  }
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = undefined;
  if (!$('auto-refresh').checked || !token) return setStatus($('refresh-status'), '');
  if (document.hidden) return setStatus($('refresh-status'), 'paused while the tab is hidden');
  refreshTimer = setTimeout(
    async () => {
      await refreshVisibleView();
      scheduleRefresh();
    },
    Number($('refresh-interval').value) * 1000,
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
$('state-more').addEventListener('click', () => void listSagas(listing.filters, listing.cursor));
$('saga-filters').addEventListener('submit', (event) => {
  event.preventDefault();
  void listSagas(sagaFilters());
});
$('filter-clear').addEventListener('click', () => {
  for (const id of ['filter-state', 'filter-since', 'filter-until', 'filter-reason', 'filter-order']) $(id).value = '';
  void listSagas({});
});
$('select-all-sagas').addEventListener('change', (event) => {
  for (const box of $('state-sagas').querySelectorAll('input.select-saga')) box.checked = event.target.checked;
});
for (const button of $('saga-batch').querySelectorAll('button[data-batch]')) {
  button.addEventListener('click', () => void actOnSelected(button.dataset.batch));
}
$('auto-refresh').addEventListener('change', () => scheduleRefresh());
$('refresh-interval').addEventListener('change', () => scheduleRefresh());
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && $('auto-refresh').checked) void refreshVisibleView().then(scheduleRefresh);
  else scheduleRefresh();
});
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
$('queue-filter').addEventListener('input', () => filterQueues());
$('queue-filter').addEventListener('submit', (event) => event.preventDefault());
$('dead-letter-filters').addEventListener('submit', (event) => {
  event.preventDefault();
  void listDeadLetters(deadLetterQueue.service, deadLetterQueue.queue);
});
$('select-all-dead-letters').addEventListener('change', (event) => {
  for (const box of $('dead-letter-list').querySelectorAll('input.replay:not(:disabled)')) {
    box.checked = event.target.checked;
  }
});
$('notifications-refresh').addEventListener('click', () => void loadNotifications());

if (token) {
  showSignedIn(true);
  void loadCounts();
} else {
  showSignedIn(false);
}
