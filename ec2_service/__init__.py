"""The Sanic service behind the VPC Link: one HTTP route per route in ``shared.routes``."""
