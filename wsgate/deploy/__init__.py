"""``wsgate deploy`` / ``wsgate destroy``: from an empty account to a chat, and back.

The steps (artifact bucket and upload, token secret, ``chalice deploy``, synth with the deployed
authorizer, CloudFormation change set) are planned by :mod:`wsgate.deploy.plan` from the
configuration alone, so ``--dry-run`` prints exactly the names the real run touches.
"""
