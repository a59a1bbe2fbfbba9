// Pinned versions of everything the harness provisions. Changing one rebuilds only that tool: every
// artefact lives in a directory named after its version and is marked complete by a file written last.

/**
 * Kubernetes release for kube-apiserver / kube-controller-manager (and etcd, at the version this
 * release pins). Its staging modules (k8s.io/api, ... at v0.34.4) must exist in the Go module proxy.
 * 1.34 keeps Debian's kubectl dispatcher (which carries kubectl 1.27-1.33) within the supported
 * one-minor skew.
 */
export const KUBERNETES_VERSION = '1.34.4';

/** Helm 3 (maintenance line) and Helm 4: charts must lint and render with both. */
export const HELM3_VERSION = '3.22.0';
export const HELM4_VERSION = '4.3.1';
/**
 * The Kubernetes version Helm 3 assumes without a cluster (`helm template`, `helm lint`):
 * 1.<minor of the k8s.io/client-go it is built with>. Helm 3's Makefile passes it with -ldflags
 * (`go install` alone leaves 1.20); the build checks it against Helm's go.mod. Helm 4 reads it
 * from its build info by itself.
 */
export const HELM3_KUBE_VERSION = '1.37';

/** Strimzi release whose CRDs (kafka.strimzi.io/v1) are generated from its Maven Central artifacts. */
export const STRIMZI_VERSION = '1.2.0';

/** prometheus-operator release whose CRD YAML (ServiceMonitor, PodMonitor, ...) we install. */
export const PROMETHEUS_OPERATOR_VERSION = '0.85.0';

/** Oldest Go toolchain that builds all of the above (Kubernetes 1.34 needs 1.24; Helm 3.22 / 4.3 need 1.26). */
export const MIN_GO_VERSION = '1.26.0';

/** Oldest Java that runs Strimzi's CRD generator (compiled for release 21). */
export const MIN_STRIMZI_JAVA = 21;
