// The vouch dashboard: a page per view (#/reports, #/ladder, #/images, #/findings, #/log), each
// drawn from the JSON API under /api/. Text from the stores is only ever set as text, never as
// markup. Big tables are paged by the server, so a page holds at most a few hundred rows.
'use strict';

const STATUSES = ['pass', 'fail', 'warn', 'error', 'skip'];
const COLORS = { pass: '#1a7f37', fail: '#cf222e', warn: '#bf8700', error: '#8250df', skip: '#8c959f' };
const SEVERITIES = ['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown'];
const TOKEN_KEY = 'vouch-ui-token';

let overview = null;
let renderSeq = 0;  // a newer navigation makes older responses stale

// ------------------------------------------------------------------ helpers

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k === 'style') e.style.cssText = v;  // CSSOM: the page's CSP refuses style attributes
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function svg(tag, attrs, ...children) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children.flat(Infinity)) if (c) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

// Replaces a node's children; null, undefined and false children are left out (as in el()).
function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter(c => c !== undefined && c !== null && c !== false));
}

function badge(text, cls) { return el('span', { class: 'badge ' + cls, text }); }

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const url = '/api/' + path + (q.toString() ? '?' + q : '');
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = 'Bearer ' + token;
  const res = await fetch(url, { headers });
  let body = null;
  try { body = await res.json(); } catch (_) { body = null; }
  if (!res.ok) throw new ApiError(res.status, (body && body.error) || res.statusText);
  return body;
}

// The route: "#/reports?namespace=shop&result=fail" -> {page: "reports", rest: [], params}.
function route() {
  const h = location.hash.replace(/^#\/?/, '');
  const [path, query] = h.split('?');
  const parts = (path || 'reports').split('/').filter(Boolean);
  return { page: parts[0] || 'reports', rest: parts.slice(1).map(decodeURIComponent), params: new URLSearchParams(query || '') };
}

function link(page, params, text, cls) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  return el('a', { href: '#/' + page + (q.toString() ? '?' + q : ''), class: cls, text });
}

function setParams(page, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const hash = '#/' + page + (q.toString() ? '?' + q : '');
  if (location.hash !== hash) location.hash = hash;
}

function nsLabel(ns) { return ns === '' ? '(cluster)' : ns; }
function nsParam(ns) { return ns === '' ? '-' : ns; }
function fmtTime(t) { return t ? String(t).replace('T', ' ').replace('Z', ' UTC') : ''; }
function fmtUnix(t) { return t ? fmtTime(new Date(t * 1000).toISOString().replace(/\.\d+Z$/, 'Z')) : ''; }
function shortDigest(d) { return d && d.length > 19 ? d.slice(0, 19) + '…' : d; }

function showError(main, e) {
  fill(main, el('h1', { text: 'Something went wrong' }), el('p', { class: 'error', text: e.message }));
}

// First render of the reports table, for whoever measures the page (the browser tests read
// them, in milliseconds since navigation started): window.vouchFirstRender when the first rows
// are in the document and laid out, window.vouchFirstFrame at the animation frame after that
// (when the browser paints them), with performance marks for the steps before.
performance.mark('vouch-script');
function markFirstRender(table) {
  if (window.vouchFirstRender !== undefined) return;
  void table.offsetHeight;  // layout now, so that the mark covers it
  performance.mark('vouch-first-render');
  window.vouchFirstRender = performance.now();
  requestAnimationFrame(() => {
    performance.mark('vouch-first-frame');
    window.vouchFirstFrame = performance.now();
  });
}

// ------------------------------------------------------------------ chart

