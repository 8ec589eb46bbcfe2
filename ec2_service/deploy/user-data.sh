#!/bin/bash
# User data of every fleet instance. infra/user_data.py turns each @@-delimited name below
# into an Fn::Sub variable for the launch template; the boot rehearsal test fills them in itself.
#
# Fetch the artifact, run its install script, and tell CloudFormation how it went: SUCCESS only
# when the service answered /health, FAILURE on any error, so the Auto Scaling Group's
# CreationPolicy / rolling update fails fast instead of waiting out its timeout.
set -uo pipefail
export AWS_DEFAULT_REGION="@@AWS::Region@@"
export WSGATE_TABLE_NAME="@@ConnectionsTable@@"
export WSGATE_REGION="@@AWS::Region@@"
export WSGATE_PORT="@@ServicePort@@"
export WSGATE_API_ID="@@WebSocketApi@@"
export WSGATE_STAGE="@@StageName@@"
export WSGATE_INTEGRATION_SECRET_ID="@@IntegrationSecret@@"
stack="@@AWS::StackName@@"
resource="@@SignalResource@@"
work="$(mktemp -d)"

instance_id() {  # IMDSv2 (the launch template requires tokens)
    local token
    token="$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' \
        http://169.254.169.254/latest/api/token)" &&
        curl -sf -H "X-aws-ec2-metadata-token: $token" \
            http://169.254.169.254/latest/meta-data/instance-id
}

signal() {  # retried: a lost signal costs the whole CreationPolicy timeout
    local id attempt
    id="$(instance_id)" || id="unknown-instance"
    for attempt in 1 2 3 4 5; do
        aws cloudformation signal-resource --stack-name "$stack" \
            --logical-resource-id "$resource" --unique-id "$id" --status "$1" && return 0
        sleep $((attempt * 3))
    done
    return 1
}

verify() {  # the key ends in the first 12 hex digits of the artifact's sha256 (wsgate build)
    local key="@@ArtifactKey@@" expected actual
    expected="${key%.tar.gz}"
    expected="${expected##*-}"
    actual="$(sha256sum "$1" | cut -c1-12)"
    [ "$actual" = "$expected" ] && return 0
    echo "artifact sha256 starts with $actual, but its key says $expected: re-upload it" >&2
    return 1
}

boot() {
    aws s3 cp --only-show-errors "s3://@@ArtifactBucket@@/@@ArtifactKey@@" "$work/artifact.tar.gz" &&
        verify "$work/artifact.tar.gz" &&
        tar -xzf "$work/artifact.tar.gz" -C "$work" &&
        "$work/wsgate-service/install.sh"
}

if boot; then
    signal SUCCESS
else
    echo "wsgate boot failed: see /var/log/cloud-init-output.log" >&2
    signal FAILURE
    exit 1
fi
