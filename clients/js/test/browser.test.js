// The module in headless Chromium (Debian's chromium driven by
// playwright-core), against the real notifyd: the page is served from
// another origin than notifyd's, as an application's would be.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { env, liveSkip, mint, publish, unique } from './helpers.js';

function chromiumPath() {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch { /* next */ }
  }
  throw new Error('no chromium on PATH: apt-get install chromium (or set CHROMIUM_PATH)');
}

async function playwright() {
  try {
    return await import('playwright-core');
  } catch {
    throw new Error('playwright-core is not installed: run `npm ci` in clients/js');
  }
}

test('in Chromium: connects from a page, shows a published notification as text, reads the count over CORS', { skip: liveSkip || (!env.pageOrigin && 'NOTIFYD_TEST_PAGE_ORIGIN is not set') }, async (t) => {
  const { chromium } = await playwright();
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // No background traffic: the machines this runs on reach no outside host.
    args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  const bob = unique();
  const q = new URLSearchParams({ url: env.url, token: mint(bob) });
  await page.goto(`${env.pageOrigin}/test/browser.html?${q}`);
  await page.waitForSelector('body[data-state="open"]', { state: 'attached', timeout: 15000 });

  // The site of a browser's connection is its page's origin.
  const title = 'Review <img src=x onerror="window.pwned=1"> requested';
  const sent = await publish(bob, { title, host: env.pageOrigin });
  const li = await page.waitForSelector(`li[data-id="${sent.id}"]`, { state: 'attached', timeout: 15000 });
  assert.equal(await li.textContent(), title);
  assert.equal(await page.locator('#list img').count(), 0, 'the title stayed text');
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  await page.waitForSelector('body[data-unread="1"]', { state: 'attached', timeout: 15000 });

  const count = await page.evaluate(() => window.notifyd.count());
  assert.deepEqual(count, { unread: 1, unseen: 1 });
  await page.evaluate(() => window.notifyd.close());
  assert.deepEqual(errors, []);
});