// Stacked bars per day of pass/fail/warn/error results, drawn as SVG.
function trendChart(buckets) {
  const W = 720, H = 170, left = 40, bottom = 22, top = 8;
  const n = buckets.length || 1;
  const max = Math.max(1, ...buckets.map(b => STATUSES.reduce((s, k) => s + (b[k] || 0), 0)));
  const bw = (W - left - 8) / n;
  const y = v => top + (H - top - bottom) * (1 - v / max);
  const g = svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'results per day' });
  for (const frac of [0, 0.5, 1]) {
    const v = Math.round(max * frac);
    g.append(svg('line', { x1: left, x2: W - 4, y1: y(v), y2: y(v), stroke: '#d0d7de' }));
    g.append(svg('text', { x: left - 4, y: y(v) + 3, 'text-anchor': 'end' }, String(v)));
  }
  buckets.forEach((b, i) => {
    let base = 0;
    const x = left + i * bw + 1;
    for (const s of ['pass', 'warn', 'error', 'fail']) {
      const v = b[s] || 0;
      if (!v) continue;
      const r = svg('rect', { x, y: y(base + v), width: Math.max(1, bw - 2), height: y(base) - y(base + v), fill: COLORS[s] });
      r.append(svg('title', {}, `${b.start.slice(0, 10)}: ${v} ${s}`));
      g.append(r);
      base += v;
    }
    if (i % Math.ceil(n / 8) === 0) g.append(svg('text', { x: x + bw / 2, y: H - 6, 'text-anchor': 'middle' }, b.end.slice(5, 10)));
  });
  const legend = el('div', { class: 'legend' }, ['pass', 'fail', 'warn', 'error'].map(s =>
    el('span', {}, el('i', { style: `background:${COLORS[s]}` }), s)));
  return el('div', { class: 'chart' }, g, legend);
}

// ------------------------------------------------------------------ reports

async function pageReports(main, params, seq) {
  const filters = {
    namespace: params.get('namespace') || '', policy: params.get('policy') || '', rule: params.get('rule') || '',
    result: params.get('result') || '', q: params.get('q') || '', name: params.get('name') || '',
    kind: params.get('kind') || '', sort: params.get('sort') || 'time', order: params.get('order') || '',
    offset: Number(params.get('offset') || 0), limit: Number(params.get('limit') || 50),
  };
  const title = el('h1', { text: 'Policy reports' });
  const cards = el('div', { class: 'cards' });
  const filterBar = el('div', { class: 'filters' });
  const tableBox = el('div', { id: 'results' }, el('p', { class: 'muted', text: 'Loading results…' }));
  const chartBox = el('div', {}, el('p', { class: 'muted', text: 'Loading the trend…' }));
  const matrixBox = el('div', {});
  fill(main, title, cards, filterBar, tableBox, el('h2', { text: 'Results per day (history, last 14 days)' }), chartBox,
    el('h2', { text: 'Latest results by namespace and policy' }), matrixBox);

  // The table first: the summary and the trend are asked for once its rows are drawn, so that
  // they do not compete with it for the server.
  const results = await api('reports/results', { ...filters });
  if (seq !== renderSeq) return;
  performance.mark('vouch-results-received');
  renderResults(tableBox, results, filters);
  markFirstRender(tableBox);
  const summaryP = api('reports/summary', {});
  const trendP = api('reports/trend', { days: 14, namespace: filters.namespace, policy: filters.policy });
  // Both are awaited below; a rejection of the later one must not go unhandled meanwhile.
  trendP.catch(() => {});

  const summary = await summaryP;
  if (seq !== renderSeq) return;
  fill(cards, 
    el('div', { class: 'card' }, el('div', { class: 'muted', text: 'resources' }), el('div', { class: 'n', text: summary.resources })),
    ...STATUSES.filter(s => s !== 'skip').map(s => el('div', { class: 'card' },
      el('div', { class: 'muted', text: s }), el('div', { class: 'n', style: `color:${COLORS[s]}`, text: summary.totals[s] }))));
  renderFilters(filterBar, summary, filters, results.counts);
  renderMatrix(matrixBox, summary);

  const trend = await trendP;
  if (seq !== renderSeq) return;
  fill(chartBox, trendChart(trend.buckets));
}

