"""python -m sandbox [--host 127.0.0.1] [--port 5080]"""

import argparse

from sandbox.app import create_app


def main():
    parser = argparse.ArgumentParser(description="Operator sandbox (BSS, SMS, Zendesk, card payments)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5080)
    args = parser.parse_args()
    create_app().run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
