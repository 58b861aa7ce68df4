# Kubernetes test world: included by the top-level Makefile.
#   make k8s-binaries   build kube-apiserver, kube-controller-manager, kubectl, etcd, kwok (once per version)
#   make cluster-up     start a local control plane in the background; prints KUBECONFIG=<path>
#   make cluster-down   stop it
# SPOTGUARD_CLUSTER_DIR picks the directory (default /tmp/spotguard-cluster).
.PHONY: k8s-binaries cluster-up cluster-down cluster-logs

K8S_HARNESS := test/harness/k8s

k8s-binaries:
	@$(K8S_HARNESS)/build.sh

cluster-up: deps k8s-binaries
	@$(NODE) $(K8S_HARNESS)/cluster-cli.ts up

cluster-down:
	@$(NODE) $(K8S_HARNESS)/cluster-cli.ts down

cluster-logs:
	@$(NODE) $(K8S_HARNESS)/cluster-cli.ts logs