function renderFilters(bar, summary, f, counts) {
  const go = changes => setParams('reports', { ...f, offset: 0, ...changes });
  const nsSelect = el('select', { id: 'filter-namespace', 'aria-label': 'namespace', onchange: e => go({ namespace: e.target.value }) },
    el('option', { value: '', text: 'all namespaces' }),
    summary.namespaces.map(n => el('option', { value: nsParam(n.namespace), selected: nsParam(n.namespace) === f.namespace, text: nsLabel(n.namespace) })));
  const polSelect = el('select', { id: 'filter-policy', 'aria-label': 'policy', onchange: e => go({ policy: e.target.value, rule: '' }) },
    el('option', { value: '', text: 'all policies' }),
    summary.policies.map(p => el('option', { value: p.policy, selected: p.policy === f.policy, text: p.policy })));
  const selected = new Set(f.result ? f.result.split(',') : []);
  const chips = STATUSES.map(s => el('button', {
    class: 'chip' + (selected.has(s) ? ' on' : ''), 'data-result': s, type: 'button',
    onclick: () => { selected.has(s) ? selected.delete(s) : selected.add(s); go({ result: [...selected].join(',') }); },
  }, `${s} ${counts[s] || 0}`));
  const search = el('input', { type: 'search', id: 'filter-q', placeholder: 'search resource, message, rule…', value: f.q });
  let timer = null;
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => go({ q: search.value }), 300); });
  const extra = [];
  if (f.rule) extra.push(el('span', {}, 'rule ', el('code', { text: f.rule }), ' ', el('button', { type: 'button', onclick: () => go({ rule: '' }), text: '×' })));
  if (f.name) extra.push(el('span', {}, 'resource ', el('code', { text: (f.kind ? f.kind + '/' : '') + f.name }), ' ',
    el('button', { type: 'button', onclick: () => go({ name: '', kind: '' }), text: '×' })));
  fill(bar, nsSelect, polSelect, ...chips, search, ...extra);
}

// What a result carries beside its message: the rule's reportProperties (and verification
// details), and whether its policy is scored (policies.kyverno.io/scored: "false" reports a
// failure as warn).
function resultDetails(r) {
  const props = Object.entries(r.properties || {});
  return [
    r.scored === false ? el('span', { class: 'badge unscored', title: 'policies.kyverno.io/scored: "false": a failure is reported as warn', text: 'not scored' }) : null,
    props.length ? el('dl', { class: 'props' }, props.map(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })])) : null,
  ];
}

function renderResults(box, results, f) {
  const go = changes => setParams('reports', { ...f, ...changes });
  const sortHeader = (key, text) => el('th', {}, el('a', {
    href: '#', class: 'plain', onclick: e => {
      e.preventDefault();
      go({ sort: key, order: f.sort === key && (f.order || (key === 'time' ? 'desc' : 'asc')) === 'asc' ? 'desc' : 'asc', offset: 0 });
    },
  }, text + (f.sort === key ? ((f.order || (key === 'time' ? 'desc' : 'asc')) === 'asc' ? ' ▲' : ' ▼') : '')));
  const rows = results.items.map(r => el('tr', {},
    el('td', {}, badge(r.result, 'r-' + r.result)),
    el('td', {}, link('reports', { ...f, namespace: nsParam(r.namespace), offset: 0 }, nsLabel(r.namespace), 'plain')),
    el('td', {}, link('reports', { namespace: nsParam(r.namespace), kind: r.kind, name: r.name }, `${r.kind}/${r.name}`)),
    el('td', {}, link('reports', { ...f, policy: r.policy, offset: 0 }, r.policy, 'plain')),
    el('td', {}, link('ladder', { policy: r.policy, rule: r.writtenRule }, r.rule)),
    el('td', { class: 'msg' }, r.message, resultDetails(r)),
    el('td', { text: r.action }),
    el('td', { text: fmtTime(r.time) })));
  const table = el('table', { id: 'results-table' },
    el('thead', {}, el('tr', {}, sortHeader('result', 'result'), sortHeader('namespace', 'namespace'), sortHeader('resource', 'resource'),
      sortHeader('policy', 'policy'), el('th', { text: 'rule' }), el('th', { text: 'message' }), el('th', { text: 'action' }), sortHeader('time', 'time'))),
    el('tbody', {}, rows));
  const last = Math.min(results.total, results.offset + results.items.length);
  const pager = el('div', { class: 'pager' },
    el('button', { type: 'button', id: 'prev', disabled: results.offset === 0, onclick: () => go({ offset: Math.max(0, results.offset - results.limit) }), text: '‹ previous' }),
    el('span', { id: 'page-info', text: results.total ? `${results.offset + 1}–${last} of ${results.total}` : 'no results match' }),
    el('button', { type: 'button', id: 'next', disabled: last >= results.total, onclick: () => go({ offset: results.offset + results.limit }), text: 'next ›' }),
    el('select', { 'aria-label': 'rows per page', onchange: e => go({ limit: e.target.value, offset: 0 }) },
      [50, 100, 250, 500].map(n => el('option', { value: n, selected: n === results.limit, text: `${n} per page` }))));
  fill(box, pager, table);
}

