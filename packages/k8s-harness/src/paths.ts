// Where provisioned Kubernetes tools live: `${TICKFLOW_CACHE:-$HOME/.cache/tickflow}/k8s`, outside the
// work tree, so every clone on the machine shares one set of binaries and one Go module/build cache.

import { join } from 'node:path';
import { cacheDir } from '@tickflow/stack';
import {
  HELM3_VERSION,
  HELM4_VERSION,
  KUBERNETES_VERSION,
  PROMETHEUS_OPERATOR_VERSION,
  STRIMZI_VERSION,
} from './versions.ts';

export function kubeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'k8s');
}

/** One GOMODCACHE and one GOCACHE for every Go build of the harness (shared between tools). */
export function goCacheDirs(env: NodeJS.ProcessEnv = process.env): {
  modCache: string;
  buildCache: string;
  path: string;
} {
  const root = join(kubeCacheDir(env), 'go');
  return { modCache: join(root, 'mod'), buildCache: join(root, 'build'), path: join(root, 'path') };
}

/** The wrapper module that builds kube-apiserver, kube-controller-manager and etcd: holds go.mod and bin/. */
export function kubernetesDir(version = KUBERNETES_VERSION, env: NodeJS.ProcessEnv = process.env): string {
  return join(kubeCacheDir(env), `kubernetes-v${version}`);
}

export function helmDir(major: 3 | 4, env: NodeJS.ProcessEnv = process.env): string {
  return join(kubeCacheDir(env), `helm-v${major === 3 ? HELM3_VERSION : HELM4_VERSION}`);
}

export function strimziCrdDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(kubeCacheDir(env), 'crds', `strimzi-${STRIMZI_VERSION}`);
}

export function prometheusOperatorCrdDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(kubeCacheDir(env), 'crds', `prometheus-operator-v${PROMETHEUS_OPERATOR_VERSION}`);
}

export function lockPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(kubeCacheDir(env), '.provision.lock');
}
