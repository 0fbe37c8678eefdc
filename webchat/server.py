"""Serves the web chat page on http://localhost:8080 (the widget talks to Rasa's socket.io channel).

Usage: python webchat/server.py [--port 8080] [--socket-url http://localhost:5005]
"""

import argparse
import json
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
WIDGET = HERE / "node_modules" / "rasa-webchat" / "lib" / "index.js"


class Handler(SimpleHTTPRequestHandler):
    socket_url = "http://localhost:5005"

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/health":
            return self._send(200, b'{"status":"ok"}', "application/json")
        if path == "/config.js":
            body = f"window.CHAT_CONFIG = {json.dumps({'socketUrl': self.socket_url})};".encode()
            return self._send(200, body, "application/javascript")
        if path == "/webchat.js":
            return self._send(200, WIDGET.read_bytes(), "application/javascript")
        if path in ("/", "/index.html"):
            return self._send(200, (HERE / "index.html").read_bytes(), "text/html; charset=utf-8")
        return self._send(404, b"not found", "text/plain")

    def _send(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):  # keep the terminal for Rasa's logs
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--socket-url", default="http://localhost:5005")
    args = parser.parse_args()
    handler = type("ConfiguredHandler", (Handler,), {"socket_url": args.socket_url})
    ThreadingHTTPServer((args.host, args.port), partial(handler)).serve_forever()


if __name__ == "__main__":
    main()