function renderMatrix(box, summary) {
  const policies = summary.policies.map(p => p.policy);
  const cell = (counts, ns, policy) => {
    const parts = [];
    for (const s of ['fail', 'error', 'warn', 'pass']) {
      if (!counts[s]) continue;
      parts.push(link('reports', { namespace: nsParam(ns), policy, result: s }, `${counts[s]} ${s}`, 'plain'), ' ');
    }
    return el('td', {}, parts.length ? parts : '—');
  };
  fill(box, el('table', { id: 'matrix' },
    el('thead', {}, el('tr', {}, el('th', { text: 'namespace' }), policies.map(p => el('th', { text: p })))),
    el('tbody', {}, summary.namespaces.map(n => {
      const byPolicy = Object.fromEntries(n.policies.map(p => [p.policy, p.counts]));
      return el('tr', {}, el('td', {}, link('reports', { namespace: nsParam(n.namespace) }, nsLabel(n.namespace))),
        policies.map(p => byPolicy[p] ? cell(byPolicy[p], n.namespace, p) : el('td', { class: 'muted', text: '—' })));
    }))));
}

// ------------------------------------------------------------------ the ladder

async function pageLadder(main, params, seq) {
  const days = params.get('days') || '14';
  const policyFilter = params.get('policy') || '';
  const ruleFilter = params.get('rule') || '';
  const data = await api('ladder', { days, namespace: params.get('namespace') || '' });
  if (seq !== renderSeq) return;
  const daySelect = el('select', { id: 'ladder-days', 'aria-label': 'window', onchange: e => setParams('ladder', { days: e.target.value, policy: policyFilter, rule: ruleFilter }) },
    [7, 14, 21, 28].map(d => el('option', { value: d, selected: String(d) === days, text: `${d} days` })));
  const rules = data.rules.filter(r => (!policyFilter || r.policy === policyFilter) && (!ruleFilter || r.rule === ruleFilter));
  const blocks = rules.map(r => el('section', { class: 'rule', 'data-policy': r.policy, 'data-rule': r.rule },
    el('h3', {}, `${r.policy} / ${r.rule} `, el('span', { class: 'muted', text: `stage: ${r.stage}` })),
    el('p', {}, 'Full enforce: ', badge(r.fullEnforce.verdict, 'v-' + r.fullEnforce.verdict), ' ', el('span', { text: r.fullEnforce.reason })),
    el('table', { class: 'ladder' },
      el('thead', {}, el('tr', {}, ['namespace', 'action', 'days without failures', 'pass', 'fail', 'warn', 'error', 'partial enforce', 'reason']
        .map(h => el('th', { text: h })))),
      el('tbody', {}, r.namespaces.map(n => el('tr', { 'data-namespace': n.namespace, 'data-verdict': n.verdict },
        el('td', {}, link('reports', { namespace: nsParam(n.namespace), policy: r.policy, rule: r.rule }, nsLabel(n.namespace))),
        el('td', { text: n.action }),
        el('td', { class: 'num', text: (n.daysWithoutFailuresAtLeast ? '≥ ' : '') + n.daysWithoutFailures }),
        ['pass', 'fail', 'warn', 'error'].map(s => el('td', { class: 'num', text: n.results[s] })),
        el('td', {}, badge(n.verdict, 'v-' + n.verdict)),
        el('td', {}, n.reason, n.failing.length ? el('details', {}, el('summary', { text: `${n.failing.length} failing resource(s)` }),
          el('ul', {}, n.failing.slice(0, 20).map(fr => el('li', {}, link('reports', { namespace: nsParam(n.namespace), kind: fr.kind, name: fr.name }, `${fr.kind}/${fr.name}`),
            `: ${fr.count} × ${fr.result}, last ${fmtTime(fr.lastSeen)}: ${fr.message}`))),
          n.failing.length > 20 ? link('reports', { namespace: nsParam(n.namespace), policy: r.policy, rule: r.rule, result: 'fail,error' },
            `and ${n.failing.length - 20} more in the reports`) : null) : null)))))));
  const plan = data.plan;
  let planBox;
  if (!plan.available) planBox = el('p', { class: 'muted', text: plan.note });
  else if (plan.error) planBox = el('p', { class: 'error', text: `policies (${plan.source}): ${plan.error}` });
  else {
    planBox = el('div', { id: 'plan' },
      el('p', { class: 'muted', text: `What vouch rollout plan -p ${plan.source} --days ${data.days} would change:` }),
      plan.changes.length ? el('ul', {}, plan.changes.map(c => el('li', { text: 'change: ' + c }))) : el('p', { text: 'Nothing to change: no namespace is GO and still in Audit.' }),
      plan.heldBack.length ? el('ul', {}, plan.heldBack.map(c => el('li', { text: 'held back: ' + c }))) : null,
      plan.yaml ? el('pre', { id: 'plan-yaml', text: plan.yaml }) : null);
  }
  fill(main, 
    el('h1', { text: 'Audit → enforce ladder' }),
    el('div', { class: 'filters' }, 'Window: ', daySelect,
      policyFilter || ruleFilter ? el('span', {}, `showing ${policyFilter} ${ruleFilter} `, link('ladder', { days }, 'show all')) : null,
      el('span', { class: 'muted', text: `${fmtTime(data.since)} → ${fmtTime(data.now)}` })),
    el('p', { class: 'muted', text: 'GO: no fail or error result in the window and reports for the whole window. Full enforce is GO when every namespace is GO or enforcing.' }),
    ...(blocks.length ? blocks : [el('p', { class: 'muted', text: 'No rule has results in the window.' })]),
    el('h2', { text: 'Rollout plan' }), planBox);
}

