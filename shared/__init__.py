"""The single source of truth for wsgate: client models, integration models and the route table.

Everything else (the CloudFormation in ``infra/``, the Sanic service in ``ec2_service/``, the
local gateway and the schema export) derives from the objects declared here, so a route or a
validation rule exists in exactly one place.
"""
