"""Run the AWS SAM translator on a template, offline, and print the CloudFormation it produces.

usage: python3 translate.py TEMPLATE > out.json
       python3 translate.py --batch < texts.json > outs.json

Local CodeUri values (".") are replaced by S3 URIs first, as `sam package` does after `sam build`.
Managed policies named by string resolve through a fixed table instead of IAM, so no AWS account is
needed; a name outside it fails the translation (prefer inline least-privilege statements).
Exits 1 with the translator's messages on an invalid template.

--batch reads a JSON array of template texts and prints a JSON array with, for each, either
{"template": <CloudFormation>} or {"error": "<the translator's messages>"}: one Python start for many
templates (the route and environment checks translate a mutated copy of template.yaml per case).
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


def translate(text):
    """Returns (CloudFormation, None) or (None, the translator's messages)."""
    template = yaml_parse(text)
    for name, res in template.get("Resources", {}).items():
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            if not props["CodeUri"].startswith("s3://"):
                props["CodeUri"] = "s3://sam-artifacts/%s.zip" % name
    try:
        return transform(template, {}, PolicyLoader()), None
    except InvalidDocumentException as e:
        return None, "\n".join("SAM translator: %s" % cause.message for cause in e.causes)


def main(args):
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    if args == ["--batch"]:
        outs = []
        for text in json.load(sys.stdin):
            out, err = translate(text)
            outs.append({"template": out} if err is None else {"error": err})
        json.dump(outs, sys.stdout, sort_keys=True)
        return 0
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as f:
        out, err = translate(f.read())
    if err is not None:
        print(err, file=sys.stderr)
        return 1
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
