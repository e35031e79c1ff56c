#!/usr/bin/env python3
"""Checks the CloudFormation a Serverless Framework `package` produced against this file's own
expectations (written out here, not taken from the code, so a change on either side that the
other does not follow fails):

- the functions: exactly the expected ones (user-migration and pre-sign-up only with the optional
  triggers enabled: `migration=enabled`, `signUp=enabled`, `verifyOnFirstSignIn=true`), each
  wired to its Cognito trigger, each with exactly its environment variables;
- secrets: every plain-secret variable is empty, the `…_ARN` ones are set only where given;
- IAM: no shared role; each function's own role with exactly its statements (actions, items by
  dynamodb:LeadingKeys, secrets by ARN, sending from the origination identity only); the
  framework's custom resource narrowed;
- guardrails: the send alarm, log retention, the deployment bucket closed to the public.

Usage: check_serverless_package.py TEMPLATE.json disabled|migration|sign-up
       check_serverless_package.py --self-test TEMPLATE.json disabled|migration|sign-up
(the optional triggers packaged: none, user-migration, or pre-sign-up with verifyOnFirstSignIn)
(--self-test: the clean template passes, and each of a list of deliberate breakages fails.)
"""
import copy
import json
import sys

COMMON = {
    "APP_NAME", "AUTH_FLOW", "OTP_CHANNELS", "CAPTCHA_EXPECTED_ACTION", "CAPTCHA_EXPECTED_HOSTNAMES",
    "CAPTCHA_MAX_ATTEMPTS", "CAPTCHA_MIN_SCORE", "CAPTCHA_PROVIDER", "CAPTCHA_SITE_KEY",
    "CAPTCHA_TIMEOUT_MS", "CAPTCHA_TTL_SECONDS", "CAPTCHA_VERIFY_URL", "LOCKOUT_THRESHOLD",
    "LOCKOUT_WINDOW_SECONDS", "MAX_ATTEMPTS", "OTP_LENGTH", "OTP_MAX_RESENDS", "OTP_TTL_SECONDS", "PHONE_HINT",
    "PINPOINT_APPLICATION_ID", "SMS_ALLOWED_COUNTRIES", "SMS_ALLOWED_NUMBER_TYPES",
    "SMS_CONFIGURATION_SET", "SMS_KEYWORD", "SMS_MAX_PER_DAY", "SMS_MAX_PER_HOUR", "SMS_MAX_PRICE",
    "SMS_MESSAGE_TEMPLATE", "SMS_MIN_INTERVAL_SECONDS", "SMS_ORIGINATION_IDENTITY",
    "SMS_ORIGINATION_NUMBER", "SMS_PROTECT_CONFIGURATION_ID", "SMS_PROVIDER", "SMS_TIMEOUT_MS",
    "STATE_FAILURE_MODE", "STATE_TABLE", "STATE_TIMEOUT_MS", "VERIFY_ON_FIRST_SIGN_IN",
}
OWN = {
    "DefineAuthChallenge": set(),
    "CreateAuthChallenge": {
        "PHONE_HINT_SECRET", "PHONE_HINT_SECRET_ARN", "SEAL_KEY", "SEAL_KEY_ARN", "OTP_MESSAGES",
        "OTP_MESSAGES_FILE", "OTP_WEB_ORIGIN", "EMAIL_PROVIDER", "EMAIL_FROM",
        "EMAIL_CONFIGURATION_SET", "EMAIL_SUBJECT", "EMAIL_TEXT_TEMPLATE", "EMAIL_TIMEOUT_MS",
        "OTP_PREFERRED_CHANNEL_ATTRIBUTE", "VOICE_ORIGINATION_IDENTITY", "VOICE_ID",
        "VOICE_MAX_PRICE_PER_MINUTE", "VOICE_ALLOWED_COUNTRIES",
    },
    "VerifyAuthChallenge": {"CAPTCHA_SECRET", "CAPTCHA_SECRET_ARN", "SEAL_KEY", "SEAL_KEY_ARN"},
    "PreAuthentication": {
        "PREAUTH_ALLOWED_CLIENT_IDS", "PREAUTH_BLOCKED_ATTRIBUTE", "PREAUTH_DENY_MESSAGE",
        "PREAUTH_REQUIRED_VALIDATION_KEYS", "PREAUTH_REQUIRE_VERIFIED_PHONE",
    },
    "PostAuthentication": {"MIGRATION_CLIENT_IDS", "MIGRATION_CLIENT_IDS_ARN"},
    "PreSignUp": {"SIGNUP_ALLOWED_CLIENT_IDS", "SIGNUP_REQUIRED_ATTRIBUTES"},
    "UserMigration": {
        "LEGACY_SOURCE", "LEGACY_HTTP_URL", "LEGACY_HTTP_TOKEN", "LEGACY_HTTP_TOKEN_ARN",
        "LEGACY_DATABASE_URL", "LEGACY_DATABASE_URL_ARN", "LEGACY_DATABASE_CA_FILE",
        "LEGACY_USER_QUERY", "LEGACY_TIMEOUT_MS", "LEGACY_DUMMY_HASH", "MIGRATION_MARK_VERIFIED",
        "MIGRATION_ENABLE_SMS_MFA", "MIGRATION_CUSTOM_ATTRIBUTES", "MIGRATION_FORGOT_PASSWORD", "MIGRATION_CLIENT_IDS",
        "MIGRATION_CLIENT_IDS_ARN",
    },
}
TRIGGER = {
    "DefineAuthChallenge": "DefineAuthChallenge",
    "CreateAuthChallenge": "CreateAuthChallenge",
    "VerifyAuthChallenge": "VerifyAuthChallengeResponse",
    "PreAuthentication": "PreAuthentication",
    "PostAuthentication": "PostAuthentication",
    "UserMigration": "UserMigration",
    "PreSignUp": "PreSignUp",
}
# Plain secret values: never in a packaged template (secrets go by ARN).
PLAIN_SECRETS = {"PHONE_HINT_SECRET", "SEAL_KEY", "CAPTCHA_SECRET", "LEGACY_HTTP_TOKEN", "LEGACY_DATABASE_URL"}
# Each role's state-table statements: (actions, item kinds). Nothing deletes LOCK# or GUESS#.
STATE = {
    "DefineAuthChallenge": [({"dynamodb:PutItem", "dynamodb:Query"}, {"LOCK#*"})],
    "CreateAuthChallenge": [
        ({"dynamodb:GetItem", "dynamodb:PutItem"}, {"CLAIM#*", "USER#*", "PHONE#*", "EMAIL#*"}),
        ({"dynamodb:DeleteItem"}, {"CLAIM#*"}),
    ],
    "VerifyAuthChallenge": [({"dynamodb:UpdateItem"}, {"GUESS#*"})],
    "PreAuthentication": [({"dynamodb:Query"}, {"LOCK#*"})],
    "PostAuthentication": [({"dynamodb:DeleteItem"}, {"MIGRATED#*"})],
    "UserMigration": [({"dynamodb:PutItem"}, {"MIGRATED#*"})],
    "PreSignUp": [],
}
# With VERIFY_ON_FIRST_SIGN_IN=true: Verify notes proofs, PostAuthentication takes them.
PROOF_STATE = {
    "VerifyAuthChallenge": [({"dynamodb:PutItem"}, {"PROVEN#*"})],
    "PostAuthentication": [({"dynamodb:DeleteItem"}, {"PROVEN#*"})],
}
# Which function may read which secret (by the variable whose ARN names it).
SECRET_READERS = {
    "SEAL_KEY_ARN": {"CreateAuthChallenge", "VerifyAuthChallenge"},
    "PHONE_HINT_SECRET_ARN": {"CreateAuthChallenge"},
    "CAPTCHA_SECRET_ARN": {"VerifyAuthChallenge"},
    "LEGACY_HTTP_TOKEN_ARN": {"UserMigration"},
    "LEGACY_DATABASE_URL_ARN": {"UserMigration"},
}


