// The page in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) with the pipeline
// running: a backfill and a live synthetic producer feed `tickflow aggregate`; the dashboard serves the
// page; we check the board fills, the chart's last candle moves, and an alert injected through the
// pipeline shows up in the feed. Then a screenshot is saved (and copied to docs/ with UPDATE_SCREENSHOTS=1).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@tickflow/stack';
import type { Logger } from '@tickflow/telemetry';
import pg from 'pg';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningCli, runCli, startCli, waitFor } from '../../../test/support/cli.ts';
import { type IsolatedPipeline, isolatedPipeline } from '../../../test/support/isolation.ts';
import { type DashboardHandle, startDashboard } from '../src/app.ts';
import { loadDashboardConfig } from '../src/config.ts';
import { alertTrades, backfill, writeReplay } from './support/market.ts';

const stack = inject('stack');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const APP = fileURLToPath(new URL('..', import.meta.url));
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const SCREENSHOT = join(APP, 'test-results', 'dashboard.png');
const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
const ALERT_SYMBOL = 'COIN';

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {}, child: () => quiet };

// A missing browser fails the test (it is part of the suite); TICKFLOW_SKIP_BROWSER=1 skips it knowingly.
describe.skipIf(process.env.TICKFLOW_SKIP_BROWSER === '1')(
  'dashboard page in headless Chromium with the pipeline running',
  () => {
    let p: IsolatedPipeline;
    let aggregator: RunningCli | undefined;
    let producer: RunningCli | undefined;
    let dash: DashboardHandle | undefined;
    let browser: Browser | undefined;
    let page: Page;
    const pageErrors: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'tickflow-dashboard-browser-'));

    beforeAll(async () => {
      if (!existsSync(CHROMIUM)) {
        throw new Error(
          `no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium; scripts/bootstrap.sh does), ` +
            'set CHROMIUM_PATH, or skip this test with TICKFLOW_SKIP_BROWSER=1',
        );
      }
      // Build the page in a child process (keeps Vite out of the test worker); a no-op when current.
      execFileSync(process.execPath, [join(APP, 'scripts', 'build-web.ts'), '--if-stale'], {
        stdio: 'inherit',
      });

      p = await isolatedPipeline(stack);
      // 90 minutes of history ending now, so the board, sparklines and chart have something to show.
      const history = backfill(SYMBOLS, Date.now() * 1000 - 2_000_000, 90, 1);
      const file = writeReplay(dir, 'backfill.jsonl', history);
      const produced = await runCli(['produce', '--source', 'replay', '--file', file], p.env);
      expect(produced.code, produced.output).toBe(0);

      const metricsPort = await freePort();
      aggregator = startCli(['aggregate'], { ...p.env, METRICS_PORT: String(metricsPort) });
      const db = new pg.Client({ connectionString: p.databaseUrl });
      try {
        await waitFor('the aggregator to migrate', async () => {
          try {
            await db.connect();
            return true;
          } catch {
            return false;
          }
        });
        await waitFor('the backfill stored', async () => {
          const r = await db
            .query('SELECT count(*)::int AS n FROM trades')
            .catch(() => ({ rows: [{ n: -1 }] }));
          return r.rows[0].n === history.length;
        });
      } finally {
        await db.end();
      }
      // The live feed: the synthetic producer continues each symbol from where the backfill ends.
      producer = startCli(['produce', '--rate', '40', '--symbols', SYMBOLS.join(',')], p.env);

      const cfg = loadDashboardConfig(['--port', '0', '--host', '127.0.0.1', '--web-build', 'never'], {
        ...p.env,
        METRICS_URLS: `http://127.0.0.1:${metricsPort}/metrics`,
        METRICS_SCRAPE_INTERVAL: '1s',
      });
      dash = await startDashboard(cfg, quiet);

      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      page.on('pageerror', (e) => pageErrors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') pageErrors.push(m.text());
      });
    });

    afterAll(async () => {
      rmSync(dir, { recursive: true, force: true });
      await browser?.close();
      await dash?.close();
      for (const child of [producer, aggregator]) {
        if (child && child.child.exitCode === null) {
          child.child.kill('SIGTERM');
          await child.exited;
        }
      }
      await p?.drop();
    });

    it('fills the board, extends the chart live and shows an alert injected through the pipeline', async () => {
      const url = dash?.url as string;
      await page.goto(url);

      // The board lists every symbol with a price and a sparkline. (Only locators here: the test's
      // TypeScript has no DOM types.)
      const rows = page.locator('#board tbody tr');
      await rows.nth(SYMBOLS.length - 1).waitFor({ timeout: 30_000 });
      const symbols: string[] = [];
      for (const row of await rows.all()) {
        symbols.push((await row.getAttribute('data-symbol')) as string);
        expect(await row.locator('.last').textContent()).toMatch(/^[\d,]+\.\d+$/);
      }
      expect(symbols).toEqual([...SYMBOLS].sort());
      await page.locator('body[data-stream="live"]').waitFor({ timeout: 20_000 });

      // The chart shows the selected symbol's history, and its last candle follows the live trades.
      const chart = page.locator('#chart');
      const first = await waitFor(
        'the chart history',
        async () =>
          Number(await chart.getAttribute('data-candles')) > 30 &&
          (await chart.getAttribute('data-last-candle')),
        30_000,
      );
      const later = await waitFor(
        'the last candle to move',
        async () => {
          const now = await chart.getAttribute('data-last-candle');
          return now !== first && now;
        },
        30_000,
      );
      const a = JSON.parse(first as string) as { t: number; c: number };
      const b = JSON.parse(later as string) as { t: number; c: number };
      expect(b.t).toBeGreaterThanOrEqual(a.t);
      expect(await page.locator('#chart-symbol').textContent()).toBe('AAPL');

      // An alert goes through Kafka, the aggregator and Redis pub/sub to the page.
      const injected = alertTrades(ALERT_SYMBOL, Date.now() * 1000);
      const file = writeReplay(dir, 'alert.jsonl', injected.trades);
      const produced = await runCli(['produce', '--source', 'replay', '--file', file], p.env);
      expect(produced.code, produced.output).toBe(0);
      const item = page.locator(`#alerts li[data-symbol="${ALERT_SYMBOL}"]`);
      await item.waitFor({ timeout: 60_000 });
      expect(await item.locator('.chg').textContent()).toContain('+1.20%');
      expect(await item.getAttribute('class')).toContain('alert-up');
      // Its board row appears too, with the change against the open of its first bar once the board refreshes.
      const coin = page.locator(`#board tbody tr[data-symbol="${ALERT_SYMBOL}"] .change`);
      await waitFor(
        'the new symbol on the board with its change',
        async () => (await coin.textContent())?.startsWith('+1.2'),
        20_000,
      );

      // The health bar reads the aggregator's metrics.
      const throughput = page.locator('.stat[data-key="throughput"] dd');
      await waitFor(
        'the throughput from /metrics',
        async () => /\/s$/.test((await throughput.textContent()) ?? ''),
        20_000,
      );
      expect(await page.locator('#targets').textContent()).toContain('aggregator');

      // Let the fresh-alert highlight settle and the sparklines draw, then take the picture.
      await page.waitForTimeout(2500);
      mkdirSync(join(APP, 'test-results'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });
      if (process.env.UPDATE_SCREENSHOTS === '1') {
        mkdirSync(join(REPO, 'docs'), { recursive: true });
        copyFileSync(SCREENSHOT, join(REPO, 'docs', 'dashboard.png'));
      }
      expect(pageErrors).toEqual([]);
    });
  },
);
