#!/usr/bin/env bash
# ensure.sh NAME PARAMETER: ensure an ECR repository and store its URI in SSM
# the way deployment scripts commonly do it with the AWS CLI. The endpoint,
# region and credentials come from the environment.
set -euo pipefail

name=$1
parameter=$2

if ! aws ecr describe-repositories --repository-names "$name" >/dev/null 2>&1; then
  aws ecr create-repository --repository-name "$name" \
    --image-scanning-configuration scanOnPush=true \
    --image-tag-mutability IMMUTABLE >/dev/null
fi

uri=$(aws ecr describe-repositories --repository-names "$name" \
  --query 'repositories[0].repositoryUri' --output text)

aws ssm put-parameter --name "$parameter" --value "$uri" --type String --overwrite >/dev/null

echo "$uri"
