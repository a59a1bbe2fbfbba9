// The dashboard's own /metrics in Prometheus text format: a few labelled counters plus gauges read at
// scrape time. Small on purpose (no client library): the hot path is one Map lookup per request.

type Labels = Record<string, string>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function renderLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

interface Family {
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, { labels: Labels; value: number }>;
  read?: () => Array<[Labels, number]>;
}

export class Metrics {
  readonly #families = new Map<string, Family>();

  counter(name: string, help: string): (labels?: Labels, by?: number) => void {
    const family: Family = { help, type: 'counter', values: new Map() };
    this.#families.set(name, family);
    return (labels = {}, by = 1) => {
      const key = renderLabels(labels);
      const entry = family.values.get(key);
      if (entry) entry.value += by;
      else family.values.set(key, { labels, value: by });
    };
  }

  /** A gauge or counter whose value(s) are read when scraped. */
  observe(name: string, help: string, type: 'counter' | 'gauge', read: () => Array<[Labels, number]>): void {
    this.#families.set(name, { help, type, values: new Map(), read });
  }

  render(): string {
    let out = '';
    for (const [name, f] of this.#families) {
      out += `# HELP ${name} ${f.help}\n# TYPE ${name} ${f.type}\n`;
      const rows = f.read
        ? f.read()
        : [...f.values.values()].map((e) => [e.labels, e.value] as [Labels, number]);
      for (const [labels, value] of rows) out += `${name}${renderLabels(labels)} ${value}\n`;
    }
    return out;
  }
}
