"""The artifact bucket: created once with versioning, encryption and no public access; holds
the service artifact under versioned keys and the templates too large to send inline."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import ClientError

from shared.names import StackNames, s3_object_url
from wsgate.deploy.errors import BucketError

SHA256_METADATA = "sha256"


class BuiltArtifact(Protocol):
    """What ``wsgate.artifact.build_artifact`` returns (only the fields deploy reads)."""

    @property
    def path(self) -> Path: ...
    @property
    def sha256(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def architecture(self) -> str: ...


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def ensure_bucket(s3: Any, bucket: str, region: str) -> bool:
    """Create ``bucket`` if missing; (re)apply versioning, encryption and the public-access
    block either way. True when this call created it."""
    created = False
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        if _code(error) in ("403", "AccessDenied", "Forbidden"):
            raise BucketError(
                f"bucket {bucket} exists but this account cannot use it: set another with "
                "--bucket or bucket = ... in [tool.wsgate]"
            ) from None
        if _code(error) not in ("404", "NoSuchBucket", "NotFound"):
            raise
        request: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":  # us-east-1 refuses its own name as a LocationConstraint
            request["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            s3.create_bucket(**request)
        except ClientError as create_error:
            if _code(create_error) == "BucketAlreadyExists":
                raise BucketError(
                    f"bucket name {bucket} is taken by another account: set another with "
                    "--bucket or bucket = ... in [tool.wsgate]"
                ) from None
            raise
        created = True
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    return created


def upload_artifact(s3: Any, bucket: str, artifact: BuiltArtifact) -> bool:
    """Upload the wheel under its versioned key unless that key already holds the same bytes.
    True when uploaded."""
    try:
        head = s3.head_object(Bucket=bucket, Key=artifact.key)
        if head.get("Metadata", {}).get(SHA256_METADATA) == artifact.sha256:
            return False
    except ClientError as error:
        if _code(error) not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.upload_file(
        str(artifact.path),
        bucket,
        artifact.key,
        ExtraArgs={"Metadata": {SHA256_METADATA: artifact.sha256}},
    )
    return True


def upload_template(s3: Any, bucket: str, names: StackNames, body: str, region: str) -> str:
    """Put a template under a content-addressed key; returns its ``TemplateURL``."""
    key = names.template_key(hashlib.sha256(body.encode()).hexdigest())
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/json")
    return s3_object_url(bucket, key, region)


def delete_bucket(s3: Any, bucket: str) -> bool:
    """Delete every object version and delete marker, then the bucket. False if absent."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        if _code(error) in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        doomed = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(doomed), 1000):  # DeleteObjects takes at most 1000 keys
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed[start : start + 1000]})
    s3.delete_bucket(Bucket=bucket)
    return True
