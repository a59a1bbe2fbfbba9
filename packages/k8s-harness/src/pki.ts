// Certificates for one control plane, made fresh in its own directory with the openssl CLI (node:crypto
// makes keys but not X.509 certificates). ECDSA P-256 everywhere: fast to generate, accepted by every
// Kubernetes component, including for service-account token signing (ES256).

import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '@tickflow/stack';

export interface CertPair {
  cert: string;
  key: string;
}

export interface ControlPlanePki {
  dir: string;
  /** Cluster CA: signs the API server's serving cert and every client cert (--client-ca-file). */
  ca: CertPair;
  /** kube-apiserver serving cert: localhost, 127.0.0.1 and the in-cluster kubernetes.default names. */
  apiserver: CertPair;
  /** Client cert of the harness itself: CN=tickflow-admin, O=system:masters. */
  admin: CertPair;
  /** Client cert for kube-controller-manager: CN=system:kube-controller-manager, O=system:masters. */
  controllerManager: CertPair;
  /** Aggregation layer: the front-proxy CA (--requestheader-client-ca-file) and the proxy's client cert. */
  frontProxyCa: CertPair;
  frontProxyClient: CertPair;
  /** Service-account token signing key pair (PEM): private for the API server and the token controller. */
  serviceAccount: { privateKey: string; publicKey: string };
}

/** Names the serving certificate is valid for. */
export const APISERVER_SANS = [
  'DNS:localhost',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
  'IP:127.0.0.1',
  'IP:0:0:0:0:0:0:0:1',
];

interface CertSpec {
  name: string;
  cn: string;
  org?: string;
  isCa?: boolean;
  usage?: 'server' | 'client';
  sans?: readonly string[];
  signer?: CertPair;
}

function opensslConfig(spec: CertSpec): string {
  const dn = [`CN = ${spec.cn}`, ...(spec.org ? [`O = ${spec.org}`] : [])];
  const ext = spec.isCa
    ? ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign,digitalSignature']
    : [
        'basicConstraints = critical,CA:FALSE',
        'keyUsage = critical,digitalSignature,keyEncipherment',
        `extendedKeyUsage = ${spec.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
        ...(spec.sans?.length ? [`subjectAltName = ${spec.sans.join(',')}`] : []),
      ];
  return [
    '[req]',
    'distinguished_name = dn',
    'prompt = no',
    '[dn]',
    ...dn,
    '[ext]',
    ...ext,
    // identifies the signer in chains; harmless for leaves
    'subjectKeyIdentifier = hash',
    '',
  ].join('\n');
}

async function makeCert(dir: string, spec: CertSpec, days: number): Promise<CertPair> {
  const cfg = join(dir, `${spec.name}.cnf`);
  const pair = { cert: join(dir, `${spec.name}.crt`), key: join(dir, `${spec.name}.key`) };
  writeFileSync(cfg, opensslConfig(spec));
  const args = [
    'req',
    '-x509',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-sha256',
    '-days',
    String(days),
    '-config',
    cfg,
    '-extensions',
    'ext',
    '-keyout',
    pair.key,
    '-out',
    pair.cert,
    ...(spec.signer ? ['-CA', spec.signer.cert, '-CAkey', spec.signer.key] : []),
  ];
  await runCommand('openssl', args, { timeoutMs: 30_000 });
  return pair;
}

/**
 * A serving certificate signed by `signer` (e.g. the cluster CA, `ControlPlane.pki.ca`) for a server
 * of your own: an aggregated API server or an admission webhook on 127.0.0.1. Written to
 * `dir/<name>.crt` and `dir/<name>.key`.
 */
export function issueServingCert(
  dir: string,
  name: string,
  signer: CertPair,
  sans: readonly string[] = ['DNS:localhost', 'IP:127.0.0.1'],
  days = 7,
): Promise<CertPair> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return makeCert(dir, { name, cn: name, usage: 'server', sans, signer }, days);
}

/** Every certificate and key a control plane needs, under `dir/pki`, valid for `days` (default 7). */
export async function createControlPlanePki(dir: string, days = 7): Promise<ControlPlanePki> {
  const pki = join(dir, 'pki');
  mkdirSync(pki, { recursive: true, mode: 0o700 });
  const ca = await makeCert(pki, { name: 'ca', cn: 'tickflow-test-cluster-ca', isCa: true }, days);
  const frontProxyCa = await makeCert(
    pki,
    { name: 'front-proxy-ca', cn: 'tickflow-test-front-proxy-ca', isCa: true },
    days,
  );
  const [apiserver, admin, controllerManager, frontProxyClient] = await Promise.all([
    makeCert(
      pki,
      { name: 'apiserver', cn: 'kube-apiserver', usage: 'server', sans: APISERVER_SANS, signer: ca },
      days,
    ),
    makeCert(
      pki,
      { name: 'admin', cn: 'tickflow-admin', org: 'system:masters', usage: 'client', signer: ca },
      days,
    ),
    makeCert(
      pki,
      // system:masters: it runs every controller under its own identity (--use-service-account-credentials=false)
      {
        name: 'controller-manager',
        cn: 'system:kube-controller-manager',
        org: 'system:masters',
        usage: 'client',
        signer: ca,
      },
      days,
    ),
    makeCert(
      pki,
      { name: 'front-proxy-client', cn: 'front-proxy-client', usage: 'client', signer: frontProxyCa },
      days,
    ),
  ]);
  const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const serviceAccount = { privateKey: join(pki, 'sa.key'), publicKey: join(pki, 'sa.pub') };
  writeFileSync(serviceAccount.privateKey, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });
  writeFileSync(serviceAccount.publicKey, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  return {
    dir: pki,
    ca,
    apiserver,
    admin,
    controllerManager,
    frontProxyCa,
    frontProxyClient,
    serviceAccount,
  };
}
