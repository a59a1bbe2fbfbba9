// Multi-document YAML manifests and what the tests do with them on a control plane: install CRDs,
// create namespaces, and `kubectl apply --dry-run=server --validate=strict` (the API server runs
// defaulting, schema/OpenAPI validation, strict field checks and admission, then discards the result).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { ControlPlane } from './control-plane.ts';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

/** Parses a multi-document YAML stream; empty documents (e.g. a template that rendered nothing) are skipped. */
export function parseManifests(text: string, source = 'manifest'): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value))
      throw new Error(`${source}: a document is not a mapping`);
    const obj = value as KubeObject;
    if (
      typeof obj.apiVersion !== 'string' ||
      typeof obj.kind !== 'string' ||
      typeof obj.metadata?.name !== 'string'
    ) {
      throw new Error(
        `${source}: a document lacks apiVersion, kind or metadata.name: ${JSON.stringify(value).slice(0, 200)}`,
      );
    }
    objects.push(obj);
  }
  return objects;
}

export function parseManifestFile(path: string): KubeObject[] {
  return parseManifests(readFileSync(path, 'utf8'), path);
}

/** `Kind/name` (and namespace when set), for messages. */
export function describeObject(obj: KubeObject): string {
  return `${obj.kind}/${obj.metadata.name}${obj.metadata.namespace ? ` -n ${obj.metadata.namespace}` : ''}`;
}

/**
 * Installs CRDs with server-side apply (client-side apply would store a last-applied annotation that
 * is too large for big CRDs such as Strimzi's Kafka) and waits until each is Established.
 * Returns the CRD names.
 */
export async function installCrds(cp: ControlPlane, files: readonly string[]): Promise<string[]> {
  const names = files.flatMap((f) =>
    parseManifestFile(f)
      .filter((o) => o.kind === 'CustomResourceDefinition')
      .map((o) => o.metadata.name),
  );
  for (const file of files) {
    await cp.kubectl(
      ['apply', '--server-side', '--force-conflicts', '--field-manager=tickflow-test', '-f', file],
      { timeoutMs: 300_000 },
    );
  }
  if (names.length > 0) {
    await cp.kubectl(
      ['wait', '--for=condition=Established', '--timeout=120s', ...names.map((n) => `crd/${n}`)],
      {
        timeoutMs: 180_000,
      },
    );
  }
  return names;
}

/** Creates the namespaces that do not exist yet (for real: a dry-run into a missing namespace fails). */
export async function ensureNamespaces(cp: ControlPlane, names: readonly string[]): Promise<void> {
  const wanted = [...new Set(names)];
  if (wanted.length === 0) return;
  const doc = wanted
    .map((name) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`)
    .join('---\n');
  await cp.kubectl(['apply', '--server-side', '--field-manager=tickflow-test', '-f', '-'], { input: doc });
}

export interface DryRunResult {
  ok: boolean;
  /** kubectl's output: one line per object on success, the server's reasons on failure. */
  output: string;
}

/**
 * `kubectl apply --dry-run=server --validate=strict` of a manifest stream, into `namespace` for
 * objects that name none. Never throws for invalid objects: returns ok=false with the server's
 * messages, so tests can assert on both outcomes.
 */
export async function applyServerDryRun(
  cp: ControlPlane,
  manifest: string,
  opts: { namespace?: string; serverSide?: boolean } = {},
): Promise<DryRunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tickflow-dryrun-'));
  try {
    const file = join(dir, 'manifest.yaml');
    writeFileSync(file, manifest);
    const args = [
      'apply',
      '--dry-run=server',
      '--validate=strict',
      ...(opts.serverSide ? ['--server-side', '--field-manager=tickflow-test'] : []),
      ...(opts.namespace ? ['--namespace', opts.namespace] : []),
      '-f',
      file,
    ];
    try {
      const { stdout, stderr } = await cp.kubectl(args, { timeoutMs: 300_000 });
      return { ok: true, output: `${stdout}${stderr}`.trim() };
    } catch (error) {
      return { ok: false, output: (error as Error).message };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