// ------------------------------------------------------------------ images and findings

function severityCounts(by) {
  return SEVERITIES.filter(s => by[s]).map(s => [badge(`${by[s]} ${s}`, 's-' + s), ' ']);
}

async function pageImages(main, params, seq) {
  const q = params.get('q') || '';
  const data = await api('images', { q, all: params.get('all') || '' });
  if (seq !== renderSeq) return;
  const search = el('input', { type: 'search', id: 'images-q', placeholder: 'repository, tag or digest', value: q });
  let timer = null;
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => setParams('images', { q: search.value }), 300); });
  fill(main, el('h1', { text: 'Images' }), el('div', { class: 'filters' }, search, el('span', { class: 'muted', text: `${data.total} image(s)` })),
    el('table', { id: 'images-table' },
      el('thead', {}, el('tr', {}, ['repository', 'tags', 'digest', 'platform', 'distro', 'packages', 'active findings', 'suppressed', 'closed', 'last seen'].map(h => el('th', { text: h })))),
      el('tbody', {}, data.items.map(i => el('tr', {},
        el('td', {}, link('images/' + encodeURIComponent(i.digest), {}, i.repository)),
        el('td', { text: i.tags.join(', ') }),
        el('td', {}, el('code', { title: i.digest, text: shortDigest(i.digest) })),
        el('td', { text: i.platform }),
        el('td', { text: i.distro || '' }),
        el('td', { class: 'num', text: i.packages }),
        el('td', {}, i.findings.active ? severityCounts(i.findings.activeBySeverity) : '—'),
        el('td', { class: 'num', text: i.findings.suppressed }),
        el('td', { class: 'num', text: i.findings.closed }),
        el('td', { text: fmtTime(i.lastSeen) }))))));
}

