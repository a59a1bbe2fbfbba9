// PURE: Kubernetes label selector strings (the `labelSelector` query parameter), as
// k8s.io/apimachinery/pkg/labels parses them: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
// `a` (exists), `!a` (does not exist), comma-separated (AND).

export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

export class SelectorError extends Error {}

function checkKey(k: string): string {
  if (!KEY.test(k)) throw new SelectorError(`invalid label key ${JSON.stringify(k)}`);
  return k;
}
function checkValue(v: string): string {
  if (!VALUE.test(v)) throw new SelectorError(`invalid label value ${JSON.stringify(v)}`);
  return v;
}

/** Splits on commas that are not inside parentheses. */
function terms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) throw new SelectorError('unbalanced parentheses');
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (depth !== 0) throw new SelectorError('unbalanced parentheses');
  out.push(cur);
  return out.map((t) => t.trim());
}

export function parseSelector(input: string): Requirement[] {
  const s = input.trim();
  if (s === '') return [];
  return terms(s).map((t): Requirement => {
    if (t === '') throw new SelectorError('empty term');
    let m = /^(\S+?)\s+(in|notin)\s*\((.*)\)$/.exec(t);
    if (m) {
      const values = (m[3] as string).split(',').map((v) => checkValue(v.trim()));
      return { key: checkKey(m[1] as string), op: m[2] as 'in' | 'notin', values };
    }
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(t);
    if (m) {
      const op = m[2] === '!=' ? 'notin' : 'in';
      return { key: checkKey(m[1] as string), op, values: [checkValue(m[3] as string)] };
    }
    m = /^!\s*(\S+)$/.exec(t);
    if (m) return { key: checkKey(m[1] as string), op: '!exists' };
    return { key: checkKey(t), op: 'exists' };
  });
}

export function matches(reqs: readonly Requirement[], labels: Readonly<Record<string, string>>): boolean {
  return reqs.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    if (r.op === 'exists') return has;
    if (r.op === '!exists') return !has;
    if (r.op === 'in') return has && r.values.includes(labels[r.key] as string);
    if (r.op === 'notin') return !has || !r.values.includes(labels[r.key] as string);
    return false;
  });
}

/** The single value an equality requirement pins a key to, if the selector has one. */
export function pinnedValue(reqs: readonly Requirement[], key: string): string | undefined {
  for (const r of reqs) if (r.key === key && r.op === 'in' && r.values.length === 1) return r.values[0];
  return undefined;
}
