#!/usr/bin/env bash
# Builds the binaries of the Kubernetes test world from their published Go
# modules, once per version set, into
#   ${SPOTGUARD_CACHE:-$HOME/.cache/spotguard}/k8s-<K8S_VERSION>/bin/
# kube-apiserver, kube-controller-manager, kubectl (k8s.io/kubernetes), etcd
# (go.etcd.io/etcd/server/v3) and kwok (sigs.k8s.io/kwok).
#
# Needs only Go (>= the go line of the k8s.io/kubernetes tag) and the Go module
# proxy. Idempotent: a stamp file written after every binary is in place makes
# later runs exit at once; an interrupted build is redone.
#
# The Go module and build caches live in $SPOTGUARD_CACHE/go while building and
# are removed after a successful build (~5 GB; only the ~350 MB of binaries
# stay), unless SPOTGUARD_KEEP_GO_CACHE=1.
#
# Usage: test/harness/k8s/build.sh [--print-bin-dir]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache="${SPOTGUARD_CACHE:-$HOME/.cache/spotguard}"
root="$cache/k8s-$K8S_VERSION"
bin="$root/bin"
stamp="$root/.built"
want="k8s=$K8S_VERSION etcd=$ETCD_VERSION kwok=$KWOK_VERSION"

step() { # name, then the command
  local name="$1"; shift
  local t0; t0=$(date +%s)
  echo "==> $name"
  "$@"
  echo "    $name took $(( $(date +%s) - t0 ))s"
}

# --- kube-apiserver, kube-controller-manager, kubectl -------------------------
# k8s.io/kubernetes replaces its staging modules (k8s.io/api, client-go, ...)
# with ./staging/src/...; those replaces do not apply to a dependent module, so
# the tools module replaces each with its published v0.MINOR.PATCH module.
build_kubernetes() {
  local mod="$root/src/kubernetes"
  rm -rf "$mod" && mkdir -p "$mod"
  local gomod
  gomod=$(cd "$mod" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" \
    | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [[ -f "$gomod" ]] || { echo "build.sh: no go.mod for k8s.io/kubernetes@$K8S_VERSION" >&2; exit 1; }
  local staging_version="v0.${K8S_VERSION#v1.}"
  local go_line godebug_line
  go_line=$(grep -m1 '^go ' "$gomod")
  godebug_line=$(grep -m1 '^godebug ' "$gomod" || true)
  {
    echo "module spotguard.local/k8s-tools"
    echo
    echo "$go_line"
    [[ -n "$godebug_line" ]] && echo "$godebug_line"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    grep -E '^[[:space:]]*k8s\.io/[^[:space:]]+ => \./staging/' "$gomod" \
      | awk -v v="$staging_version" '{ printf "\t%s => %s %s\n", $1, $1, v }'
    echo ")"
  } > "$mod/go.mod"
  local n; n=$(grep -c ' => ' "$mod/go.mod")
  [[ "$n" -gt 20 ]] || { echo "build.sh: found only $n staging replaces in $gomod" >&2; exit 1; }
  echo "    $n staging modules replaced with $staging_version"
  cat > "$mod/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  (cd "$mod" && go mod tidy)

  local minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local date; date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local ld="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  local out="$root/tmp-kubernetes"
  rm -rf "$out" && mkdir -p "$out"
  (cd "$mod" && go build -trimpath -ldflags="$ld" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kubectl)
  mv -f "$out"/* "$bin/" && rmdir "$out"
}

# --- etcd ---------------------------------------------------------------------
# go.etcd.io/etcd/server/v3 is itself a main package; its go.mod replaces the
# sibling etcd modules with ../, so `go install ...@version` refuses it; as a
# dependency of a tools module those replaces are ignored and it builds.
build_etcd() {
  local mod="$root/src/etcd"
  rm -rf "$mod" && mkdir -p "$mod"
  local gomod
  gomod=$(cd "$mod" && go mod download -json "go.etcd.io/etcd/server/v3@$ETCD_VERSION" \
    | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  {
    echo "module spotguard.local/etcd-tools"
    echo
    grep -m1 '^go ' "$gomod"
    echo
    echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  } > "$mod/go.mod"
  cat > "$mod/tools.go" <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  (cd "$mod" && go mod tidy && go build -trimpath -ldflags="-s -w" -o "$bin/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv -f "$bin/etcd.tmp" "$bin/etcd"
}

# --- kwok ---------------------------------------------------------------------
build_kwok() {
  local gobin="$root/tmp-kwok"
  rm -rf "$gobin" && mkdir -p "$gobin"
  GOBIN="$gobin" go install -trimpath \
    -ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  mv -f "$gobin/kwok" "$bin/kwok" && rmdir "$gobin"
}

BINARIES=(etcd kwok kube-apiserver kube-controller-manager kubectl)

up_to_date() {
  [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] || return 1
  local b
  for b in "${BINARIES[@]}"; do [[ -x "$bin/$b" ]] || return 1; done
}

main() {
  if [[ "${1:-}" == "--print-bin-dir" ]]; then
    echo "$bin"
    return
  fi
  if up_to_date; then
    echo "k8s binaries up to date in $bin ($want)"
    return
  fi
  command -v go >/dev/null || { echo "build.sh: go is not on PATH" >&2; exit 1; }

  # Private Go caches under $cache/go: a fresh, reproducible build that does not
  # touch the user's own caches (-modcacherw keeps them deletable).
  export GOMODCACHE="$cache/go/mod"
  export GOCACHE="$cache/go/build"
  export GOFLAGS="-modcacherw -buildvcs=false"
  export GOTOOLCHAIN=local
  export CGO_ENABLED=0

  rm -f "$stamp"
  mkdir -p "$bin" "$root/src"
  local t_all; t_all=$(date +%s)
  echo "building the Kubernetes test world ($want) into $bin with $(go version)"
  step "etcd $ETCD_VERSION" build_etcd
  step "kwok $KWOK_VERSION" build_kwok
  step "kube-apiserver, kube-controller-manager, kubectl $K8S_VERSION" build_kubernetes

  local b
  for b in "${BINARIES[@]}"; do
    [[ -x "$bin/$b" ]] || { echo "build.sh: $bin/$b missing after build" >&2; exit 1; }
  done
  echo "$want" > "$stamp"
  echo "k8s binaries built in $(( $(date +%s) - t_all ))s:"
  ls -l "$bin"
  if [[ "${SPOTGUARD_KEEP_GO_CACHE:-}" != 1 ]]; then
    echo "removing the Go caches in $cache/go (SPOTGUARD_KEEP_GO_CACHE=1 keeps them)"
    go clean -cache -modcache
    rm -rf "$cache/go" "$root/src"
  fi
}

# Everything above is definitions: bash has read the whole file before main runs.
main "$@"
