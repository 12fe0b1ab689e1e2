"""The ``autoclip`` command."""

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    commands = {
        "demo": "autoclip_cli.demo",
        "dev": "autoclip_cli.dev",
        "pools": "autoclip_cli.pools",
        "render": "autoclip_cli.render",
    }
    if not args or args[0] not in commands:
        print(f"usage: autoclip {{{','.join(commands)}}} [options]", file=sys.stderr)
        return 2
    module = __import__(commands[args[0]], fromlist=["main"])
    return module.main(args[1:])


if __name__ == "__main__":
    sys.exit(main())
