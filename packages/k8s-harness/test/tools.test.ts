import { describe, expect, it } from 'vitest';
import { kubernetesWrapperGoMod, versionAtLeast } from '../src/index.ts';

// The head of k8s.io/kubernetes' go.mod as published (shape of v1.34.x): staging modules are
// replaced with directories of the kubernetes repository, which the module proxy cannot serve.
const upstream = `module k8s.io/kubernetes

go 1.24.0

godebug default=go1.24

require (
	github.com/spf13/cobra v1.9.1
	k8s.io/api v0.0.0
	k8s.io/apiserver v0.0.0
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/apiextensions-apiserver => ./staging/src/k8s.io/apiextensions-apiserver
	k8s.io/apimachinery => ./staging/src/k8s.io/apimachinery
	k8s.io/apiserver => ./staging/src/k8s.io/apiserver
	k8s.io/cli-runtime => ./staging/src/k8s.io/cli-runtime
	k8s.io/client-go => ./staging/src/k8s.io/client-go
	k8s.io/cloud-provider => ./staging/src/k8s.io/cloud-provider
	k8s.io/component-base => ./staging/src/k8s.io/component-base
	k8s.io/controller-manager => ./staging/src/k8s.io/controller-manager
	k8s.io/kube-aggregator => ./staging/src/k8s.io/kube-aggregator
	k8s.io/kubectl => ./staging/src/k8s.io/kubectl
	k8s.io/metrics => ./staging/src/k8s.io/metrics
)
`;

describe('kubernetesWrapperGoMod', () => {
  const mod = kubernetesWrapperGoMod(upstream, '1.34.4');

  it('requires the release and replaces every staging module with its v0.x release', () => {
    expect(mod).toContain('require k8s.io/kubernetes v1.34.4');
    const replaces = [...mod.matchAll(/^\t(k8s\.io\/\S+) => (\S+) (\S+)$/gm)];
    expect(replaces).toHaveLength(12);
    for (const [, from, to, version] of replaces) {
      expect(to).toBe(from);
      expect(version).toBe('v0.34.4');
    }
    expect(mod).not.toContain('./staging');
  });

  it('keeps the go and godebug directives, which change runtime defaults', () => {
    expect(mod).toMatch(/^go 1\.24\.0$/m);
    expect(mod).toMatch(/^godebug default=go1\.24$/m);
  });

  it('refuses what is not a Kubernetes 1.x version or a go.mod without staging replaces', () => {
    expect(() => kubernetesWrapperGoMod(upstream, '2.0')).toThrow();
    expect(() => kubernetesWrapperGoMod('module x\n', '1.34.4')).toThrow(/staging/);
  });
});

describe('versionAtLeast', () => {
  it('compares dotted versions numerically, with or without a go prefix', () => {
    expect(versionAtLeast('go1.26.8', '1.26.0')).toBe(true);
    expect(versionAtLeast('1.26.0', '1.26.0')).toBe(true);
    expect(versionAtLeast('go1.25.9', '1.26.0')).toBe(false);
    expect(versionAtLeast('1.100.0', '1.26.0')).toBe(true);
    expect(versionAtLeast('go1.26rc1', '1.26.0')).toBe(true);
  });
});
