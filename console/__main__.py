"""`python -m console`: serve the operator console, or create a user.

serve [--port CONSOLE_PORT] [--host 0.0.0.0]
add-user NAME --role viewer|campaign_manager|admin    the password is asked twice (or read from stdin when
                                                      piped: `printf '%s\\n' "$PW" | python -m console add-user ...`)
"""

import argparse
import getpass
import sys

from common import config
from console import auth


def read_password() -> str:
    if not sys.stdin.isatty():  # a script pipes it: never a command-line flag, which `ps` would show
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("the two passwords differ")
    return first


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve")
    serve.add_argument("--port", type=int, default=config.CONSOLE_PORT)
    serve.add_argument("--host", default="0.0.0.0")
    add = commands.add_parser("add-user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=auth.ROLES)
    args = parser.parse_args(argv)
    if args.command == "add-user":
        try:
            auth.add_user(args.name, args.role, read_password())
        except ValueError as error:
            parser.error(str(error))
        print(f"{args.name}: {args.role}")
        return 0
    from console.app import create_app  # Sanic only for the server

    create_app().run(host=args.host, port=args.port, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
