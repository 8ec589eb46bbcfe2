"""The Lambdas' logic, importable without Chalice's app object (tests, the local gateway)."""