function findingsTable(items, id) {
  return el('table', { id },
    el('thead', {}, el('tr', {}, ['vulnerability', 'severity', 'status', 'package', 'fixed in', 'image', 'first seen', 'summary'].map(h => el('th', { text: h })))),
    el('tbody', {}, items.map(f => el('tr', { 'data-status': f.status },
      el('td', {}, el('code', { text: f.vulnerability }), f.aliases.length ? el('div', { class: 'muted', text: f.aliases.join(', ') }) : null),
      el('td', {}, badge(f.severity + (f.score ? ' ' + f.score : ''), 's-' + f.severity)),
      el('td', {}, badge(f.status, 'st-' + f.status), f.new ? [' ', badge('new', 'new')] : null, f.reason ? el('div', { class: 'muted', text: f.reason }) : null),
      el('td', {}, `${f.package.name} ${f.package.version}`),
      el('td', { text: f.fixedVersions.join(', ') }),
      el('td', {}, link('images/' + encodeURIComponent(f.image.digest), {}, f.image.repository)),
      el('td', { text: fmtUnix(f.firstSeen) }),
      el('td', { class: 'msg', text: f.summary })))));
}

async function pageImage(main, digest, params, seq) {
  const data = await api('images/' + digest);
  if (seq !== renderSeq) return;
  const i = data.image;
  const pkgQ = (params.get('pq') || '').toLowerCase();
  const pkgOffset = Number(params.get('po') || 0);
  const PAGE = 100;
  const pkgs = data.packages.filter(p => !pkgQ || p.name.toLowerCase().includes(pkgQ) || (p.purl || '').toLowerCase().includes(pkgQ));
  const pkgSearch = el('input', { type: 'search', id: 'packages-q', placeholder: 'package name or purl', value: params.get('pq') || '' });
  let timer = null;
  pkgSearch.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => setParams('images/' + encodeURIComponent(digest), { pq: pkgSearch.value }), 300); });
  const logBox = !data.log ? el('p', { class: 'muted', text: 'No log configured (--log).' })
    : data.log.error ? el('p', { class: 'error', text: data.log.error })
    : data.log.total === 0 ? el('p', { class: 'muted', text: 'No log entry names this digest.' })
    : logTable(data.log);
  fill(main, 
    el('h1', {}, i.repository, ' ', el('code', { class: 'muted', text: shortDigest(i.digest) })),
    el('table', {}, el('tbody', {},
      [['digest', i.digest], ['tags', i.tags.join(', ')], ['platform', i.platform], ['distro', data.distro ? data.distro.prettyName || `${data.distro.id} ${data.distro.versionId}` : ''],
        ['pushed', fmtTime(i.pushed)], ['first seen', fmtTime(i.firstSeen)], ['last seen', fmtTime(i.lastSeen)], ['active', i.active ? 'yes' : 'no (retention)']]
        .map(([k, v]) => el('tr', {}, el('th', { text: k }), el('td', { text: v || '' }))))),
    el('h2', { text: 'Signatures, attestations, provenance' }),
    i.sbomSource ? el('table', { id: 'sbom-source' }, el('tbody', {},
      [['SBOM from', i.sbomSource.kind], ['predicate type', i.sbomSource.predicateType], ['statement digest', i.sbomSource.digest],
        ['found at', i.sbomSource.location], ['signed by', i.sbomSource.signer], ['note', i.sbomSource.note]]
        .filter(([, v]) => v).map(([k, v]) => el('tr', {}, el('th', { text: k }), el('td', { text: v }))))) : null,
    (i.verifications || []).length ? el('table', { id: 'verifications' },
      el('thead', {}, el('tr', {}, ['check', 'result', 'signed by', 'signed at', 'log entries', 'found at / why not'].map(h => el('th', { text: h })))),
      el('tbody', {}, i.verifications.map(v => el('tr', { 'data-kind': v.kind },
        el('td', {}, v.kind, v.predicateType ? el('div', { class: 'muted', text: v.predicateType }) : null),
        el('td', {}, badge(v.verified ? 'verified' : 'not verified', v.verified ? 'r-pass' : 'r-fail')),
        el('td', { text: v.signer || '' }),
        el('td', { text: v.signedAt ? fmtTime(v.signedAt) : '' }),
        el('td', { text: (v.logIndexes || []).join(', ') }),
        el('td', { class: 'msg', text: v.verified ? (v.location || '') : (v.reason || '') }))))) : null,
    el('p', { class: 'muted', text: data.verification.note }),
    el('h2', { text: 'Log entries for this digest' }), logBox,
    el('h2', { text: `Findings (${data.findings.length})` }), findingsTable(data.findings, 'image-findings'),
    el('h2', { text: `Packages (${data.packages.length})` }), el('div', { class: 'filters' }, pkgSearch),
    el('table', { id: 'packages-table' },
      el('thead', {}, el('tr', {}, ['name', 'version', 'type', 'purl', 'licenses'].map(h => el('th', { text: h })))),
      el('tbody', {}, pkgs.slice(pkgOffset, pkgOffset + PAGE).map(p => el('tr', {},
        el('td', { text: p.name }), el('td', { text: p.version }), el('td', { text: p.type }),
        el('td', {}, el('code', { text: p.purl })), el('td', { text: p.licenses.join(' AND ') }))))),
    pkgs.length > PAGE ? el('div', { class: 'pager' },
      el('button', { type: 'button', disabled: pkgOffset === 0, onclick: () => setParams('images/' + encodeURIComponent(digest), { pq: params.get('pq') || '', po: Math.max(0, pkgOffset - PAGE) }), text: '‹ previous' }),
      `${pkgOffset + 1}–${Math.min(pkgs.length, pkgOffset + PAGE)} of ${pkgs.length}`,
      el('button', { type: 'button', disabled: pkgOffset + PAGE >= pkgs.length, onclick: () => setParams('images/' + encodeURIComponent(digest), { pq: params.get('pq') || '', po: pkgOffset + PAGE }), text: 'next ›' })) : null);
}

