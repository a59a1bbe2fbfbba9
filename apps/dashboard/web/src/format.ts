const fixed = new Map<number, Intl.NumberFormat>();

function nf(decimals: number): Intl.NumberFormat {
  let f = fixed.get(decimals);
  if (f === undefined) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    fixed.set(decimals, f);
  }
  return f;
}

/** Decimals that show a price's ticks without noise: 2 for most, more for sub-dollar prices. */
export function priceDecimals(price: number): number {
  if (price >= 1) return 2;
  if (price >= 0.01) return 4;
  return 6;
}

export function formatPrice(price: number, decimals = priceDecimals(price)): string {
  return nf(decimals).format(price);
}

export function formatPct(pct: number | null): string {
  if (pct === null || !Number.isFinite(pct)) return '—';
  const sign = pct > 0 ? '+' : pct < 0 ? '−' : '';
  return `${sign}${nf(2).format(Math.abs(pct))}%`;
}

/** 950, 12.3k, 4.56M. */
export function formatCount(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${nf(2).format(n / 1e9)}B`;
  if (abs >= 1e6) return `${nf(2).format(n / 1e6)}M`;
  if (abs >= 1e4) return `${nf(1).format(n / 1e3)}k`;
  if (abs >= 100) return nf(0).format(n);
  return nf(abs >= 10 ? 1 : 2).format(n);
}

export function formatVolume(v: number): string {
  return v >= 1000 ? formatCount(v) : nf(v >= 100 ? 0 : v >= 1 ? 2 : 4).format(v);
}

export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  if (ms >= 10_000) return `${nf(1).format(ms / 1000)} s`;
  if (ms >= 100) return `${nf(0).format(ms)} ms`;
  return `${nf(ms >= 10 ? 1 : 2).format(ms)} ms`;
}

const clock = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});
const clockShort = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const dayTime = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});

export function formatClock(us: number): string {
  return clock.format(new Date(us / 1000));
}

export function formatClockShort(us: number): string {
  return clockShort.format(new Date(us / 1000));
}

export function formatDay(us: number): string {
  return dayFmt.format(new Date(us / 1000));
}

export function formatDayTime(us: number): string {
  return dayTime.format(new Date(us / 1000));
}

/** "just now", "12 s ago", "5 min ago", "3 h ago". */
export function formatAgo(ms: number): string {
  if (ms < 2000) return 'just now';
  if (ms < 60_000) return `${Math.round(ms / 1000)} s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  if (ms < 86_400_000) return `${Math.round(ms / 3_600_000)} h ago`;
  return `${Math.round(ms / 86_400_000)} d ago`;
}

/** A data age: "0.3 s", "12 s", "4 min". */
export function formatAge(ms: number): string {
  if (ms < 0) return '0 s';
  if (ms < 10_000) return `${nf(1).format(ms / 1000)} s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}
