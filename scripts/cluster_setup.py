"""What the production profile (scripts/cluster.py) runs: Debian packages, the PostgreSQL cluster and its
databases, the generated nginx and Rasa configurations, and the command of each service."""

import os
import secrets
import shutil
import socket
import subprocess
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "assistant.tar.gz"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
DEBIAN_PACKAGES = {"postgresql": PG_BIN / "postgres", "redis-server": "redis-server", "nginx": "nginx"}


def log(message: str) -> None:
    print(f"[cluster] {message}", flush=True)


def ensure_packages() -> None:
    missing = [name for name, binary in DEBIAN_PACKAGES.items() if not shutil.which(str(binary))]
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"missing Debian packages {missing}: run `sudo apt-get install -y {' '.join(missing)}`")
    log(f"installing {' '.join(missing)} (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=True, env=env, stdout=subprocess.DEVNULL)


def postgres_user() -> Dict:
    """PostgreSQL refuses to run as root: as the `postgres` user Debian's package created (Popen's pid is then
    PostgreSQL's own, so a test can signal it)."""
    return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}


def give_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def prepare_postgres(directory: Path) -> Path:
    """A database cluster of our own under `directory`, listening on loopback only, trusting loopback logins."""
    data = directory / "postgres"
    sockets = directory / "postgres-socket"
    for folder in (data.parent, sockets):
        folder.mkdir(parents=True, exist_ok=True)
    sockets.chmod(0o755)
    give_to_postgres(sockets)
    if not (data / "PG_VERSION").exists():
        data.mkdir(exist_ok=True)
        give_to_postgres(data)
        data.chmod(0o700)
        subprocess.run(
            [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=directory,
            **postgres_user(),
        )
    return data


def create_databases(port: int) -> None:
    import psycopg2

    connection = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = 'assistant'")
        if cursor.fetchone() is None:
            cursor.execute("CREATE ROLE assistant LOGIN")
        for name in ("assistant", "rasa"):
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f"CREATE DATABASE {name} OWNER assistant")
    connection.close()


def nginx_config(ports: Dict[str, int], directory: Path) -> str:
    template = (ROOT / "scripts" / "cluster-nginx.conf.template").read_text()
    values = {name.replace("-", "_"): str(port) for name, port in ports.items()}
    values["dir"] = str(directory)
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", value)
    return template


def endpoints(ports: Dict[str, int]) -> str:
    return f"""action_endpoint:
  url: "http://127.0.0.1:{ports["actions"]}/webhook"
tracker_store:
  type: privacy.tracker_store.RedactingSQLTrackerStore
  dialect: postgresql
  url: 127.0.0.1
  port: {ports["postgres"]}
  db: rasa
  username: assistant
lock_store:
  type: connectors.lock_store.AtomicRedisLockStore
  url: 127.0.0.1
  port: {ports["redis"]}
  db: 1
  key_prefix: assistant
  socket_timeout: 5
"""


def rasa_token(directory: Path) -> str:
    """Rasa's API token: RASA_AUTH_TOKEN, else one generated once into CLUSTER_DIR/secrets.env (mode 600)."""
    if os.environ.get("RASA_AUTH_TOKEN"):
        return os.environ["RASA_AUTH_TOKEN"]
    stored = directory / "secrets.env"
    if stored.exists():
        return stored.read_text().strip().split("=", 1)[1]
    token = secrets.token_urlsafe(32)
    stored.touch(mode=0o600)
    stored.write_text(f"RASA_AUTH_TOKEN={token}\n")
    return token


def commands(cfg: Dict, token: str) -> Dict[str, List[str]]:
    ports, directory = cfg["ports"], cfg["dir"]
    rasa = [
        str(BIN / "rasa"),
        "run",
        "--model",
        str(MODEL),
        "--enable-api",
        f"--auth-token={token}",  # one argument: a token may start with "-"
        "--cors",
        "*",
        "--credentials",
        str(ROOT / "credentials.yml"),
        "--endpoints",
        str(directory / "endpoints.yml"),
        "--interface",
        "127.0.0.1",
    ]
    found = {
        "postgres": [str(PG_BIN / "postgres"), "-D", str(directory / "postgres"), "-p", str(ports["postgres"])]
        + ["-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={directory / 'postgres-socket'}"]
        + ["-c", "max_connections=200"],
        "redis": ["redis-server", "--port", str(ports["redis"]), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no", "--dir", str(directory), "--protected-mode", "yes"],
        "nginx": ["nginx", "-c", str(directory / "nginx.conf"), "-p", str(directory), "-g", "daemon off;"],
        "sandbox": [str(BIN / "python"), "-m", "sandbox", "--port", str(ports["sandbox"])],
    }
    for n in (1, 2):
        found[f"actions-{n}"] = [str(BIN / "rasa"), "run", "actions", "--port", str(ports[f"actions-{n}"])]
    for n in (1, 2):
        found[f"rasa-{n}"] = rasa + ["--port", str(ports[f"rasa-{n}"])]
    found["webchat"] = [str(BIN / "python"), str(ROOT / "webchat" / "server.py"), "--port", str(ports["webchat"])]
    found["webchat"] += ["--host", "127.0.0.1", "--socket-url", f"http://127.0.0.1:{ports['balancer']}"]
    found["tickets"] = [str(BIN / "python"), "-m", "actions.zendesk_tickets", "--watch"]
    found["campaigns"] = [str(BIN / "python"), "-m", "campaigns", "send", "--watch"]
    return found


def health_url(name: str, ports: Dict[str, int], token: str) -> Optional[str]:
    paths = {"sandbox": "/health", "webchat": "/health", "actions-1": "/health", "actions-2": "/health"}
    if name in paths:
        return f"http://127.0.0.1:{ports[name]}{paths[name]}"
    if name.startswith("rasa-"):
        # "/" answers even when the model failed to load; /status only once it is loaded (409 before)
        return f"http://127.0.0.1:{ports[name]}/status?token={token}"
    return None


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as reply:
            return reply.status == 200
    except OSError:
        return False


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0