def as_set(value):
    """Strings as a set; CloudFormation functions (dicts) as their JSON text."""
    items = value if isinstance(value, list) else [value]
    return {item if isinstance(item, str) else json.dumps(item, sort_keys=True) for item in items}


def statements(role):
    for policy in role["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            yield policy["PolicyName"], statement


def main() -> int:
    if sys.argv[1] == "--self-test":
        return self_test(sys.argv[2], sys.argv[3])
    path, migration = sys.argv[1], sys.argv[2]
    problems = check(json.load(open(path)), migration)
    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    return 1 if problems else 0


def self_test(path, migration) -> int:
    clean = json.load(open(path))
    if check(clean, migration):
        print(f"{path}: the clean template fails the check", file=sys.stderr)
        return 1

    def role_statement(role, policy_name):
        for policy in clean_copy["Resources"][role]["Properties"]["Policies"]:
            if policy["PolicyName"] == policy_name:
                return policy["PolicyDocument"]["Statement"][0]
        raise KeyError(policy_name)

    def env(function):
        return clean_copy["Resources"][f"{function}LambdaFunction"]["Properties"]["Environment"]["Variables"]

    breakages = {
        "Define may delete failed attempts": lambda: role_statement("DefineAuthChallengeRole", "abuse-protection-lockout")["Action"].append("dynamodb:DeleteItem"),
        "a state statement on any item": lambda: role_statement("VerifyAuthChallengeRole", "abuse-protection-answers").pop("Condition"),
        "a secret value in the environment": lambda: env("VerifyAuthChallenge").update(CAPTCHA_SECRET="marker"),
        "the CAPTCHA secret reaches Create": lambda: env("CreateAuthChallenge").update(CAPTCHA_SECRET_ARN="arn:x"),
        "a variable missing": lambda: env("PreAuthentication").pop("PREAUTH_DENY_MESSAGE"),
        "sending from any identity": lambda: role_statement("CreateAuthChallengeRole", "send-sign-in-codes").update(Resource="*"),
        "Define reads a secret": lambda: clean_copy["Resources"]["DefineAuthChallengeRole"]["Properties"]["Policies"].append(
            {"PolicyName": "x", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "arn:x"}]}}),
        "a shared role": lambda: clean_copy["Resources"].update(IamRoleLambdaExecution={"Type": "AWS::IAM::Role", "Properties": {}}),
        "the send alarm gone": lambda: clean_copy["Resources"].pop("SmsSendAlarm"),
        "logs kept a month": lambda: clean_copy["Resources"]["CreateAuthChallengeLogGroup"]["Properties"].update(RetentionInDays=30),
        "marking verified on any pool": lambda: [
            statement.update(Resource="*") for _, statement in statements(clean_copy["Resources"]["PostAuthenticationRole"])
            if statement["Action"] == "cognito-idp:AdminUpdateUserAttributes"] or clean_copy["Resources"]["PostAuthenticationRole"]["Properties"]["Policies"].append(
            {"PolicyName": "x", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "cognito-idp:AdminUpdateUserAttributes", "Resource": "*"}]}}),
        "PassRole to any service": lambda: [
            statement.pop("Condition") for _, statement in statements(clean_copy["Resources"]["IamRoleCustomResourcesLambdaExecution"])
            if statement["Action"] == "iam:PassRole"],
    }
    failed = 0
    for name, breakage in breakages.items():
        clean_copy = copy.deepcopy(clean)
        breakage()
        caught = bool(check(clean_copy, migration))
        print(f"  package check, {name}: {'caught' if caught else 'MISSED'}")
        failed |= not caught
    return 1 if failed else 0


