#!/usr/bin/env python3
"""Attaches the deployed triggers to an existing Cognito user pool, changing nothing else.

Cognito's UpdateUserPool resets every setting the request leaves out (the password policy, MFA,
e-mail and SMS configuration, tags, verification messages, other triggers...), so the plain
`aws cognito-idp update-user-pool --lambda-config ...` wipes a pool's configuration. This script
describes the pool, merges the triggers into its LambdaConfig, and sends back everything else as
it was. It shows the plan and changes nothing unless given --apply; after applying it describes
the pool again and proves that only the triggers changed. It also prints a checklist of the pool
settings this product relies on.

  python3 deploy/wire-existing-pool.py --user-pool-id us-east-1_AbC --stack my-stack [--apply]
  python3 deploy/wire-existing-pool.py --user-pool-id ID --function DefineAuthChallenge=arn:... ...

--stack reads the function ARNs from the SAM stack's outputs. A trigger the pool already sends to
another function is left alone unless --replace. Needs boto3 (pip install boto3) and credentials
allowed cognito-idp:DescribeUserPool, UpdateUserPool, ListUserPoolClients, DescribeUserPoolClient
(and cloudformation:DescribeStacks for --stack), GetUserPoolMfaConfig and SetUserPoolMfaConfig,
and iam:PassRole on the pool's SMS role (SmsConfiguration.SnsCallerArn), which the update sends
back. It attaches triggers only; to detach them (after deleting the stack), edit the pool's
triggers in the console.
"""
import argparse
import copy
import json
import sys

