"""``python -m wsgate``: the same command line as the ``wsgate`` script."""

from wsgate.cli.main import main

if __name__ == "__main__":
    main()
