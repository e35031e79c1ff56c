#!/usr/bin/env python3
"""Checks the CloudFormation a Serverless Framework `package` produced: the user-migration
function is there exactly when the `migration` param says `enabled`, every function is wired to
its Cognito trigger, and only the verify function carries the CAPTCHA secret variables.

Usage: check_serverless_package.py TEMPLATE.json enabled|disabled
"""
import json
import sys

TRIGGERS = {
    "DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse",
    "PreAuthentication", "PostAuthentication", "UserMigration",
}


def main() -> int:
    path, migration = sys.argv[1], sys.argv[2]
    resources = json.load(open(path))["Resources"]
    functions = {
        name: resource for name, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Handler") == "bootstrap"
    }
    names = {name.removesuffix("LambdaFunction") for name in functions}
    expected = {"DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallenge", "PreAuthentication", "PostAuthentication"}
    if migration == "enabled":
        expected.add("UserMigration")
    problems = []
    if names != expected:
        problems.append(f"functions {sorted(names)}, expected {sorted(expected)}")
    for name, function in functions.items():
        env = function["Properties"].get("Environment", {}).get("Variables", {})
        has_secret = "CAPTCHA_SECRET_ARN" in env
        if has_secret != name.startswith("VerifyAuthChallenge"):
            problems.append(f"{name}: CAPTCHA_SECRET_ARN present={has_secret}")
        if ("LEGACY_SOURCE" in env) != name.startswith("UserMigration"):
            problems.append(f"{name}: LEGACY_SOURCE misplaced")
    # `existing: true` pools are wired by the framework's custom resource: one per trigger.
    wired = set()
    for resource in resources.values():
        if resource["Type"] == "Custom::CognitoUserPool":
            for config in resource["Properties"].get("UserPoolConfigs", []):
                wired.add(config["Trigger"])
    expected_triggers = TRIGGERS if migration == "enabled" else TRIGGERS - {"UserMigration"}
    if wired != expected_triggers:
        problems.append(f"wired triggers {sorted(wired)}, expected {sorted(expected_triggers)}")
    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