# Stack output -> the LambdaConfig key it fills.
OUTPUTS = {
    "DefineAuthChallengeFunctionArn": "DefineAuthChallenge",
    "CreateAuthChallengeFunctionArn": "CreateAuthChallenge",
    "VerifyAuthChallengeFunctionArn": "VerifyAuthChallengeResponse",
    "PreAuthenticationFunctionArn": "PreAuthentication",
    "PostAuthenticationFunctionArn": "PostAuthentication",
    "UserMigrationFunctionArn": "UserMigration",
    "PreSignUpFunctionArn": "PreSignUp",
}
# DescribeUserPool's names for the few UpdateUserPool parameters called differently.
RENAMED = {"Name": "PoolName"}
# What DescribeUserPool reports that UpdateUserPool does not set (fixed at creation, or status).
# Anything else it reports must be sent back: a key this script does not know (a newer setting
# than the installed boto3 knows) stops it, rather than letting Cognito reset that setting.
NOT_UPDATABLE = {
    "Id", "Arn", "CreationDate", "LastModifiedDate", "EstimatedNumberOfUsers", "SchemaAttributes",
    "UsernameAttributes", "AliasAttributes", "UsernameConfiguration", "Domain", "CustomDomain",
    "Status", "SmsConfigurationFailure", "EmailConfigurationFailure",
}
# Flows that sign in without the configured challenges.
PASSWORD_FLOWS = {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_AUTH"}
PROTECTED_ATTRIBUTES = {"phone_number", "email", "phone_number_verified", "email_verified"}


def update_request(pool, members):
    """The UpdateUserPool request that keeps `pool` as described: every updatable setting.
    Raises ValueError for a setting it cannot send back."""
    request = {}
    unknown = []
    for key, value in pool.items():
        name = RENAMED.get(key, key)
        if name in members and name != "UserPoolId":
            request[name] = copy.deepcopy(value)
        elif key not in NOT_UPDATABLE:
            unknown.append(key)
    if unknown:
        raise ValueError(
            f"the pool has settings this boto3 cannot send back ({', '.join(sorted(unknown))}): "
            "UpdateUserPool would reset them. Upgrade boto3 (pip install -U boto3) and run again."
        )
    # MFA is kept by SetUserPoolMfaConfig (after the update): UpdateUserPool's MfaConfiguration
    # alone is refused for pools without SMS configuration, whatever their MFA factors.
    request.pop("MfaConfiguration", None)
    # The API refuses the deprecated UnusedAccountValidityDays next to the password policy's
    # TemporaryPasswordValidityDays, which DescribeUserPool reports both of.
    admin = request.get("AdminCreateUserConfig", {})
    if "UnusedAccountValidityDays" in admin and "TemporaryPasswordValidityDays" in request.get("Policies", {}).get("PasswordPolicy", {}):
        del admin["UnusedAccountValidityDays"]
    request["UserPoolId"] = pool["Id"]
    return request


def mfa_settings(client, pool_id):
    """The pool's MFA configuration, as GetUserPoolMfaConfig reports it."""
    settings = client.get_user_pool_mfa_config(UserPoolId=pool_id)
    settings.pop("ResponseMetadata", None)
    return settings


def merge_triggers(lambda_config, wanted, replace):
    """(merged LambdaConfig, [(trigger, what happens)], [conflicts])"""
    merged = dict(lambda_config)
    plan, conflicts = [], []
    for trigger, arn in wanted.items():
        current = lambda_config.get(trigger)
        if current == arn:
            plan.append((trigger, "unchanged"))
        elif current is None:
            merged[trigger] = arn
            plan.append((trigger, f"added: {arn}"))
        elif replace:
            merged[trigger] = arn
            plan.append((trigger, f"replaced: {current} -> {arn}"))
        else:
            conflicts.append((trigger, current))
    return merged, plan, conflicts


def checklist(client, pool_id, pool):
    """What the product relies on that this script does not change: printed for a person."""
    lines = []
    case_sensitive = pool.get("UsernameConfiguration", {}).get("CaseSensitive", True)
    if case_sensitive:
        lines.append("[ ] The pool's user names are case sensitive: `Alice` and `alice` are different users, "
                     "each with their own limits. Prefer a case-insensitive pool (a new pool; it cannot be changed).")
    else:
        lines.append("[x] User names are case insensitive.")
    if pool.get("DeletionProtection") != "ACTIVE":
        lines.append("[ ] Deletion protection is off: aws cognito-idp update-user-pool ... --deletion-protection ACTIVE "
                     "(or run this script again after setting it in the console).")
    if not pool.get("AdminCreateUserConfig", {}).get("AllowAdminCreateUserOnly", False):
        lines.append("[ ] Anyone may sign up: sign-up can make the pool send codes to any number "
                     "(SMS pumping). Allow admin-created users only, or add the sign-up policy.")
    clients = []
    token = None
    while True:
        page = client.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60, **({"NextToken": token} if token else {}))
        clients += page.get("UserPoolClients", [])
        token = page.get("NextToken")
        if not token:
            break
    for summary in clients:
        described = client.describe_user_pool_client(UserPoolId=pool_id, ClientId=summary["ClientId"])["UserPoolClient"]
        name = f"{described.get('ClientName', '')} ({described['ClientId']})"
        flows = set(described.get("ExplicitAuthFlows", [])) & PASSWORD_FLOWS
        if flows:
            lines.append(f"[ ] App client {name} allows {', '.join(sorted(flows))}: a sign-in there skips the "
                         "configured challenges. Keep such flows only on a migration client listed in "
                         "MIGRATION_CLIENT_IDS, and list the passwordless clients in PREAUTH_ALLOWED_CLIENT_IDS.")
        writable = set(described.get("WriteAttributes", [])) if "WriteAttributes" in described else None
        if writable is None or writable & PROTECTED_ATTRIBUTES or any(a.startswith("custom:") for a in writable):
            lines.append(f"[ ] App client {name} lets signed-in users write phone_number, email or custom: "
                         "attributes (no WriteAttributes list means all of them): a stolen session could move where "
                         "codes go. List WriteAttributes explicitly (see template.yaml's clients).")
        if described.get("PreventUserExistenceErrors") != "ENABLED":
            lines.append(f"[ ] App client {name} reveals which users exist: set PreventUserExistenceErrors to ENABLED.")
    lines.append("[ ] PREAUTH_ALLOWED_CLIENT_IDS lists the app clients that may sign in at all "
                 f"(this pool has {len(clients)}: {', '.join(c['ClientId'] for c in clients) or 'none'}).")
    return lines


