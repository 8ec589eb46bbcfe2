"""The ``wsgate`` command line: a thin layer over the packages that do the work."""
