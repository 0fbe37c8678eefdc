#!/usr/bin/env bash
# `make validate-deploy`: schema checks of the deployment files, offline (the schemas ship in the validators'
# wheels, deploy/requirements-validate.txt), then tests/deploy (policy: env vars, secrets, replicas, lock store).
# Docker and Kubernetes do not run on this machine: these files are validated here, not run.
set -euo pipefail
cd "$(dirname "$0")/.."
V=${DEPLOY_VENV:-.venv-deploy}/bin
K8S_VERSION=1.30.0  # the oldest Kubernetes the manifests are meant for (PodDisruptionBudget v1, CronJob v1...)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mapfile -t manifests < <(find deploy/k8s -name '*.yaml' ! -name kustomization.yaml | sort)
echo "kubernetes-validate (Kubernetes $K8S_VERSION, strict): ${#manifests[@]} files"
"$V/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "${manifests[@]}"

# The overlays as kubectl would apply them, when kubectl (which bundles kustomize) is here.
if command -v kubectl >/dev/null; then
  for overlay in deploy/k8s/overlays/*/; do
    name=$(basename "$overlay")
    kubectl kustomize "$overlay" >"$tmp/$name.yaml"
    echo "kubectl kustomize $overlay: $(grep -c '^kind:' "$tmp/$name.yaml") resources"
    "$V/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$tmp/$name.yaml"
  done
else
  echo "kubectl is not installed: the overlays were not rendered (the base files above were validated)"
fi

echo "check-jsonschema (compose-spec): deploy/docker-compose.yml"
"$V/check-jsonschema" --builtin-schema vendor.compose-spec deploy/docker-compose.yml

# The checkers must be able to say no: a Deployment with a misspelt field and a compose file with a wrong type.
sed 's/replicas: 2/replicaz: 2/' deploy/k8s/base/rasa.yaml >"$tmp/broken.yaml"
if "$V/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$tmp/broken.yaml" >/dev/null 2>&1; then
  echo "kubernetes-validate accepted a broken manifest: the check is not working" >&2; exit 1
fi
sed 's/mem_limit: 2g/mem_limit: [2g]/' deploy/docker-compose.yml >"$tmp/broken-compose.yml"
if "$V/check-jsonschema" --builtin-schema vendor.compose-spec "$tmp/broken-compose.yml" >/dev/null 2>&1; then
  echo "check-jsonschema accepted a broken compose file: the check is not working" >&2; exit 1
fi
echo "validators reject broken files: ok"

# When a Docker daemon answers (not on this machine), compose itself checks the file too.
if docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  cp deploy/.env.example "$tmp/env"
  sed -i 's/^\(RASA_AUTH_TOKEN\|DB_PASSWORD\|REDIS_PASSWORD\|OTP_SECRET\)=$/\1=validate-only/' "$tmp/env"
  docker compose -f deploy/docker-compose.yml --env-file "$tmp/env" config --quiet && echo "docker compose config: ok"
fi