async function pageFindings(main, params, seq) {
  const f = { status: params.get('status') || '', severity: params.get('severity') || '', q: params.get('q') || '',
    image: params.get('image') || '', offset: Number(params.get('offset') || 0), limit: 50 };
  const data = await api('findings', f);
  if (seq !== renderSeq) return;
  const go = changes => setParams('findings', { ...f, offset: 0, ...changes });
  const status = el('select', { id: 'findings-status', 'aria-label': 'status', onchange: e => go({ status: e.target.value }) },
    ['', 'active', 'suppressed', 'closed'].map(s => el('option', { value: s, selected: s === f.status, text: s || 'any status' })));
  const severity = el('select', { id: 'findings-severity', 'aria-label': 'severity', onchange: e => go({ severity: e.target.value }) },
    ['', 'critical', 'high', 'medium', 'low'].map(s => el('option', { value: s, selected: s === f.severity, text: s ? s + ' or worse' : 'any severity' })));
  const search = el('input', { type: 'search', id: 'findings-q', placeholder: 'vulnerability, package, repository', value: f.q });
  let timer = null;
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => go({ q: search.value }), 300); });
  const last = Math.min(data.total, f.offset + data.items.length);
  fill(main, el('h1', { text: 'Findings' }),
    el('div', { class: 'filters' }, status, severity, search, f.image ? el('span', {}, 'image ', el('code', { text: shortDigest(f.image) }), ' ', link('findings', { ...f, image: '' }, '×')) : null),
    el('div', { class: 'pager' },
      el('button', { type: 'button', disabled: f.offset === 0, onclick: () => go({ offset: Math.max(0, f.offset - f.limit) }), text: '‹ previous' }),
      el('span', { id: 'findings-info', text: data.total ? `${f.offset + 1}–${last} of ${data.total}` : 'no findings match' }),
      el('button', { type: 'button', disabled: last >= data.total, onclick: () => go({ offset: f.offset + f.limit }), text: 'next ›' })),
    findingsTable(data.items, 'findings-table'));
}

// ------------------------------------------------------------------ the log

function logTable(data) {
  return el('div', {},
    el('table', { id: 'log-entries' },
      el('thead', {}, el('tr', {}, ['index', 'kind', 'integrated', 'identities', 'uuid'].map(h => el('th', { text: h })))),
      el('tbody', {}, data.entries.map(e => el('tr', {},
        el('td', { class: 'num', text: e.logIndex }), el('td', { text: e.kind }), el('td', { text: fmtTime(e.integratedTime) }),
        el('td', { text: e.identities.join(', ') || '(a key)' }), el('td', {}, el('code', { text: e.uuid })))))),
    data.total > data.shown ? el('p', { class: 'muted', text: `${data.shown} of ${data.total} entries shown` }) : null,
    (data.errors || []).map(m => el('p', { class: 'error', text: m })));
}

