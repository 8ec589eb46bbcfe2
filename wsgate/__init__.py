"""What a wsgate user runs: the command line, the local gateway, ``wsgate local``, the bench.

The application itself lives beside this package (``shared``, ``ec2_service``, ``chalice_app``,
``infra``); nothing here is imported by what runs on an instance or in a Lambda.
"""
