"""Policy of the Kubernetes manifests and docker-compose.yml (their schemas: `make validate-deploy`)."""

import inspect
import json
import os
import shutil
import subprocess
import sys

import pytest
import rasa.core.lock_store
import yaml
from rasa.core.tracker_store import SQLTrackerStore
from rasa.utils.endpoints import read_endpoint_config

from connectors.lock_store import AtomicRedisLockStore
from tests.deploy.files import (
    BASE,
    DEPLOY,
    ROOT,
    SECRET_LIKE,
    SECRET_NAME,
    by_kind,
    compose,
    config_names,
    container_env_names,
    containers,
    endpoint_vars,
    ours,
    pod_spec,
    sandbox_names,
)

# Variables Rasa itself reads, each checked below against Rasa's or the image's own code.
RASA_RUNTIME = {"RASA_AUTH_TOKEN", "SANIC_WORKERS", "TICKET_LOCK_LIFETIME"}
SECRET_KEYS = subprocess.run(
    [str(DEPLOY / "secrets.sh"), "--list-keys"], capture_output=True, text=True, check=True
).stdout.split()


def test_the_rasa_runtime_variables_are_read_where_we_say():
    assert "RASA_AUTH_TOKEN" in (DEPLOY / "docker" / "rasa-entrypoint.sh").read_text()
    assert "TICKET_LOCK_LIFETIME" in inspect.getsource(rasa.core.lock_store)
    from rasa.constants import ENV_SANIC_WORKERS

    assert ENV_SANIC_WORKERS == "SANIC_WORKERS"


def test_every_variable_set_on_our_containers_is_one_the_product_reads():
    allowed = config_names() | RASA_RUNTIME | endpoint_vars()
    for name, container in containers():
        if ours(container):
            unknown = set(container_env_names(container)) - allowed
            assert not unknown, f"{name}: nothing reads {sorted(unknown)}"
    for service, spec in compose()["services"].items():
        if not spec.get("image", "").startswith("assistant-"):
            continue  # postgres, redis, nginx: their images' own documented variables
        unknown = set(spec.get("environment") or {}) - allowed - (sandbox_names() if service == "sandbox" else set())
        assert not unknown, f"compose {service}: nothing reads {sorted(unknown)}"


def test_every_secret_comes_from_the_secret_and_no_config_map_holds_one():
    for name, container in containers():
        for entry in container.get("env", []):
            if SECRET_LIKE.search(entry["name"]):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                assert ref and ref["name"] == SECRET_NAME, f"{name}: {entry['name']} must come from {SECRET_NAME}"
                assert "value" not in entry
    for config_map in by_kind("ConfigMap").values():
        for key in config_map["data"]:
            assert not SECRET_LIKE.search(key), f"ConfigMap {config_map['metadata']['name']} holds {key}"
    # compose: secret values only by interpolation from deploy/.env (gitignored), never written in the file
    for service, spec in compose()["services"].items():
        for key, value in (spec.get("environment") or {}).items():
            if SECRET_LIKE.search(key):
                assert str(value).startswith("${") or "${DB_PASSWORD" in str(value), f"compose {service}: {key}"


def test_the_secret_script_makes_every_key_the_manifests_read():
    referenced = {
        entry["valueFrom"]["secretKeyRef"]["key"]
        for _, container in containers()
        for entry in container.get("env", [])
        if "secretKeyRef" in entry.get("valueFrom", {})
    }
    assert referenced == set(SECRET_KEYS)


def test_rasa_and_the_action_server_run_at_least_two_replicas_everywhere():
    deployments = by_kind("Deployment")
    for name in ("rasa", "actions"):
        assert deployments[name]["spec"]["replicas"] >= 2
        assert by_kind("PodDisruptionBudget")[name]["spec"]["minAvailable"] >= 1
    services = compose()["services"].values()
    assert sum(spec["image"].startswith("assistant-rasa") for spec in services) >= 2
    # the action servers: the actions image with its own command (the worker and prune run another)
    assert sum(spec["image"].startswith("assistant-actions") and "command" not in spec for spec in services) >= 2


@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl (which renders the overlays) is not installed")
def test_the_example_overlay_keeps_the_replicas_and_the_token():
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY / "k8s" / "overlays" / "example")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    docs = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(rendered) if d}
    for name in ("rasa", "actions"):
        assert docs[("Deployment", name)]["spec"]["replicas"] >= 2
    env = pod_spec(docs[("Deployment", "rasa")])["containers"][0]["env"]
    assert any(e["name"] == "RASA_AUTH_TOKEN" and "secretKeyRef" in e["valueFrom"] for e in env)


def endpoints(env: dict):
    os.environ.update(env)
    try:
        return read_endpoint_config(str(DEPLOY / "endpoints.yml"), "lock_store"), read_endpoint_config(
            str(DEPLOY / "endpoints.yml"), "tracker_store"
        )
    finally:
        for key in env:
            os.environ.pop(key, None)


