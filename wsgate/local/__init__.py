"""``wsgate local``: the whole chat stack (DynamoDB, service, gateway, authorizer) on one box."""
