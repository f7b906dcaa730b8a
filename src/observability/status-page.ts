/**
 * The operators' page at `/`: one self-contained HTML document (its style and script inline, no external asset,
 * so it works on an isolated control network) that draws /status.json and keeps it current without reloading.
 * The page itself holds no data: it is the same few kilobytes whatever the number of streams, and the data comes
 * compressed. Its content security policy allows its own inline script (by hash), its style, and requests to its
 * own origin only.
 */
import { createHash } from 'node:crypto';
import { PAGE_SCRIPT, REFRESH_MS } from './status-page-script.js';

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.2em;color:#222}
h1{font-size:1.4em;margin:0 0 .2em}
h2{font-size:.85em;margin:0 0 .3em;color:#555;text-transform:uppercase;letter-spacing:.04em}
.meta{color:#555;margin-bottom:.6em}
.badge{display:inline-block;padding:.05em .6em;border-radius:.8em;font-weight:600;color:#fff;background:#757575}
.overall-ok,.badge.ok{background:#2e7d32}
.overall-degraded,.badge.rejecting,.badge.delivery_failing{background:#e65100}
.overall-unhealthy,.badge.disconnected{background:#c62828}
.overall-starting,.overall-stopping,.badge.never_connected{background:#757575}
#summary{margin-left:.6em;font-weight:600}
#figures{display:flex;flex-wrap:wrap;gap:.8em;margin:.8em 0}
.box{border:1px solid #ddd;border-radius:.4em;padding:.5em .8em;min-width:9em}
.figure{display:block;border:0;background:none;padding:0;font:inherit;text-align:left;color:inherit}
button.figure{cursor:pointer;text-decoration:underline dotted}
.figure b{font-variant-numeric:tabular-nums}
.controls{display:flex;flex-wrap:wrap;gap:.8em;align-items:center;margin:.6em 0;position:sticky;top:0;background:#fff;padding:.3em 0;z-index:2}
#filter{width:28em;max-width:100%;padding:.3em .5em;font:inherit}
#state{padding:.25em;font:inherit}
#shown,#updated{color:#555}
#updated.stale{color:#c62828;font-weight:600}
#table{min-width:100em}
.row{display:grid;grid-template-columns:var(--columns);border-bottom:1px solid #eee;white-space:nowrap;height:1.75em;align-items:center}
.row>div{overflow:hidden;text-overflow:ellipsis;padding:0 .5em}
.head{background:#f5f5f5;font-weight:600;position:sticky;top:2.6em;z-index:1}
.head>div{cursor:pointer;user-select:none}
.block{content-visibility:auto;contain-intrinsic-size:auto 175em}
[aria-sort=ascending]::after{content:" \\25B2"}
[aria-sort=descending]::after{content:" \\25BC"}
.n{text-align:right;font-variant-numeric:tabular-nums}
.pv,.value{font-family:ui-monospace,monospace;font-size:.95em}
.alarm-MINOR{color:#8d6e00;font-weight:600}
.alarm-MAJOR{color:#c62828;font-weight:600}
.alarm-INVALID{color:#6a1b9a;font-weight:600}
.alarm-NO_ALARM{color:#888}
`;

/** The table's columns: sort key, title, width (a CSS grid track), numeric. */
const COLUMNS: readonly (readonly [key: string, title: string, width: string, numeric?: boolean])[] = [
  ['pv', 'PV', 'minmax(12em,2fr)'],
  ['state', 'State', '11em'],
  ['since', 'Since', '5em'],
  ['value', 'Last value', 'minmax(8em,1.3fr)'],
  ['alarm', 'Alarm', '8em'],
  ['lastUpdate', 'Last update', '6.5em'],
  ['server', 'Server', '10em'],
  ['reason', 'Why not forwarding', 'minmax(10em,2fr)'],
  ['topic', 'Topic', 'minmax(6em,1fr)'],
  ['schema', 'Schema', '7em'],
  ['protocol', 'Protocol', '5em'],
  ['updates', 'Updates', '6em', true],
  ['messages', 'Messages', '6em', true],
  ['rejected', 'Rejected', '5.5em', true],
];

const STATE_CHOICES: readonly (readonly [value: string, label: string])[] = [
  ['', 'all streams'],
  ['problem', 'with a problem'],
  ['disconnected', 'disconnected'],
  ['never_connected', 'never connected'],
  ['rejecting', 'rejecting'],
  ['delivery_failing', 'delivery failing'],
  ['ok', 'forwarding'],
];

/** The page, the same for every request. */
export const STATUS_PAGE_HTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Forwarder</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Forwarder <span id="service"></span> <span id="overall" class="badge">loading</span><span id="summary"></span></h1>
<div class="meta"><span id="meta"></span><a href="metrics">metrics</a> · <a href="status.json">status.json</a> · <a href="healthz">healthz</a></div>
<noscript><p>This page needs JavaScript; <a href="status.json">status.json</a> has the same.</p></noscript>
<div id="figures"></div>
<div class="controls">
<input id="filter" type="search" placeholder="Filter: PV, topic, server, reason..." aria-label="Filter streams" autofocus>
<select id="state" aria-label="Streams in state">${STATE_CHOICES.map(([value, label]) => `<option value="${value}">${label}</option>`).join('')}</select>
<span id="shown"></span>
<span id="updated"></span>
</div>
<div id="table" role="table" aria-label="Streams" style="--columns:${COLUMNS.map(([, , width]) => width).join(' ')}">
<div class="row head" role="row">${COLUMNS.map(([key, title, , numeric]) => `<div role="columnheader" data-key="${key}"${numeric ? ' class="n"' : ''}>${title}</div>`).join('')}</div>
<div id="rows" role="rowgroup"></div>
</div>
<p class="meta">Updates every ${REFRESH_MS / 1000} s without reloading; click a column to sort (again: descending, a third time: problems first). The filter and state are kept in the address, to share.</p>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;

/** The page's content security policy: its inline script (by hash) and style, and requests to itself only. */
export const STATUS_PAGE_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; " +
  `script-src 'sha256-${createHash('sha256').update(PAGE_SCRIPT).digest('base64')}'; ` +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