def check(template, migration):
    resources = template["Resources"]
    problems = []
    expected = set(OWN) - ({"UserMigration"} if migration != "migration" else set()) - (
        {"PreSignUp"} if migration != "sign-up" else set()
    )

    functions = {
        name.removesuffix("LambdaFunction"): resource for name, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Handler") == "bootstrap"
    }
    if set(functions) != expected:
        problems.append(f"functions {sorted(functions)}, expected {sorted(expected)}")
    if "IamRoleLambdaExecution" in resources:
        problems.append("a shared role (IamRoleLambdaExecution) exists: every function must have its own")

    env_of = {}
    for name, function in functions.items():
        env = function["Properties"].get("Environment", {}).get("Variables", {})
        env_of[name] = env
        want = COMMON | OWN.get(name, set())
        if set(env) != want:
            missing, extra = sorted(want - set(env)), sorted(set(env) - want)
            problems.append(f"{name}: variables missing {missing}, unexpected {extra}")
        for variable in PLAIN_SECRETS & set(env):
            if env[variable] != "":
                problems.append(f"{name}: {variable} holds a value (secrets go by ARN only)")
        role = function["Properties"].get("Role", {})
        if role != {"Fn::GetAtt": [f"{name}Role", "Arn"]}:
            problems.append(f"{name}: role {role}, expected its own {name}Role")

    state_table = {"Fn::GetAtt": ["StateTable", "Arn"]}
    for name in expected:
        role = resources.get(f"{name}Role")
        if role is None or role["Type"] != "AWS::IAM::Role":
            problems.append(f"{name}Role missing")
            continue
        state, secrets, sends, logs, other, admin = [], set(), [], [], [], []
        for policy, statement in statements(role):
            actions = as_set(statement["Action"])
            if statement.get("Effect") != "Allow":
                other.append((policy, statement))
            elif statement["Resource"] == state_table:
                keys = statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
                state.append((actions, set(keys or ["<any item>"])))
            elif actions == {"secretsmanager:GetSecretValue"}:
                secrets |= as_set(statement["Resource"])
            elif actions <= {"sms-voice:SendTextMessage", "sms-voice:SendVoiceMessage", "mobiletargeting:SendMessages", "ses:SendEmail"}:
                sends.append(statement)
            elif actions == {"cognito-idp:AdminUpdateUserAttributes"}:
                admin.append(statement)
            elif actions == {"logs:CreateLogStream", "logs:PutLogEvents"}:
                logs.append(statement["Resource"])
            elif actions == {"kms:Decrypt"}:
                via = statement.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")
                if via is None:
                    problems.append(f"{name}Role: kms:Decrypt without kms:ViaService")
            else:
                other.append((policy, statement))
        normal = lambda pairs: sorted((sorted(actions), sorted(keys)) for actions, keys in pairs)
        verifies = env_of.get(name, {}).get("VERIFY_ON_FIRST_SIGN_IN") == "true"
        want_state = STATE[name] + (PROOF_STATE.get(name, []) if verifies else [])
        if normal(state) != normal(want_state):
            problems.append(f"{name}Role: state-table statements {state}, expected {want_state}")
        # Marking a proved destination verified: PostAuthentication only, with the flag on, one
        # action on one named pool.
        want_admin = name == "PostAuthentication" and verifies
        if bool(admin) != want_admin or len(admin) > 1:
            problems.append(f"{name}Role: admin statements {admin}")
        for statement in admin:
            for resource in as_set(statement["Resource"]):
                if "*" in resource or ":userpool/" not in resource:
                    problems.append(f"{name}Role: AdminUpdateUserAttributes on {resource}, not one pool")
        if logs != [{"Fn::GetAtt": [f"{name}LogGroup", "Arn"]}]:
            problems.append(f"{name}Role: logs {logs}, expected only its own log group")
        allowed = {env_of.get(name, {}).get(variable) for variable, readers in SECRET_READERS.items() if name in readers}
        allowed.discard(None)
        allowed.discard("")
        given = {env_of.get(name, {}).get(variable) for variable in SECRET_READERS if name in SECRET_READERS[variable]} - {None, ""}
        if secrets != given or not secrets <= allowed:
            problems.append(f"{name}Role: reads secrets {sorted(secrets)}, expected exactly {sorted(given)}")
        steps = set((env_of.get(name, {}).get("AUTH_FLOW") or "sms_otp").split(","))
        # The channels each code step may send by (the otp step: OTP_CHANNELS).
        channels = set()
        if "sms_otp" in steps:
            channels.add("sms")
        if "email_otp" in steps:
            channels.add("email")
        if "otp" in steps:
            channels |= set((env_of.get(name, {}).get("OTP_CHANNELS") or "sms,email").split(","))
        if (name == "CreateAuthChallenge" and bool(channels)) != bool(sends):
            problems.append(f"{name}Role: send statements {sends}")
        for statement in sends:
            for resource in as_set(statement["Resource"]):
                if resource == "*" or (isinstance(resource, str) and resource.endswith(":*")):
                    problems.append(f"{name}Role: sends with resource {resource}")
            if statement["Action"] == "ses:SendEmail":
                if "email" not in channels:
                    problems.append(f"{name}Role: may send e-mail, and the flow sends none")
                for resource in as_set(statement["Resource"]):
                    if isinstance(resource, str) and ("*" in resource or ":identity/" not in resource and ":configuration-set/" not in resource):
                        problems.append(f"{name}Role: sends e-mail with resource {resource}")
            elif statement["Action"] == "sms-voice:SendVoiceMessage":
                if "voice" not in channels:
                    problems.append(f"{name}Role: may call, and the flow places no calls")
                number = env_of[name].get("VOICE_ORIGINATION_IDENTITY")
                if not number or number not in as_set(statement["Resource"]):
                    problems.append(f"{name}Role: may call from {statement['Resource']}, not only the voice number {number}")
            elif "sms" not in channels:
                problems.append(f"{name}Role: may send SMS, and the flow sends none")
            if statement["Action"] == "sms-voice:SendTextMessage":
                identity = env_of[name].get("SMS_ORIGINATION_IDENTITY")
                if identity not in as_set(statement["Resource"]):
                    problems.append(f"{name}Role: may send from {statement['Resource']}, not only the origination identity {identity}")
        if other:
            problems.append(f"{name}Role: unexpected statements {other}")

    # Every function wired to its trigger through the framework's custom resource.
    wired = {}
    for resource in resources.values():
        if resource["Type"] == "Custom::CognitoUserPool":
            for config in resource["Properties"].get("UserPoolConfigs", []):
                wired[config["Trigger"]] = config.get("LambdaArn")
    want_triggers = {TRIGGER[name] for name in expected}
    if set(wired) != want_triggers:
        problems.append(f"wired triggers {sorted(wired)}, expected {sorted(want_triggers)}")

    # The framework's custom resource, narrowed.
    custom = resources.get("IamRoleCustomResourcesLambdaExecution", {})
    for _, statement in statements(custom) if custom else []:
        actions = as_set(statement["Action"])
        if statement["Resource"] == "*" and actions != {"cognito-idp:ListUserPools"}:
            problems.append(f"custom resource: {sorted(actions)} on every resource")
        if "iam:PassRole" in actions and statement.get("Condition", {}).get("StringEquals", {}).get("iam:PassedToService") != "cognito-idp.amazonaws.com":
            problems.append("custom resource: iam:PassRole not limited to Cognito")

    # Guardrails.
    bucket = resources.get("ServerlessDeploymentBucket", {}).get("Properties", {})
    block = bucket.get("PublicAccessBlockConfiguration", {})
    if not all(block.get(key) for key in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")):
        problems.append(f"deployment bucket open to the public: {block}")
    if "SmsSendAlarm" not in resources or "SmsSentMetricFilter" not in resources:
        problems.append("no send alarm")
    elif resources["SmsSentMetricFilter"]["Properties"]["FilterPattern"] != '{ ($.sms = "sent") || ($.voice = "sent") }':
        problems.append("the send metric filter does not count the create function's send lines")
    for name in expected:
        group = resources.get(f"{name}LogGroup", {}).get("Properties", {})
        if group.get("RetentionInDays", 0) < 365:
            problems.append(f"{name}LogGroup: retention {group.get('RetentionInDays')} days, expected a year or more")

    return problems


if __name__ == "__main__":
    sys.exit(main())
