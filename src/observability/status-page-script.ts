/**
 * The script of the status page, run in the browser: it reads /status.json every REFRESH_MS and updates the page
 * in place (the table's rows are kept and only changed cells rewritten, so scrolling, selection and the browser's
 * find survive a refresh), and filters and sorts the streams. Every text from the forwarder goes in as text, never
 * as markup. It is plain JavaScript (the project's TypeScript has no DOM types); the helpers above `start` use no
 * DOM, so the unit tests run them (`pageHelpers`).
 */

/** How often the page reads /status.json while it is visible. */
export const REFRESH_MS = 2_000;

export const PAGE_SCRIPT = `'use strict';
const REFRESH_MS = ${REFRESH_MS};
/** Rows per block the browser lays out as one, only while it is on screen. */
const BLOCK_ROWS = 100;
const COLUMN_COUNT = 14;
const PROBLEM_LABELS = {
  disconnected: 'disconnected',
  never_connected: 'never connected',
  rejecting: 'rejecting',
  delivery_failing: 'delivery failing',
};
/** Rank of a stream in the default order: what the server sends, problems first. */
const PROBLEM_RANK = { disconnected: 0, never_connected: 1, rejecting: 2, delivery_failing: 2 };

/** "3 s", "4 min", "2 h", "5 d". */
function formatAge(seconds) {
  if (seconds < 120) return Math.max(0, Math.round(seconds)) + ' s';
  if (seconds < 7200) return Math.round(seconds / 60) + ' min';
  if (seconds < 172800) return Math.round(seconds / 3600) + ' h';
  return Math.round(seconds / 86400) + ' d';
}

/** "deliveryErrors" as "delivery errors". */
function words(key) {
  return key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ').toLowerCase();
}

function streamKey(stream) {
  return [stream.protocol, stream.pv, stream.topic, stream.schema].join('\\u0000');
}

/** The state a stream is shown in: its problem, or (connected or not) its EPICS state. */
function stateLabel(stream) {
  if (stream.problem && stream.problem !== 'disconnected') return PROBLEM_LABELS[stream.problem];
  return stream.state.replace(/_/g, ' ');
}

/** Whether the stream matches the state choice and every word of the filter text. */
function matches(stream, text, state) {
  if (state === 'problem' && !stream.problem) return false;
  if (state === 'ok' && stream.problem) return false;
  if (state !== '' && state !== 'problem' && state !== 'ok' && stream.problem !== state) return false;
  if (text.trim() === '') return true;
  const haystack = [stream.pv, stream.topic, stream.schema, stream.protocol, stream.server || '', stream.reason || '',
    stateLabel(stream)].join('\\n').toLowerCase();
  return text.toLowerCase().split(/\\s+/).every((word) => word === '' || haystack.includes(word));
}

/** Sorting by a column: the value compared, numbers as numbers, missing values last. */
const SORT_VALUES = {
  pv: (s) => s.pv,
  state: (s) => (s.problem ? PROBLEM_RANK[s.problem] : 3) + stateLabel(s),
  since: (s) => (s.since === null ? null : -Date.parse(s.since)),
  value: (s) => s.value,
  alarm: (s) => (s.alarm === null ? null : -['NO_ALARM', 'MINOR', 'MAJOR', 'INVALID'].indexOf(s.alarm.severity)),
  lastUpdate: (s) => (s.lastUpdate === null ? null : -Date.parse(s.lastUpdate)),
  server: (s) => s.server,
  reason: (s) => s.reason,
  topic: (s) => s.topic,
  schema: (s) => s.schema,
  protocol: (s) => s.protocol,
  updates: (s) => -s.updates,
  messages: (s) => -s.messages,
  rejected: (s) => -(s.rejected.timestamp + s.rejected.unsupported + s.rejected.error),
};

/** The streams in the order asked for: the server's (problems first) unless a column was chosen. */
function ordered(streams, key, descending) {
  if (!key) return streams;
  const value = SORT_VALUES[key];
  const sign = descending ? -1 : 1;
  return streams
    .map((stream, index) => ({ stream, index, value: value(stream) }))
    .sort((a, b) => {
      if (a.value === null || b.value === null) {
        if (a.value !== b.value) return a.value === null ? 1 : -1;
      } else if (a.value !== b.value) return (a.value < b.value ? -1 : 1) * sign;
      return a.index - b.index;
    })
    .map((entry) => entry.stream);
}

/** The cells of a stream's row: [text, title, class] each. */
function cells(stream, nowMs) {
  const ago = (iso) => (iso === null ? '' : formatAge((nowMs - Date.parse(iso)) / 1000));
  const rejected = stream.rejected.timestamp + stream.rejected.unsupported + stream.rejected.error;
  const alarm = stream.alarm === null ? '' : (stream.alarm.severity + ' ' + (stream.alarm.severity === 'NO_ALARM' ? '' : stream.alarm.message)).trim();
  return [
    [stream.pv, '', 'pv'],
    [stateLabel(stream), stream.periodic ? 'periodic stream' : '', 'state ' + (stream.problem || 'ok')],
    [ago(stream.since), stream.since || '', ''],
    [stream.value === null ? '' : stream.value, '', 'value'],
    [alarm, '', stream.alarm === null ? '' : 'alarm-' + stream.alarm.severity],
    [stream.lastUpdate === null ? 'never' : ago(stream.lastUpdate) + ' ago', stream.lastUpdate || '', ''],
    [stream.server || '', '', ''],
    [stream.reason || '', stream.reason || '', 'reason'],
    [stream.topic, '', ''],
    [stream.schema + (stream.periodic ? ' (periodic)' : ''), '', ''],
    [stream.protocol, '', ''],
    [String(stream.updates), '', 'n'],
    [String(stream.messages), '', 'n'],
    [String(rejected), stream.deliveryFailures ? stream.deliveryFailures.count + ' failed delivery' : '', 'n'],
  ];
}

/** The page's helpers without the DOM, for the unit tests. */
function pageHelpers() {
  return { formatAge, words, stateLabel, matches, ordered, cells };
}

function start() {
  const $ = (id) => document.getElementById(id);
  const body = $('rows');
  const rows = new Map();
  const rowOfElement = new WeakMap();
  /** Blocks of rows the browser shows now. */
  const onScreen = new Set();
  const view = { text: '', state: '', sort: '', descending: false, document: null, fetchedAtMs: 0, failed: '' };
  let shownOrder = [];

  function readHash() {
    const hash = new URLSearchParams(location.hash.slice(1));
    view.text = hash.get('filter') || '';
    view.state = hash.get('state') || '';
    $('filter').value = view.text;
    $('state').value = view.state;
  }

  function writeHash() {
    const hash = new URLSearchParams();
    if (view.text) hash.set('filter', view.text);
    if (view.state) hash.set('state', view.state);
    history.replaceState(null, '', hash.toString() ? '#' + hash : location.pathname + location.search);
  }

  function element(tag, text, className) {
    const made = document.createElement(tag);
    if (text !== undefined) made.textContent = text;
    if (className) made.className = className;
    return made;
  }

  function badge(text, className) {
    return element('span', text, 'badge ' + className);
  }

  function figureBox(title, figures) {
    const box = element('div', undefined, 'box');
    box.append(element('h2', title));
    for (const [label, value, onClick] of figures) {
      const line = element(onClick ? 'button' : 'div', undefined, 'figure');
      line.append(element('b', typeof value === 'number' ? value.toLocaleString('en') : String(value)), ' ' + label);
      if (onClick) line.addEventListener('click', onClick);
      box.append(line);
    }
    return box;
  }

  /** Every figure of an object, nested objects as boxes of their own. */
  function objectBoxes(title, object) {
    const flat = [];
    const nested = [];
    for (const [key, value] of Object.entries(object)) {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) nested.push(...objectBoxes(title + ' ' + words(key), value));
      else flat.push([words(key), Array.isArray(value) ? value.join(', ') : value]);
    }
    return [figureBox(title, flat), ...nested];
  }

  function chooseState(state) {
    return () => {
      view.state = state;
      $('state').value = state;
      writeHash();
      draw();
    };
  }

  function drawHeader(doc) {
    const service = doc.service;
    document.title = 'Forwarder ' + service.serviceId + ' (' + doc.overall + ')';
    $('service').textContent = service.serviceId;
    const overall = $('overall');
    overall.textContent = doc.overall;
    overall.className = 'badge overall-' + doc.overall;
    const summary = Object.entries(doc.problems).filter(([, count]) => count > 0)
      .map(([problem, count]) => count + ' ' + PROBLEM_LABELS[problem]).join(', ');
    $('summary').textContent = summary === '' ? 'every stream forwarding' : summary;
    $('meta').textContent = 'version ' + service.version + ' · host ' + service.hostName + ' · pid ' +
      service.processId + ' · up ' + formatAge(service.uptimeSeconds) + ' · config consumer ' +
      doc.health.checks.configConsumer + ' · output producer ' + doc.health.checks.outputProducer + ' · ';
    const streams = [['streams', doc.streams.length, chooseState('')]];
    for (const [problem, count] of Object.entries(doc.problems)) streams.push([PROBLEM_LABELS[problem], count, chooseState(problem)]);
    const boxes = [figureBox('Streams', streams)];
    for (const [role, figures] of Object.entries(doc.kafka)) boxes.push(...objectBoxes('Kafka ' + role, figures));
    boxes.push(figureBox('Commands', Object.entries(doc.commands).map(([key, value]) => [words(key), value])));
    if (doc.group) boxes.push(...objectBoxes('Group', doc.group));
    if (doc.spool) boxes.push(...objectBoxes('Spool', doc.spool));
    $('figures').replaceChildren(...boxes);
  }

  function rowOf(stream) {
    const key = streamKey(stream);
    let row = rows.get(key);
    if (!row) {
      const element = document.createElement('div');
      element.className = 'row';
      element.setAttribute('role', 'row');
      const cells = [];
      for (let i = 0; i < COLUMN_COUNT; i++) {
        const cell = element.appendChild(document.createElement('div'));
        cell.setAttribute('role', 'cell');
        cells.push(cell);
      }
      row = { element, cells, shown: [], stream: null, drawn: null };
      rows.set(key, row);
      rowOfElement.set(element, row);
    }
    row.stream = stream;
    return row;
  }

  /** Writes the cells of a row that differ from what it shows (nothing when its stream has not changed). */
  function fill(row, nowMs) {
    if (row.drawn === row.stream) return;
    row.drawn = row.stream;
    const values = cells(row.stream, nowMs);
    for (let i = 0; i < values.length; i++) {
      const [text, title, className] = values[i];
      const shown = row.shown[i];
      if (shown && shown[0] === text && shown[1] === title && shown[2] === className) continue;
      const cell = row.cells[i];
      if (i === 1) cell.replaceChildren(badge(text, className));
      else {
        cell.textContent = text;
        cell.className = className;
      }
      if (title) cell.title = title; else cell.removeAttribute('title');
      row.shown[i] = values[i];
    }
  }

  function fillBlock(block) {
    const nowMs = Date.parse(view.document.generatedAt);
    for (const element of block.children) fill(rowOfElement.get(element), nowMs);
  }

  /**
   * Only the rows shown are in the document, in order, in blocks of BLOCK_ROWS that the browser lays out only
   * while they are on screen (content-visibility), and whose rows are brought up to date only then: thousands of
   * rows cost little. A row is written once in full when it first appears, so the browser's find sees every PV.
   */
  function place(shownRows) {
    const blocks = body.children;
    const needed = Math.ceil(shownRows.length / BLOCK_ROWS);
    while (blocks.length < needed) {
      const block = body.appendChild(document.createElement('div'));
      block.className = 'block';
      block.addEventListener('contentvisibilityautostatechange', (event) => {
        if (event.skipped) onScreen.delete(block);
        else {
          onScreen.add(block);
          fillBlock(block);
        }
      });
    }
    while (blocks.length > needed) {
      onScreen.delete(body.lastElementChild);
      body.lastElementChild.remove();
    }
    for (let b = 0; b < needed; b++) {
      const members = shownRows.slice(b * BLOCK_ROWS, (b + 1) * BLOCK_ROWS);
      const block = blocks[b];
      if (block.childElementCount === members.length && members.every((member, i) => block.children[i] === member)) continue;
      block.replaceChildren(...members);
    }
  }

  function draw() {
    const doc = view.document;
    if (!doc) return;
    const nowMs = Date.parse(doc.generatedAt);
    const seen = new Set();
    const shownRows = [];
    for (const stream of ordered(doc.streams, view.sort, view.descending)) {
      const row = rowOf(stream);
      seen.add(row);
      if (row.drawn === null) fill(row, nowMs);
      if (matches(stream, view.text, view.state)) shownRows.push(row.element);
    }
    for (const [key, row] of rows) if (!seen.has(row)) { row.element.remove(); rows.delete(key); }
    if (shownRows.length !== shownOrder.length || shownRows.some((element, i) => element !== shownOrder[i])) {
      place(shownRows);
      shownOrder = shownRows;
    }
    for (const block of onScreen) fillBlock(block);
    $('shown').textContent = shownRows.length + ' of ' + doc.streams.length + ' streams';
    for (const head of document.querySelectorAll('[data-key]')) {
      const key = head.dataset.key;
      head.setAttribute('aria-sort', key === view.sort ? (view.descending ? 'descending' : 'ascending') : 'none');
    }
  }

  function showFreshness() {
    const age = view.fetchedAtMs === 0 ? '' : formatAge((Date.now() - view.fetchedAtMs) / 1000) + ' ago';
    $('updated').textContent = view.failed ? 'cannot reach the forwarder (' + view.failed + '); last data ' + age : 'updated ' + age;
    $('updated').className = view.failed ? 'stale' : '';
  }

  let timer;
  async function refresh() {
    clearTimeout(timer);
    try {
      const reply = await fetch('status.json', { cache: 'no-store' });
      if (!reply.ok) throw new Error('HTTP ' + reply.status);
      view.document = await reply.json();
      view.fetchedAtMs = Date.now();
      view.failed = '';
      drawHeader(view.document);
      draw();
    } catch (error) {
      view.failed = error.message;
    }
    showFreshness();
    if (!document.hidden) timer = setTimeout(refresh, REFRESH_MS);
  }

  $('filter').addEventListener('input', () => { view.text = $('filter').value; writeHash(); draw(); });
  $('state').addEventListener('change', () => { view.state = $('state').value; writeHash(); draw(); });
  window.addEventListener('hashchange', () => { readHash(); draw(); });
  for (const head of document.querySelectorAll('[data-key]')) {
    head.addEventListener('click', () => {
      const key = head.dataset.key;
      // Ascending, descending, then back to the server's order (problems first).
      if (view.sort !== key) { view.sort = key; view.descending = false; }
      else if (!view.descending) view.descending = true;
      else view.sort = '';
      draw();
    });
  }
  document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
  setInterval(showFreshness, 1000);
  readHash();
  refresh();
}

if (typeof document !== 'undefined') start();
`;
