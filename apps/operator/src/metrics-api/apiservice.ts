// Serving certificate and caBundle management for the external metrics API:
//  - the CA and serving certificate live in a Secret (type kubernetes.io/tls plus ca.crt/ca.key), shared
//    by every operator replica; the first replica to start creates it (a create race is settled by the
//    API server: the loser reads the winner's), a certificate that is about to expire, lacks a wanted
//    name or does not parse is replaced (the CA is kept while it stays valid);
//  - the APIService's spec.caBundle is kept equal to that CA (server-side apply of that one field with
//    the operator's field manager), so the API server trusts whichever replica answers.
import { isConflict, isNotFound, type Kube } from '../kube.ts';
import { bundleUsable, generateServingBundle, type ServingBundle } from './certs.ts';

interface SecretObject {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  data?: Record<string, string>;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

function bundleFromSecret(s: SecretObject): ServingBundle {
  const d = s.data ?? {};
  return {
    ca: { certPem: unb64(d['ca.crt']), keyPem: unb64(d['ca.key']) },
    serving: { certPem: unb64(d['tls.crt']), keyPem: unb64(d['tls.key']) },
  };
}

function secretData(b: ServingBundle): Record<string, string> {
  return {
    'ca.crt': b64(b.ca.certPem),
    'ca.key': b64(b.ca.keyPem),
    'tls.crt': b64(b.serving.certPem),
    'tls.key': b64(b.serving.keyPem),
  };
}

/** The serving bundle from the Secret, made or renewed when needed. `changed`: this call wrote it. */
export async function ensureServingBundle(
  kube: Kube,
  namespace: string,
  name: string,
  sans: readonly string[],
  now: Date,
): Promise<{ bundle: ServingBundle; changed: boolean; reason?: string }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await kube.find<SecretObject>('v1', 'Secret', namespace, name);
    if (existing) {
      const current = bundleFromSecret(existing);
      const problem = bundleUsable(current, sans, now);
      if (!problem) return { bundle: current, changed: false };
      // keep a CA that is still good for a year: the caBundle then stays as it is
      const keepCa = bundleUsable({ ca: current.ca, serving: current.ca }, [], now, 365) === undefined;
      const bundle = generateServingBundle(sans, now, keepCa ? { ca: current.ca } : {});
      try {
        await kube.replace({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { ...existing.metadata },
          type: 'kubernetes.io/tls',
          data: secretData(bundle),
        } as never);
        return { bundle, changed: true, reason: problem };
      } catch (e) {
        if (isConflict(e)) continue;
        throw e;
      }
    }
    const bundle = generateServingBundle(sans, now);
    try {
      await kube.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name,
          namespace,
          labels: { 'app.kubernetes.io/part-of': 'tickflow', 'app.kubernetes.io/component': 'operator' },
        },
        type: 'kubernetes.io/tls',
        data: secretData(bundle),
      });
      return { bundle, changed: true, reason: 'created' };
    } catch (e) {
      if (isConflict(e)) continue; // another replica created it first: use theirs
      throw e;
    }
  }
  throw new Error(`could not settle the serving certificate Secret ${namespace}/${name}`);
}

/**
 * Makes the APIService's caBundle equal to `caPem`. Returns 'updated', 'unchanged' or 'missing'
 * (no such APIService: installed by the chart, or registered by a test).
 */
export async function syncCaBundle(
  kube: Kube,
  apiServiceName: string,
  caPem: string,
): Promise<'updated' | 'unchanged' | 'missing'> {
  let svc: { spec?: { caBundle?: string } };
  try {
    svc = await kube.get('apiregistration.k8s.io/v1', 'APIService', undefined, apiServiceName);
  } catch (e) {
    if (isNotFound(e)) return 'missing';
    throw e;
  }
  const want = b64(caPem);
  if (svc.spec?.caBundle === want) return 'unchanged';
  await kube.apply({
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: apiServiceName },
    spec: { caBundle: want },
  });
  return 'updated';
}
