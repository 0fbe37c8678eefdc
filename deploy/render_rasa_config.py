"""Writes deploy/k8s/base/rasa-config.yaml from deploy/endpoints.yml and credentials.yml (run it after editing either;
tests/deploy/test_manifests.py fails while they differ): python deploy/render_rasa_config.py"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = """# Rasa's endpoints.yml and credentials.yml, mounted over the image's copies. Written by deploy/render_rasa_config.py
# from deploy/endpoints.yml and the repository's credentials.yml: edit those, then run it. ${VAR} is replaced by
# Rasa from the container's environment (the Secret assistant-secrets).
apiVersion: v1
kind: ConfigMap
metadata:
  name: rasa-config
  labels: {app.kubernetes.io/part-of: assistant}
data:
"""


def block(text: str) -> str:
    return "".join(f"    {line}\n" if line.strip() else "\n" for line in text.splitlines())


def main() -> None:
    endpoints = (ROOT / "deploy" / "endpoints.yml").read_text()
    credentials = (ROOT / "credentials.yml").read_text()
    text = f"{HEADER}  endpoints.yml: |\n{block(endpoints)}  credentials.yml: |\n{block(credentials)}"
    (ROOT / "deploy" / "k8s" / "base" / "rasa-config.yaml").write_text(text)


if __name__ == "__main__":
    main()
