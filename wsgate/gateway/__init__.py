"""A local stand-in for API Gateway's WebSocket APIs, driven by a CloudFormation template."""
