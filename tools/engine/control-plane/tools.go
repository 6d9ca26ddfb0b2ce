//go:build tools

// Package tools pins the Kubernetes control plane the engine tier runs (build.sh builds these commands):
// etcd (its module root is the main package) and kube-apiserver, kube-controller-manager, kube-scheduler and
// kubectl from k8s.io/kubernetes. k8s.io/kubernetes requires its staging modules at v0.0.0, so go.mod replaces
// each of them with the matching v0.34.x release (Go ignores the replaces of dependencies).
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
