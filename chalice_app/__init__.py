"""The Chalice project: the ``$connect`` Lambda authorizer and the ops Lambda."""
