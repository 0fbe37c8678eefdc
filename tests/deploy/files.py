"""The deployment files (deploy/) as data, for the tests next to this one."""

import re
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BASE = DEPLOY / "k8s" / "base"
COMPOSE = DEPLOY / "docker-compose.yml"
OUR_IMAGES = ("assistant-rasa", "assistant-actions", "assistant-webchat", "assistant-sandbox", "assistant-console")
SECRET_NAME = "assistant-secrets"
# Names that hold a secret: they may only come from a Secret (Kubernetes) or the env file (compose).
SECRET_LIKE = re.compile(r"SECRET|PASSWORD|TOKEN(?!_URL)|_DB_URL$")


def manifests() -> List[dict]:
    """Every Kubernetes object in deploy/k8s (the base and the overlays' own files)."""
    found = []
    for path in sorted((DEPLOY / "k8s").rglob("*.yaml")):
        if path.name != "kustomization.yaml":
            found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def by_kind(kind: str) -> Dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in manifests() if doc["kind"] == kind}


def pod_spec(workload: dict) -> dict:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def containers() -> Iterator[Tuple[str, dict]]:
    """(workload name, container) for every container of every workload."""
    for kind in ("Deployment", "StatefulSet", "CronJob"):
        for name, workload in by_kind(kind).items():
            for container in pod_spec(workload)["containers"]:
                yield name, container


def ours(container: dict) -> bool:
    return any(image in container["image"] for image in OUR_IMAGES)


def container_env_names(container: dict) -> List[str]:
    """Every variable the container gets: its env list and the keys of the ConfigMaps it takes whole."""
    names = [entry["name"] for entry in container.get("env", [])]
    config_maps = by_kind("ConfigMap")
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, f"envFrom only from ConfigMaps (secrets one by one): {source}"
        names += list(config_maps[source["configMapRef"]["name"]]["data"])
    return names


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def config_names() -> set:
    """The environment variables common/config.py reads."""
    text = (ROOT / "common" / "config.py").read_text()
    return set(re.findall(r"""(?:_env|os\.environ\.get)\(\s*["']([A-Z0-9_]+)["']""", text))


def sandbox_names() -> set:
    text = "".join(path.read_text() for path in (ROOT / "sandbox").rglob("*.py"))
    return set(re.findall(r"""os\.environ\.get\(\s*["']([A-Z0-9_]+)["']""", text))


def endpoint_vars() -> set:
    """The ${VAR}s Rasa substitutes in deploy/endpoints.yml."""
    return set(re.findall(r"\$\{([A-Z0-9_]+)\}", (DEPLOY / "endpoints.yml").read_text()))
