"""The `mutualaid` command: the project's manage.py, installed as a console script."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualaid.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "mutualaid"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
