// Opens a `crucible report` page in Debian's headless Chromium, as a reader
// would: from its file, with every request off the file system refused
// (and recorded: the page must load nothing). Takes screenshots, clicks a
// heatmap cell, opens the first transcript it lists, and prints what it saw
// as one JSON object for the Rust test to judge.
//
//   node report.mjs REPORT.html OUT_DIR [SPEC_JSON]
//
// SPEC_JSON (optional): {"cell": {"model", "scenario", "goal_type",
// "urgency"}, "hostile_sample": ID}: the heatmap cell to click (the first
// one otherwise) and a sample whose transcript carries markup to open.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CRUCIBLE_CHROMIUM || '/usr/bin/chromium';

const [reportPath, outDir, specText] = process.argv.slice(2);
if (!reportPath || !outDir) {
  console.error('usage: node report.mjs REPORT.html OUT_DIR [SPEC_JSON]');
  process.exit(2);
}
const spec = specText ? JSON.parse(specText) : {};

// This machine has no network: without these Chromium waits on
// connections it will never get.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const profile = mkdtempSync(join(tmpdir(), 'crucible-chromium-'));
const result = {
  blocked_requests: [],
  console_errors: [],
  page_errors: [],
  dialogs: [],
  screenshots: {},
};

const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: ARGS,
  viewport: { width: 1400, height: 1000 },
  deviceScaleFactor: 1,
});
try {
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    result.blocked_requests.push(url);
    return route.abort();
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(30000);
  page.on('console', (message) => {
    if (message.type() === 'error') result.console_errors.push(message.text());
  });
  page.on('pageerror', (error) => result.page_errors.push(String(error)));
  page.on('dialog', async (dialog) => {
    result.dialogs.push(dialog.message());
    await dialog.dismiss();
  });

  await page.goto(pathToFileURL(resolve(reportPath)).href, { waitUntil: 'load' });
  result.title = await page.title();
  result.match_count = (await page.textContent('#match-count')) || '';
  result.heatmap_cells = await page.locator('.hm-cell').count();
  result.charts = await page.locator('figure.chart svg').count();
  result.banner = (await page.locator('.banner[role=status]').count()) > 0
    ? await page.textContent('.banner[role=status]')
    : null;

  result.screenshots.full = join(outDir, 'report-full.png');
  await page.screenshot({ path: result.screenshots.full, fullPage: true });
  if (result.heatmap_cells > 0) {
    result.screenshots.matrix = join(outDir, 'matrix.png');
    await page.locator('#matrix').screenshot({ path: result.screenshots.matrix });
  }

  // A heatmap cell: the one asked for, or the first.
  if (result.heatmap_cells > 0) {
    const cells = page.locator('.hm-cell');
    let cell = cells.first();
    if (spec.cell) {
      const c = spec.cell;
      cell = page.locator(
        `.hm-cell[data-model="${c.model}"][data-scenario="${c.scenario}"]` +
          `[data-goal-type="${c.goal_type}"][data-urgency="${c.urgency}"]`,
      );
    }
    const clicked = await cell.evaluate((b) => ({
      model: b.dataset.model,
      scenario: b.dataset.scenario,
      goal_type: b.dataset.goalType,
      urgency: b.dataset.urgency,
      counts: b.querySelector('.hm-n').textContent,
    }));
    await cell.click();
    await page.waitForSelector('#sample-view .sample-head');
    result.cell = clicked;
    result.listed = await page.$$eval('#sample-list .sample-item', (items) =>
      items.map((b) => ({
        id: Number(b.dataset.id),
        model: b.dataset.model,
        scenario: b.dataset.scenario,
        goal_type: b.dataset.goalType,
        urgency: b.dataset.urgency,
        verdict: b.dataset.verdict,
      })),
    );
    result.only_cell =
      result.listed.length > 0 &&
      result.listed.every(
        (s) =>
          s.model === clicked.model &&
          s.scenario === clicked.scenario &&
          s.goal_type === clicked.goal_type &&
          s.urgency === clicked.urgency,
      );
    result.filters = await page.$$eval('select[data-filter]', (selects) =>
      Object.fromEntries(selects.map((s) => [s.dataset.filter, s.value])),
    );

    // Open the first listed sample as a reader would.
    await page.locator('#sample-list .sample-item').first().click();
    await page.waitForSelector('#sample-view .msg');
    result.opened = await page.evaluate(() => {
      const view = document.getElementById('sample-view');
      const all = (selector) => Array.from(view.querySelectorAll(selector));
      return {
        heading: view.querySelector('.sample-head h3').textContent,
        tool_calls: all('.tool-call').map((t) => t.dataset.tool),
        tool_call_text: all('.tool-call').map((t) => t.textContent),
        judge_replies: all('.judge-reply pre').map((p) => p.textContent),
        judge_heads: all('.judge-call-head').map((p) => p.textContent),
        served: all('.msg-assistant .served').map((p) => p.textContent),
        verdicts: all('.verdict').map((v) => v.dataset.classifier),
        actions: all('.action').length,
      };
    });
    result.url_hash = await page.evaluate(() => location.hash);
    result.screenshots.transcript = join(outDir, 'transcript.png');
    await page.locator('#transcripts').screenshot({ path: result.screenshots.transcript });
  }

  // A sample whose transcript carries markup: it must read as text.
  if (spec.hostile_sample !== undefined) {
    await page.goto(
      pathToFileURL(resolve(reportPath)).href + '#sample-' + spec.hostile_sample,
      { waitUntil: 'load' },
    );
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('#sample-view .msg');
    result.hostile = await page.evaluate(() => {
      const view = document.getElementById('sample-view');
      return {
        text: view.textContent,
        script_elements: view.querySelectorAll('script').length,
        img_elements: view.querySelectorAll('img').length,
        pwned: Boolean(window.__pwned),
      };
    });
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

process.stdout.write(JSON.stringify(result) + '\n');