def main(argv=None, session=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--user-pool-id", required=True)
    parser.add_argument("--stack", help="the SAM stack whose outputs name the functions")
    parser.add_argument("--function", action="append", default=[], metavar="TRIGGER=ARN",
                        help="a trigger and its function's ARN (repeatable), instead of or besides --stack")
    parser.add_argument("--region")
    parser.add_argument("--replace", action="store_true", help="replace triggers the pool already sends elsewhere")
    parser.add_argument("--apply", action="store_true", help="update the pool (without it, only the plan is shown)")
    args = parser.parse_args(argv)

    if session is None:
        import boto3
        session = boto3.session.Session(region_name=args.region)
    cognito = session.client("cognito-idp")

    wanted = {}
    if args.stack:
        stack = session.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]
        for output in stack.get("Outputs", []):
            if output["OutputKey"] in OUTPUTS:
                wanted[OUTPUTS[output["OutputKey"]]] = output["OutputValue"]
    for item in args.function:
        trigger, _, arn = item.partition("=")
        if trigger not in OUTPUTS.values() or not arn.startswith("arn:"):
            parser.error(f"--function {item}: expected TRIGGER=ARN with TRIGGER one of {', '.join(OUTPUTS.values())}")
        wanted[trigger] = arn
    if not wanted:
        parser.error("no functions: give --stack or --function")

    pool = cognito.describe_user_pool(UserPoolId=args.user_pool_id)["UserPool"]
    members = cognito.meta.service_model.operation_model("UpdateUserPool").input_shape.members
    try:
        request = update_request(pool, members)
    except ValueError as error:
        print(f"Not applied: {error}", file=sys.stderr)
        return 2
    mfa = mfa_settings(cognito, args.user_pool_id)
    merged, plan, conflicts = merge_triggers(pool.get("LambdaConfig", {}), wanted, args.replace)
    request["LambdaConfig"] = merged

    print(f"User pool {args.user_pool_id} ({pool.get('Name', '')}):")
    for trigger, what in plan:
        print(f"  {trigger}: {what}")
    for trigger, current in conflicts:
        print(f"  {trigger}: already sends to {current}; left alone (--replace to change it)")
    kept = sorted(key for key in request if key not in ("UserPoolId", "LambdaConfig"))
    others = sorted(set(pool.get("LambdaConfig", {})) - set(wanted))
    print(f"  kept as described: {', '.join(kept) or 'nothing else is set'}")
    if others:
        print(f"  other triggers kept: {', '.join(others)}")
    print("\nChecklist:")
    for line in checklist(cognito, args.user_pool_id, pool):
        print(f"  {line}")

    if conflicts and not args.replace:
        print("\nNot applied: resolve the triggers above first.", file=sys.stderr)
        return 2
    if not args.apply:
        print("\nNothing changed (dry run). Run again with --apply to update the pool.")
        return 0
    cognito.update_user_pool(**request)
    if mfa_settings(cognito, args.user_pool_id) != mfa:
        set_members = cognito.meta.service_model.operation_model("SetUserPoolMfaConfig").input_shape.members
        cognito.set_user_pool_mfa_config(
            UserPoolId=args.user_pool_id, **{key: value for key, value in mfa.items() if key in set_members}
        )
    if mfa_settings(cognito, args.user_pool_id) != mfa:
        print("\nThe pool's MFA settings differ after the update: check them in the console.", file=sys.stderr)
        return 1
    after = cognito.describe_user_pool(UserPoolId=args.user_pool_id)["UserPool"]
    # Every setting must read as before, the triggers aside (and what UpdateUserPool cannot
    # change: moto, for one, drops UsernameConfiguration, which Cognito never changes).
    changed = sorted(
        key for key in set(pool) | set(after)
        if key not in NOT_UPDATABLE and key != "LambdaConfig" and pool.get(key) != after.get(key)
    )
    if after.get("LambdaConfig", {}) != merged or changed:
        print(f"\nThe pool differs from the plan after the update: {', '.join(changed) or 'LambdaConfig'}", file=sys.stderr)
        print(json.dumps({key: [pool.get(key), after.get(key)] for key in changed}, default=str, indent=2), file=sys.stderr)
        return 1
    print("\nApplied: the triggers are attached and every other setting is as it was.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
