# syntax=docker/dockerfile:1
# The web chat page (webchat/server.py) with the rasa-webchat widget from npm (package-lock.json pins it).
# Build from the repository root: docker build -f deploy/docker/webchat.Dockerfile .
FROM node:20.18.0-bookworm-slim AS widget
WORKDIR /webchat
COPY webchat/package.json webchat/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.10.13-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
RUN groupadd --gid 10001 app && useradd --uid 10001 --gid app --create-home --home-dir /home/app app
COPY webchat/server.py webchat/index.html webchat/
COPY --from=widget /webchat/node_modules/rasa-webchat/lib/ webchat/node_modules/rasa-webchat/lib/
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4)"
# --socket-url: the public address of Rasa's socket.io (the ingress or the balancer), as the browser sees it.
ENTRYPOINT ["python", "webchat/server.py", "--host", "0.0.0.0", "--port", "8080"]
CMD ["--socket-url", "http://localhost:5005"]
