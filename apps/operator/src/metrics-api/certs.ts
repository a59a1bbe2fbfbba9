// Self-signed serving certificates for the external metrics API, made with node:crypto alone: keys
// and signatures from node:crypto, the X.509 structure encoded here in DER (node:crypto parses
// certificates but does not build them, and the image has no openssl CLI). ECDSA P-256 / SHA-256.
//
// Two certificates: a CA (its PEM is the APIService's caBundle) and a serving certificate it signs,
// valid for the Service's DNS names plus localhost / 127.0.0.1. Renewing the serving certificate keeps
// the CA, so the caBundle only changes when the CA itself is renewed.
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';
import { isIP } from 'node:net';

// ---- DER ------------------------------------------------------------------------------------------

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag]), len(body.length), body]);
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const explicit = (n: number, body: Buffer) => tlv(0xa0 | n, body);

function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return tlv(0x02, (v[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const p of parts.slice(2)) {
    const stack = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) stack.unshift((v & 0x7f) | 0x80);
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return d.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : tlv(0x18, Buffer.from(`${iso}Z`));
}

const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), utf8(cn))));
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

function keyUsage(flags: number[]): Buffer {
  // bit i (0 = digitalSignature) is the i-th most significant bit
  let v = 0;
  for (const f of flags) v |= 0x80 >> f;
  let unused = 0;
  while (unused < 7 && !(v & (1 << unused))) unused++;
  return bits(Buffer.from([v]), unused);
}

const ext = (id: string, critical: boolean, value: Buffer) =>
  seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

function sanEntries(sans: readonly string[]): Buffer {
  return seq(
    ...sans.map((s) => {
      const family = isIP(s);
      if (family === 4) return tlv(0x87, Buffer.from(s.split('.').map(Number)));
      if (family === 6) throw new Error('IPv6 SANs are not supported');
      return tlv(0x82, Buffer.from(s, 'ascii'));
    }),
  );
}

// ---- certificates ------------------------------------------------------------------------------

export interface CertKeyPair {
  certPem: string;
  keyPem: string;
}

export interface ServingBundle {
  ca: CertKeyPair;
  serving: CertKeyPair;
}

interface Issue {
  subject: string;
  sans?: readonly string[];
  isCa: boolean;
  notBefore: Date;
  notAfter: Date;
  /** Signer; self-signed when absent. */
  issuer?: { cert: X509Certificate; keyPem: string };
}

function issue(spec: Issue): CertKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const keyId = createHash('sha1').update(spki).digest();
  const issuerKeyPem = spec.issuer?.keyPem ?? (privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const issuerName = spec.issuer ? name(spec.issuer.cert.subject.replace(/^CN=/, '')) : name(spec.subject);
  const issuerKeyId = spec.issuer
    ? createHash('sha1')
        .update(spec.issuer.cert.publicKey.export({ type: 'spki', format: 'der' }))
        .digest()
    : keyId;
  const extensions = [
    ext('2.5.29.19', true, spec.isCa ? seq(bool(true)) : seq()),
    ext('2.5.29.15', true, keyUsage(spec.isCa ? [0, 5, 6] : [0, 2])),
    ...(spec.isCa ? [] : [ext('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1')))]),
    ext('2.5.29.14', false, octets(keyId)),
    ext('2.5.29.35', false, seq(tlv(0x80, issuerKeyId))),
    ...(spec.sans?.length ? [ext('2.5.29.17', false, sanEntries(spec.sans))] : []),
  ];
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ECDSA_SHA256,
    issuerName,
    seq(time(spec.notBefore), time(spec.notAfter)),
    name(spec.subject),
    spki,
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, createPrivateKey(issuerKeyPem));
  const der = seq(tbs, ECDSA_SHA256, bits(signature));
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return {
    certPem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

/** DNS names of a Service: name, name.ns, name.ns.svc, name.ns.svc.cluster.local. */
export function serviceSans(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}

export const DEFAULT_LOCAL_SANS = ['localhost', '127.0.0.1'];

/** A new CA (valid `caDays`) and a serving certificate it signs (valid `servingDays`). */
export function generateServingBundle(
  sans: readonly string[],
  now: Date,
  opts: { caDays?: number; servingDays?: number; ca?: CertKeyPair } = {},
): ServingBundle {
  const day = 86_400_000;
  const notBefore = new Date(now.getTime() - 5 * 60_000); // clock skew
  const ca =
    opts.ca ??
    issue({
      subject: 'tickflow-operator-metrics-ca',
      isCa: true,
      notBefore,
      notAfter: new Date(now.getTime() + (opts.caDays ?? 3650) * day),
    });
  const serving = issue({
    subject: sans[0] ?? 'tickflow-operator',
    sans,
    isCa: false,
    notBefore,
    notAfter: new Date(now.getTime() + (opts.servingDays ?? 365) * day),
    issuer: { cert: new X509Certificate(ca.certPem), keyPem: ca.keyPem },
  });
  return { ca, serving };
}

/**
 * Whether a stored bundle can keep serving: parses, the serving cert is signed by the CA, covers every
 * wanted SAN, and neither expires within `renewBeforeDays`.
 */
export function bundleUsable(
  b: ServingBundle,
  sans: readonly string[],
  now: Date,
  renewBeforeDays = 30,
): string | undefined {
  try {
    const ca = new X509Certificate(b.ca.certPem);
    const serving = new X509Certificate(b.serving.certPem);
    const horizon = now.getTime() + renewBeforeDays * 86_400_000;
    if (new Date(ca.validTo).getTime() < horizon) return 'the CA expires soon';
    if (new Date(serving.validTo).getTime() < horizon) return 'the serving certificate expires soon';
    if (!serving.verify(ca.publicKey)) return 'the serving certificate is not signed by the CA';
    const have = new Set(
      (serving.subjectAltName ?? '').split(', ').map((e) => e.replace(/^(DNS|IP Address):/, '')),
    );
    const missing = sans.filter((s) => !have.has(s));
    if (missing.length) return `the serving certificate lacks ${missing.join(', ')}`;
    createPrivateKey(b.serving.keyPem);
    return undefined;
  } catch (err) {
    return `unparsable: ${(err as Error).message}`;
  }
}
