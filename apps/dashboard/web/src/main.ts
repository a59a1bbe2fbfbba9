import { BAR_INTERVALS, type BarIntervalName, type LatestPrice } from '../../src/api-types.ts';
import { AlertsFeed } from './alerts.ts';
import { api, connectStream, type StreamState } from './api.ts';
import { PriceBoard } from './board.ts';
import { CandleChart } from './chart.ts';
import { formatPct, formatPrice } from './format.ts';
import { HealthBar } from './health.ts';

const BOARD_MINUTES = 60;

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

const board = new PriceBoard(byId('board'), byId('board-empty'), byId('board-count'));
const chart = new CandleChart(byId('chart'), byId('chart-legend'));
const alerts = new AlertsFeed(byId('alerts'), byId('alerts-empty'), byId('alert-count'));
const health = new HealthBar(byId('health'), byId('targets'));
const conn = byId('conn');
const intervalButtons = [...byId('intervals').querySelectorAll<HTMLButtonElement>('button')];
byId('chg-head').textContent = `Chg ${BOARD_MINUTES}m`;

/** Selection lives in the URL hash (#/AAPL/5m) so a reload or a shared link shows the same chart. */
function readHash(): { symbol?: string; interval: BarIntervalName } {
  const [, symbol, interval] = location.hash.split('/');
  const iv = (BAR_INTERVALS as readonly string[]).includes(interval ?? '')
    ? (interval as BarIntervalName)
    : '1m';
  return symbol ? { symbol: decodeURIComponent(symbol), interval: iv } : { interval: iv };
}

function renderTitle(): void {
  const symbol = chart.symbol;
  byId('chart-symbol').textContent = symbol || '—';
  const p = board.price(symbol);
  const priceEl = byId('chart-price');
  const changeEl = byId('chart-change');
  if (!p || p.price <= 0) {
    priceEl.textContent = '';
    changeEl.textContent = '';
    return;
  }
  priceEl.textContent = formatPrice(p.price);
  const pct = p.ref !== null && p.ref > 0 ? (p.price / p.ref - 1) * 100 : null;
  changeEl.textContent = pct === null ? '' : `${formatPct(pct)} · ${BOARD_MINUTES}m`;
  changeEl.className = `chart-change ${pct === null ? '' : pct >= 0 ? 'up' : 'down'}`;
}

function select(symbol: string, interval: BarIntervalName = chart.interval): void {
  if (symbol === chart.symbol && interval === chart.interval) return;
  board.select(symbol);
  for (const b of intervalButtons) b.classList.toggle('active', b.dataset.interval === interval);
  history.replaceState(null, '', `#/${encodeURIComponent(symbol)}/${interval}`);
  document.title = `${symbol} · Tickflow`;
  void chart.load(symbol, interval).then(renderTitle, (err: Error) => status(`chart: ${err.message}`));
  renderTitle();
}

function status(text: string): void {
  byId('footer-status').textContent = text;
}

function setState(state: StreamState): void {
  document.body.dataset.stream = state;
  conn.dataset.state = state;
  const label = conn.querySelector('.label');
  if (label) label.textContent = state === 'live' ? 'live' : state;
}

board.onSelect((s) => select(s));
alerts.onSelect((s) => select(s));
for (const b of intervalButtons) {
  b.addEventListener('click', () => {
    if (chart.symbol) select(chart.symbol, b.dataset.interval as BarIntervalName);
  });
}
document.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement || e.metaKey || e.ctrlKey || e.altKey) return;
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    const next = board.step(e.key === 'ArrowDown' ? 1 : -1);
    if (next) {
      e.preventDefault();
      select(next);
    }
  }
});
window.addEventListener('hashchange', () => {
  const h = readHash();
  if (h.symbol) select(h.symbol, h.interval);
});

let boardRefresh: number | undefined;

function onPrices(prices: LatestPrice[]): void {
  const known = board.symbols.length;
  board.onPrices(prices);
  // A symbol the board has not seen: fetch its sparkline and reference price soon (debounced).
  if (board.symbols.length > known && boardRefresh === undefined) {
    boardRefresh = window.setTimeout(() => {
      boardRefresh = undefined;
      void refreshBoard();
    }, 500);
  }
  chart.onPrices(prices);
  for (const p of prices) health.seen(p.event_time_us);
  if (!chart.symbol && board.symbols.length > 0)
    select(readHash().symbol ?? (board.symbols[0] as string), readHash().interval);
  if (prices.some((p) => p.symbol === chart.symbol)) renderTitle();
}

async function refreshBoard(): Promise<void> {
  try {
    board.setBoard(await api.board(BOARD_MINUTES));
    renderTitle();
  } catch (err) {
    status(`board: ${(err as Error).message}`);
  }
}

async function refreshAlerts(): Promise<void> {
  try {
    alerts.add((await api.alerts(50)).alerts, false);
  } catch (err) {
    status(`alerts: ${(err as Error).message}`);
  }
}

async function start(): Promise<void> {
  setState('connecting');
  const initial = readHash();
  for (const b of intervalButtons) b.classList.toggle('active', b.dataset.interval === initial.interval);
  await Promise.all([
    refreshBoard(),
    refreshAlerts(),
    api.pipeline().then(
      (h) => health.update(h),
      () => undefined,
    ),
  ]);
  const first = initial.symbol ?? board.symbols[0];
  if (first) select(first, initial.interval);
  connectStream({
    prices: onPrices,
    alert: (a) => alerts.add([a], true),
    health: (h) => health.update(h),
    state: setState,
    reconnected: () => {
      void refreshAlerts();
      void chart.reconcile();
    },
  });
  // Sparklines and changes come from the database: refresh them now and then; the live price moves the tip.
  window.setInterval(() => void refreshBoard(), 60_000);
}

void start();
