"""Run the AWS SAM translator on a template, offline, and print the CloudFormation it produces.

usage: python3 translate.py TEMPLATE > out.json

Local CodeUri values (".") are replaced by S3 URIs first, as `sam package` does after `sam build`.
Managed policies named by string resolve through a fixed table instead of IAM, so no AWS account is
needed; a name outside it fails the translation (prefer inline least-privilege statements).
Exits 1 with the translator's messages on an invalid template.
"""

import json
import os
import sys

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "AWSLambdaSQSQueueExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
}


class PolicyLoader:
    def load(self):
        return MANAGED_POLICIES


def main(path):
    with open(path, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    for name, res in template.get("Resources", {}).items():
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            if not props["CodeUri"].startswith("s3://"):
                props["CodeUri"] = "s3://sam-artifacts/%s.zip" % name
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    try:
        out = transform(template, {}, PolicyLoader())
    except InvalidDocumentException as e:
        for cause in e.causes:
            print("SAM translator: %s" % cause.message, file=sys.stderr)
        return 1
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
