import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlanePki, createControlPlanePki, issueServingCert } from '../src/index.ts';

const cert = (path: string) => new X509Certificate(readFileSync(path));

describe('createControlPlanePki (openssl CLI)', () => {
  let dir: string;
  let pki: ControlPlanePki;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tickflow-pki-test-'));
    pki = await createControlPlanePki(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a CA and a serving certificate for the loopback names the API server is reached by', () => {
    const ca = cert(pki.ca.cert);
    const serving = cert(pki.apiserver.cert);
    expect(ca.ca).toBe(true);
    expect(serving.ca).toBe(false);
    expect(serving.checkIssued(ca)).toBe(true);
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(serving.checkHost('localhost')).toBe('localhost');
    expect(serving.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(serving.checkHost('kubernetes.default.svc')).toBe('kubernetes.default.svc');
    expect(serving.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
  });

  it('makes client certificates whose subject carries the Kubernetes user and group', () => {
    const admin = cert(pki.admin.cert);
    expect(admin.subject).toContain('CN=tickflow-admin');
    expect(admin.subject).toContain('O=system:masters');
    expect(admin.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // clientAuth
    expect(admin.checkIssued(cert(pki.ca.cert))).toBe(true);
    expect(cert(pki.controllerManager.cert).subject).toContain('CN=system:kube-controller-manager');
  });

  it('signs the front-proxy client with its own CA, not the cluster CA (aggregation layer)', () => {
    const client = cert(pki.frontProxyClient.cert);
    expect(client.subject).toContain('CN=front-proxy-client');
    expect(client.checkIssued(cert(pki.frontProxyCa.cert))).toBe(true);
    expect(client.checkIssued(cert(pki.ca.cert))).toBe(false);
  });

  it('writes a service-account signing key pair', () => {
    expect(readFileSync(pki.serviceAccount.privateKey, 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect(readFileSync(pki.serviceAccount.publicKey, 'utf8')).toContain('BEGIN PUBLIC KEY');
  });

  it('issues serving certificates for servers of the tests, signed by a given CA', async () => {
    const pair = await issueServingCert(join(dir, 'extra'), 'metrics-adapter', pki.ca);
    const serving = cert(pair.cert);
    expect(serving.checkIssued(cert(pki.ca.cert))).toBe(true);
    expect(serving.checkHost('localhost')).toBe('localhost');
  });
});
