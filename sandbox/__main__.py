"""python -m sandbox [--host 127.0.0.1] [--port 5080] [--threads 16]"""

import argparse

from sandbox.app import create_app


def main():
    parser = argparse.ArgumentParser(description="Operator sandbox (BSS, SMS, Zendesk, card payments)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5080)
    # enough for the fault tests' slow answers (2 s each) not to hold up everyone else
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    from waitress import serve

    # waitress, not Flask's development server: connections are kept alive (the assistant's clients reuse them)
    # and requests go to a pool of threads instead of a new thread each.
    serve(create_app(), host=args.host, port=args.port, threads=args.threads, ident="operator-sandbox")


if __name__ == "__main__":
    main()
