// Package deploy checks Switchboard's deployment artifacts without a
// cluster or a container runtime: the Kubernetes manifests of the kustomize
// base (kubernetes/base) are decoded strictly into the k8s.io/api types of
// a pinned release, so that an unknown or misspelled field, or a value of
// the wrong type, fails the test, and then checked against the rules of
// a scaled-out gateway (no session affinity, probes on /healthz and
// /readyz, non-root and read-only, the selectors of the Service, the
// PodDisruptionBudget and the HorizontalPodAutoscaler match the
// Deployment's pods); the ConfigMap's configuration file is parsed by the
// gateway's own parser and the Secret's session key set by package seal.
// The repository's Dockerfile is checked by rules too, since Docker cannot
// run where this project is tested.
//
// It is a module of its own so that the main module does not depend on
// k8s.io/api. Run it with "make scale" or "cd deploy && go test ./...".
package deploy
