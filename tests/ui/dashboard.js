// Drives Debian's chromium (headless, through puppeteer-core) against a running `vouch ui serve`
// and checks what a user sees: every page renders with no console error, no JavaScript error and
// no failed request; a filter changes the reports table; the ladder shows the GO and NO-GO
// namespaces it should; images, findings and the log are listed; the reports page renders its
// first rows within the budget with the store's 10,000+ results. Screenshots of each page go to
// OUT_DIR. Prints one line per check and exits 1 if any failed.
//   NODE_PATH=… node dashboard.js BASE_URL OUT_DIR EXPECT.json
// EXPECT: {"results": N, "go": [[rule, ns]…], "nogo": [[rule, ns]…], "planNamespaces": [...],
//          "logDigest": "sha256:…", "treeSize": N, "firstRenderBudgetMs": 200}
'use strict';
const fs = require('fs');
const path = require('path');
const puppeteer = require('puppeteer-core');

const [base, outDir, expectFile] = process.argv.slice(2);
const expect = JSON.parse(fs.readFileSync(expectFile, 'utf8'));
fs.mkdirSync(outDir, { recursive: true });

let failures = 0;
function check(ok, what, detail) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail !== undefined ? ': ' + detail : ''}`);
  if (!ok) failures++;
}

const problems = [];  // console errors, page errors, failed requests: each one fails the run
function watch(page) {
  page.on('console', m => { if (m.type() === 'error' || m.type() === 'assert') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', e => problems.push('page error: ' + (e && e.message ? e.message : e)));
  page.on('requestfailed', r => problems.push(`request failed: ${r.url()} ${r.failure() ? r.failure().errorText : ''}`));
  page.on('response', r => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
}

// Goes to a page of the application (a hash route) and waits until it has rendered.
async function visit(page, hash) {
  const before = await page.evaluate(() => document.body.dataset.rendered || '');
  await page.evaluate(h => { location.hash = h; }, hash);
  await page.waitForFunction(b => {
    const r = document.body.dataset.rendered || '';
    return r && r !== b;
  }, { timeout: 15000 }, before);
  const rendered = await page.evaluate(() => document.body.dataset.rendered);
  check(!rendered.startsWith('error:'), `${hash} rendered`, rendered.startsWith('error:') ? await page.$eval('main', m => m.textContent) : undefined);
  await noStrayText(page, hash);
}

// A value the page forgot to format shows up as text: "null", "undefined", "[object …]", "NaN".
async function noStrayText(page, where) {
  const stray = await page.$eval('main', m => (m.innerText.match(/\b(null|undefined|NaN)\b|\[object [A-Za-z]+\]/g) || []).join(','));
  check(stray === '', `${where}: no unformatted value shown`, stray);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(outDir, name + '.png'), fullPage: true });
}

const texts = (page, sel) => page.$$eval(sel, els => els.map(e => e.textContent.trim()));

(async () => {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // No sandbox when running as root (CI containers): chromium refuses to start otherwise.
    args: ['--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', ...(process.getuid() === 0 ? ['--no-sandbox'] : [])],
  });
  try {
    // ---- first render with the whole store, on fresh page loads (each reads the store again:
    // the dashboard keeps the results for 2 s).
    const times = [];
    for (let i = 0; i < 4; i++) {
      const p = await browser.newPage();
      watch(p);
      await p.setViewport({ width: 1400, height: 900 });
      await p.goto(base + '/#/reports', { waitUntil: 'load' });
      await p.waitForFunction(() => window.vouchFirstFrame !== undefined, { timeout: 15000 });
      const t = await p.evaluate(() => {
        const mark = n => (performance.getEntriesByName(n)[0] || { startTime: NaN }).startTime;
        const nav = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource').find(e => e.name.includes('/api/reports/results'));
        return { render: window.vouchFirstRender, frame: window.vouchFirstFrame, html: nav.responseEnd, script: mark('vouch-script'),
          start: mark('vouch-render-start'), api: res ? res.responseEnd - res.startTime : NaN, received: mark('vouch-results-received') };
      });
      console.log(`load ${i + 1}: html ${t.html.toFixed(0)}, script ${t.script.toFixed(0)}, render() ${t.start.toFixed(0)}, ` +
        `results in ${t.api.toFixed(0)} ms at ${t.received.toFixed(0)}, rows laid out ${t.render.toFixed(0)}, next frame ${t.frame.toFixed(0)} (ms)`);
      // The renderer's own work until then (CPU time as Chrome counts it, whatever else the
      // machine runs): the part of the wall-clock time the page is responsible for.
      const m = await p.metrics();
      console.log(`        renderer work: tasks ${(m.TaskDuration * 1000).toFixed(0)} ms (script ${(m.ScriptDuration * 1000).toFixed(0)}, ` +
        `style ${(m.RecalcStyleDuration * 1000).toFixed(0)}, layout ${(m.LayoutDuration * 1000).toFixed(0)})`);
      times.push(t.render);
      await p.close();
      await new Promise(r => setTimeout(r, 2200));
    }
    // The first load also starts the browser's own machinery (a new renderer, the disk cache);
    // the budget is for the loads after it.
    const measured = times.slice(1);
    console.log(`first render (ms, navigation start to the first rows in the document, laid out): ${times.map(t => t.toFixed(1)).join(', ')}`);
    console.log(`first render, worst of loads 2-4: ${Math.max(...measured).toFixed(1)} ms with ${expect.results} results`);
    // A time is a benchmark's to judge (bench/ui_render.sh sets the budget), not the suite's.
    if (expect.firstRenderBudgetMs != null)
      check(Math.max(...measured) < expect.firstRenderBudgetMs, `first render under ${expect.firstRenderBudgetMs} ms with ${expect.results} results`,
        `worst of loads 2-4: ${Math.max(...measured).toFixed(1)} ms`);

    const page = await browser.newPage();
    watch(page);
    await page.setViewport({ width: 1400, height: 900 });
    await page.goto(base + '/', { waitUntil: 'load' });
    await page.waitForFunction(() => (document.body.dataset.rendered || '').startsWith('reports:'), { timeout: 15000 });

    // ---- reports and a filter
    await noStrayText(page, '#/reports');
    const info = await page.$eval('#page-info', e => e.textContent);
    check(info === `1–50 of ${expect.results}`, 'the table pages all results', info);
    check((await page.$$('#results-table tbody tr')).length === 50, 'the first page shows 50 rows');
    await page.waitForSelector('#matrix tbody tr');
    await page.waitForSelector('.chart svg rect');
    await shot(page, 'reports');

    await Promise.all([
      page.waitForFunction(() => (document.querySelector('#page-info') || {}).textContent === '1–2 of 2', { timeout: 15000 }),
      page.select('#filter-namespace', 'dev'),
    ]);
    const nsCells = await texts(page, '#results-table tbody tr td:nth-child(2)');
    check(nsCells.length === 2 && nsCells.every(t => t === 'dev'), 'the namespace filter changes the table', nsCells.join(','));
    // The rule's reportProperties are shown with its result, and only with its result.
    const props = await page.$$eval('#results-table tbody tr', trs => trs.map(tr =>
      tr.querySelector('td:nth-child(5)').textContent + '=' + [...tr.querySelectorAll('dl.props dt, dl.props dd')].map(e => e.textContent).join(':')));
    check(props.includes('require-app-label=category:labels') && props.includes('no-latest-tag='),
      'a result shows its rule\'s reportProperties', props.join(','));
    await page.waitForSelector('button.chip[data-result="fail"]');
    await Promise.all([
      page.waitForFunction(() => (document.querySelector('#page-info') || {}).textContent === '1–1 of 1', { timeout: 15000 }),
      page.click('button.chip[data-result="fail"]'),
    ]);
    const failRow = await texts(page, '#results-table tbody tr td');
    check(failRow[0] === 'fail' && failRow[2] === 'Pod/tool', 'the result filter leaves dev\'s failing Pod', failRow.slice(0, 5).join(' | '));
    await shot(page, 'reports-filtered');
    await visit(page, '#/reports?namespace=load&q=load-00042');
    const searched = await texts(page, '#results-table tbody tr td:nth-child(3)');
    check(searched.length === 2 && searched.every(t => t === 'Pod/load-00042'), 'the search finds one Pod\'s two results', searched.join(','));

    // ---- the ladder
    await visit(page, '#/ladder');
    await page.waitForSelector('section.rule');
    const verdict = (rule, ns) => page.$eval(`section.rule[data-rule="${rule}"] tr[data-namespace="${ns}"]`, tr => tr.dataset.verdict + ' ' + tr.querySelector('.badge').textContent).catch(() => 'missing');
    for (const [rule, ns] of expect.go) {
      const v = await verdict(rule, ns);
      check(v === 'GO GO', `ladder: ${rule} in ${ns} is GO`, v);
    }
    for (const [rule, ns] of expect.nogo) {
      const v = await verdict(rule, ns);
      check(v === 'NO-GO NO-GO', `ladder: ${rule} in ${ns} is NO-GO`, v);
    }
    const yaml = await page.$eval('#plan-yaml', e => e.textContent).catch(() => '');
    check(yaml.includes('failureActionOverrides') && expect.planNamespaces.every(n => yaml.includes(n)),
      'the ladder shows the change vouch rollout plan makes', yaml.split('\n').slice(0, 3).join(' '));
    await shot(page, 'ladder');

    // ---- images, one image, findings
    await visit(page, '#/images');
    const images = await page.$$('#images-table tbody tr');
    check(images.length === expect.images, `images: ${expect.images} listed`, images.length);
    await shot(page, 'images');
    await visit(page, '#/images/' + encodeURIComponent(expect.imageDigest));
    const pkgs = (await page.$$('#packages-table tbody tr')).length;
    const imageFindings = await texts(page, '#image-findings tbody tr td:nth-child(3) .badge:first-child');
    check(pkgs === expect.packages, `the image lists its ${expect.packages} packages`, pkgs);
    check(imageFindings.includes('ACTIVE') && imageFindings.includes('SUPPRESSED'), 'the image lists active and suppressed findings', [...new Set(imageFindings)].join(','));
    const checks = await page.$$eval('#verifications tbody tr', trs => trs.map(tr =>
      tr.dataset.kind + ':' + tr.querySelector('td:nth-child(2)').textContent + ':' + tr.querySelector('td:nth-child(5)').textContent));
    check(checks.join(',') === 'signature:verified:41,provenance:not verified:', 'the image shows what vouch verified of it', checks.join(','));
    await shot(page, 'image');
    await visit(page, '#/findings');
    const total = await page.$eval('#findings-info', e => e.textContent);
    await Promise.all([
      page.waitForFunction(t => (document.querySelector('#findings-info') || {}).textContent !== t, { timeout: 15000 }, total),
      page.select('#findings-status', 'suppressed'),
    ]);
    const statuses = await page.$$eval('#findings-table tbody tr', trs => trs.map(t => t.dataset.status));
    check(statuses.length > 0 && statuses.every(s => s === 'SUPPRESSED'), 'the status filter shows suppressed findings only', statuses.join(','));
    await shot(page, 'findings');

    // ---- the log
    await visit(page, '#/log');
    const size = await page.$eval('#tree-size', e => e.textContent);
    check(size === String(expect.treeSize), 'the log shows its tree size', size);
    const checkpoint = await page.$eval('#checkpoint', e => e.textContent);
    check(checkpoint.split('\n')[1] === String(expect.treeSize), 'the log shows its latest checkpoint', checkpoint.split('\n').slice(0, 2).join(' / '));
    await visit(page, '#/log?digest=' + expect.logDigest);
    await page.waitForSelector('#log-entries tbody tr', { timeout: 15000 });
    const found = (await page.$$('#log-entries tbody tr')).length;
    check(found === 1, 'a search by artifact digest finds its entry', found);
    await shot(page, 'log');
  } finally {
    await browser.close();
  }
  check(problems.length === 0, 'no console error, JavaScript error or failed request', problems.slice(0, 5).join(' ; '));
  console.log(failures ? `${failures} check(s) failed` : 'all browser checks passed');
  process.exit(failures ? 1 : 0);
})().catch(e => { console.error('FAIL dashboard.js: ' + (e && e.stack ? e.stack : e)); process.exit(1); });
