"""``python -m tenor``: the same as the ``tenor`` command."""

from tenor.cli.main import main

if __name__ == "__main__":
    main()
