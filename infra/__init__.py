"""CloudFormation for the tutorial's architecture, generated from the route table (troposphere)."""
