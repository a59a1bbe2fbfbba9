import { describe, expect, it } from 'vitest';
import { describeObject, parseManifests } from '../src/index.ts';

describe('parseManifests', () => {
  it('reads every document and skips empty ones (templates that rendered nothing)', () => {
    const objects = parseManifests(`---
# Source: tickflow/templates/empty.yaml
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  namespace: x
data: {k: v}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: b}
`);
    expect(objects.map(describeObject)).toEqual(['ConfigMap/a -n x', 'Deployment/b']);
  });

  it('rejects invalid YAML and documents that are not Kubernetes objects', () => {
    expect(() => parseManifests('a: [1, 2', 'bad.yaml')).toThrow(/bad\.yaml/);
    expect(() => parseManifests('kind: ConfigMap\nmetadata: {name: a}\n')).toThrow(/apiVersion/);
    expect(() => parseManifests('- 1\n- 2\n')).toThrow(/not a mapping/);
  });
});