async function pageLog(main, params, seq) {
  const info = await api('log');
  if (seq !== renderSeq) return;
  const digest = params.get('digest') || '', email = params.get('email') || '';
  const input = el('input', { type: 'search', id: 'log-q', placeholder: 'sha256:<hex> or an email identity', value: digest || email });
  const form = el('form', { class: 'filters', onsubmit: e => {
    e.preventDefault();
    const v = input.value.trim();
    setParams('log', v.startsWith('sha256:') ? { digest: v } : { email: v });
  } }, input, el('button', { type: 'submit', text: 'Search' }));
  const results = el('div', { id: 'log-results' });
  fill(main, el('h1', { text: 'Transparency log' }),
    el('div', { class: 'cards' },
      el('div', { class: 'card' }, el('div', { class: 'muted', text: 'tree size' }), el('div', { class: 'n', id: 'tree-size', text: info.treeSize })),
      el('div', { class: 'card' }, el('div', { class: 'muted', text: 'origin' }), el('div', { text: info.origin })),
      el('div', { class: 'card' }, el('div', { class: 'muted', text: 'root hash' }), el('code', { text: info.rootHash }))),
    el('p', { class: 'muted', text: info.url }),
    el('h2', { text: 'Latest checkpoint' }), el('pre', { id: 'checkpoint', text: info.checkpoint }),
    el('h2', { text: 'Search' }), form, results);
  if (digest || email) {
    try {
      const found = await api('log/search', digest ? { digest } : { email });
      if (seq !== renderSeq) return;
      fill(results, found.total ? logTable(found) : el('p', { class: 'muted', text: 'No entries.' }));
    } catch (e) {
      fill(results, el('p', { class: 'error', text: e.message }));
    }
  }
}

// ------------------------------------------------------------------ navigation

function tokenForm(main) {
  const input = el('input', { type: 'password', id: 'token', placeholder: 'bearer token', autocomplete: 'off' });
  fill(main, el('h1', { text: 'Sign in' }),
    el('p', { text: 'This dashboard needs the bearer token it was started with (--token).' }),
    el('form', { class: 'filters', onsubmit: e => { e.preventDefault(); sessionStorage.setItem(TOKEN_KEY, input.value.trim()); render(); } },
      input, el('button', { type: 'submit', text: 'Continue' })));
}

async function render() {
  const seq = ++renderSeq;
  if (seq === 1) performance.mark('vouch-render-start');
  const main = document.getElementById('main');
  const r = route();
  // The server writes the stores it has into the page, so the first table is asked for at once.
  const stores = new Set((document.body.dataset.stores || '').split(' '));
  const enabled = {
    reports: stores.has('reports'), ladder: stores.has('reports'),
    images: stores.has('inventory'), findings: stores.has('inventory'), log: stores.has('log'),
  };
  let page = r.page;
  if (!enabled[page]) page = Object.keys(enabled).find(k => enabled[k]) || 'none';
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('hidden', !enabled[a.dataset.page]);
    a.classList.toggle('active', a.dataset.page === page);
  }
  try {
    if (page === 'reports') await pageReports(main, r.params, seq);
    else if (page === 'ladder') await pageLadder(main, r.params, seq);
    else if (page === 'images' && r.rest.length) await pageImage(main, r.rest[0], r.params, seq);
    else if (page === 'images') await pageImages(main, r.params, seq);
    else if (page === 'findings') await pageFindings(main, r.params, seq);
    else if (page === 'log') await pageLog(main, r.params, seq);
    else fill(main, el('p', { text: 'Nothing to show.' }));
    if (!overview && seq === renderSeq) {
      overview = await api('overview');
      document.getElementById('status').textContent = overview.reports.configured && overview.reports.results !== undefined
        ? `${overview.reports.results} results in ${overview.reports.namespaces} namespaces` : '';
    }
    if (seq === renderSeq) document.body.dataset.rendered = page + ':' + seq;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { overview = null; tokenForm(main); return; }
    showError(main, e);
    if (seq === renderSeq) document.body.dataset.rendered = 'error:' + seq;
  }
}

window.addEventListener('hashchange', render);
document.addEventListener('DOMContentLoaded', render);