def test_every_multi_replica_profile_locks_in_redis_and_keeps_trackers_in_postgres_redacted():
    lock, tracker = endpoints({"DB_PASSWORD": "pw", "REDIS_PASSWORD": "rpw"})
    # Rasa's own factory makes the store from this file: a Redis lock store (no connection until used)
    store = rasa.core.lock_store.LockStore.create(lock)
    assert isinstance(store, AtomicRedisLockStore)
    assert lock.kwargs["password"] == "rpw" and lock.kwargs["key_prefix"]
    assert tracker.type == "privacy.tracker_store.RedactingSQLTrackerStore"
    assert tracker.kwargs["dialect"] == "postgresql" and tracker.kwargs["password"] == "pw"
    unknown = set(tracker.kwargs) - set(inspect.signature(SQLTrackerStore.__init__).parameters)
    assert not unknown, f"SQLTrackerStore takes no {unknown}"
    # Kubernetes mounts the same text over the image's endpoints.yml; compose uses the image's (deploy/endpoints.yml)
    data = by_kind("ConfigMap")["rasa-config"]["data"]
    assert data["endpoints.yml"] == (DEPLOY / "endpoints.yml").read_text()
    assert data["credentials.yml"] == (ROOT / "credentials.yml").read_text()
    mounts = {m["mountPath"] for m in pod_spec(by_kind("Deployment")["rasa"])["containers"][0]["volumeMounts"]}
    assert {"/app/endpoints.yml", "/app/credentials.yml"} <= mounts
    assert "COPY deploy/endpoints.yml ./" in (DEPLOY / "docker" / "Dockerfile").read_text()


def test_a_missing_password_stops_rasa_rather_than_running_without_one():
    with pytest.raises(Exception, match="REDIS_PASSWORD|DB_PASSWORD"):
        endpoints({})


def test_no_setting_falls_back_to_the_sandbox_in_kubernetes():
    env = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    env.update(by_kind("ConfigMap")["assistant-settings"]["data"])
    env.update({key: f"set-{key}" for key in SECRET_KEYS})
    code = "import json; from common import config; print(json.dumps({k: v for k, v in vars(config).items() if k.isupper() and isinstance(v, str)}))"
    settings = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    )
    leftovers = {
        key: value
        for key, value in settings.items()
        if key != "SANDBOX_URL"
        and any(word in value.lower() for word in ("127.0.0.1", "localhost", "sandbox", "sqlite", "change-me"))
    }
    assert not leftovers, f"set these in deploy/k8s/base/settings.yaml: {leftovers}"


def test_only_the_webhooks_socketio_and_the_page_are_exposed():
    # every input channel of credentials.yml but the REST one (trusted front ends only) and socket.io (below)
    allowed = {
        "/webhooks/whatsapp/",
        "/webhooks/messenger/",
        "/webhooks/zendesk/",
        "/webhooks/payment_webhook/",
        "/webhooks/dialer/",
        "/webhooks/voice/",
        "/webhooks/sms_delivery/",
    }
    seen = set()
    for name, ingress in by_kind("Ingress").items():
        if name == "console":  # staff only: its own host, admitted from the operator's networks
            assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/whitelist-source-range"]
            [rule] = ingress["spec"]["rules"]
            assert rule["host"] != "chat.example.com"
            assert [path["backend"]["service"]["name"] for path in rule["http"]["paths"]] == ["console"]
            continue
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                service = path["backend"]["service"]["name"]
                seen.add(path["path"])
                assert service != "actions"
                if path["path"] == "/socket.io/":
                    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/affinity"] == "cookie"
                elif path["path"] == "/":
                    assert service == "webchat"
                else:
                    assert path["path"] in allowed, f"{name} exposes {path['path']}"
    assert seen == allowed | {"/socket.io/", "/"}
    assert by_kind("NetworkPolicy")["actions-from-rasa-only"]["spec"]["ingress"][0]["from"][0]["podSelector"] == {
        "matchLabels": {"app.kubernetes.io/name": "rasa"}
    }
    for service, spec in compose()["services"].items():
        for port in spec.get("ports", []):
            published = str(port)
            assert service in ("balancer", "webchat") or published.startswith("127.0.0.1:"), f"{service}: {port}"
            assert not published.endswith(":5006") or published.startswith("127.0.0.1:")


def test_every_long_running_container_has_probes_and_resources():
    for name, container in containers():
        assert {"requests", "limits"} <= set(container.get("resources", {})), name
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        if name not in ("ticket-worker", "campaign-sender", "prune"):  # workers without an HTTP port
            assert "readinessProbe" in container and "livenessProbe" in container, name
    for kind in ("Deployment", "StatefulSet"):
        for name, workload in by_kind(kind).items():
            assert pod_spec(workload)["securityContext"]["runAsNonRoot"] is True, name


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is not installed (apt-get install nginx)")
def test_the_compose_balancer_configuration_is_accepted_by_nginx(tmp_path):
    text = (DEPLOY / "nginx.conf").read_text()
    public = text.split("listen 5005;")[1].split("listen 5006;")[0]
    assert "/webhooks/rest" not in public and "location / { return 404; }" in public
    # the compose service names resolve only inside compose: the same file with loopback addresses
    for host in ("rasa-1", "rasa-2", "actions-1", "actions-2"):
        text = text.replace(f"server {host}:", "server 127.0.0.1:")
    (tmp_path / "nginx.conf").write_text(text.replace("/tmp/", f"{tmp_path}/"))
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_base_lists_every_manifest():
    listed = set(yaml.safe_load((BASE / "kustomization.yaml").read_text())["resources"])
    assert listed == {path.name for path in BASE.glob("*.yaml") if path.name != "kustomization.yaml"}
