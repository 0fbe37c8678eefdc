"""The Dockerfiles: pinned bases, every COPY source in the repository, non-root, healthchecks, token enforced."""

import re
import shutil
import subprocess
import sys

import pytest

from tests.deploy.files import DEPLOY, ROOT, compose

DOCKERFILES = sorted((DEPLOY / "docker").glob("*Dockerfile"))
RUNTIME_TARGETS = {"Dockerfile": ("rasa", "actions", "sandbox", "console"), "webchat.Dockerfile": (None,)}


def stages(path):
    """{stage name (None for an unnamed one): [instruction lines]} in order, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    found, current = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            match = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE)
            current = match.group(2)
            found[current] = [line]
        else:
            found[current].append(line)
    return found


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_base_images_are_pinned_to_a_full_version(path):
    names = set(stages(path))
    for lines in stages(path).values():
        image = lines[0].split()[1]
        if image in names:
            continue  # a stage of this file
        tag = image.rsplit(":", 1)[-1] if ":" in image else ""
        assert re.match(r"\d+\.\d+\.\d+", tag), f"{path.name}: {image} is not pinned to x.y.z"


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_every_copy_source_is_in_the_repository(path):
    for lines in stages(path).values():
        for line in lines:
            if not line.upper().startswith("COPY ") or "--from=" in line:
                continue
            sources = [part for part in line.split()[1:-1] if not part.startswith("--")]
            for source in sources:
                assert (ROOT / source).exists(), f"{path.name}: COPY {source}: not in the repository"
                tracked = subprocess.run(["git", "ls-files", source], cwd=ROOT, capture_output=True, text=True).stdout
                assert tracked, f"{path.name}: COPY {source}: not committed (a fresh clone has no {source})"


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_runtime_images_run_as_a_user_and_have_a_healthcheck(path):
    found = stages(path)
    for target in RUNTIME_TARGETS[path.name]:
        lines = found[target] if target else list(found.values())[-1]
        users = [line.split()[1] for line in lines if line.upper().startswith("USER ")]
        assert users and not users[-1].startswith(("0", "root")), f"{path.name} {target}: runs as root"
        assert any(line.upper().startswith("HEALTHCHECK ") for line in lines), f"{path.name} {target}: no HEALTHCHECK"


def test_the_model_is_trained_in_the_image_not_copied_from_a_local_models_directory():
    text = (DEPLOY / "docker" / "Dockerfile").read_text()
    assert "RUN rasa train" in text and "COPY models" not in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "var", "models", ".env", "deploy/.env"} <= set(ignored)


def test_compose_builds_targets_that_exist():
    for service, spec in compose()["services"].items():
        build = spec.get("build")
        if build:
            dockerfile = ROOT / build["dockerfile"]
            assert dockerfile.exists(), service
            if "target" in build:
                assert build["target"] in stages(dockerfile), f"{service}: no stage {build['target']}"


@pytest.mark.skipif(not shutil.which("sh"), reason="no POSIX shell")
def test_rasa_refuses_to_start_without_an_api_token():
    result = subprocess.run(
        ["sh", str(DEPLOY / "docker" / "rasa-entrypoint.sh")],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 64 and "RASA_AUTH_TOKEN is not set" in result.stderr


def image_tree(target: str, into) -> None:
    """Lays out in `into` the files the Dockerfile puts under /app for `target` (its stage and the stages it is from)."""
    found = stages(DEPLOY / "docker" / "Dockerfile")
    chain = [target]
    while found[chain[-1]][0].split()[1] in found:
        chain.append(found[chain[-1]][0].split()[1])
    for stage in reversed(chain):
        for line in found[stage]:
            if not line.upper().startswith("COPY ") or "--from=" in line:
                continue
            *sources, destination = [part for part in line.split()[1:] if not part.startswith("--")]
            if destination.startswith("/"):
                continue  # outside /app (the entrypoint)
            for source in sources:
                origin = ROOT / source
                if origin.is_dir():
                    shutil.copytree(origin, into / destination, dirs_exist_ok=True)
                else:
                    (into / destination).mkdir(parents=True, exist_ok=True)
                    shutil.copy(origin, into / destination / origin.name)


def imports_in(tree, modules) -> subprocess.CompletedProcess:
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    return subprocess.run(
        [sys.executable, "-c", code, *modules],
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
    )


def test_the_rasa_image_holds_every_module_rasa_loads(tmp_path):
    image_tree("rasa", tmp_path)
    named = set()
    for name in ("credentials.yml", "endpoints.yml", "config.yml"):
        text = (tmp_path / name).read_text() if (tmp_path / name).exists() else (ROOT / name).read_text()
        named |= set(re.findall(r"\b((?:connectors|components|privacy)\.\w+)(?=\.\w+)", text))
    assert {"connectors.rest", "privacy.tracker_store", "components.sentence_encoder"} <= named
    result = imports_in(tmp_path, sorted(named))
    assert result.returncode == 0, result.stderr[-2000:]
    assert not (tmp_path / "actions").exists() and not (tmp_path / "sandbox").exists()


def test_the_action_image_holds_every_action_and_the_workers(tmp_path):
    image_tree("actions", tmp_path)
    modules = sorted(
        ".".join(path.relative_to(tmp_path).with_suffix("").parts).removesuffix(".__init__")
        for path in (tmp_path / "actions").rglob("*.py")
    )
    result = imports_in(tmp_path, [*modules, "common.state.retention", "campaigns.__main__"])
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_console_image_holds_the_console_and_what_it_reads(tmp_path):
    image_tree("console", tmp_path)
    result = imports_in(tmp_path, ["console.__main__", "console.app", "metrics.daily", "common.state.campaigns"])
    assert result.returncode == 0, result.stderr[-2000:]
    assert not (tmp_path / "sandbox").exists() and not (tmp_path / "models").exists()
