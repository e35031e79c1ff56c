#!/usr/bin/env python3
"""deploy/wire-existing-pool.py against moto's Cognito (in process, no network): it adds the
triggers and keeps every other setting of the pool, which a plain UpdateUserPool with only a
LambdaConfig does not (shown first, so this test can see a reset when there is one).

Run by scripts/check-deploy: python3 tests/deploy/test_wire_existing_pool.py
"""
import contextlib
import importlib.util
import io
import os
import pathlib
import sys

if not __debug__:
    sys.exit("run without -O: the checks below are assertions")

os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
os.environ.pop("AWS_ENDPOINT_URL", None)
import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("wire", ROOT / "deploy" / "wire-existing-pool.py")
wire = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wire)

FN = "arn:aws:lambda:us-east-1:123456789012:function:"
OURS = {
    "DefineAuthChallenge": FN + "define",
    "CreateAuthChallenge": FN + "create",
    "VerifyAuthChallengeResponse": FN + "verify",
    "PreAuthentication": FN + "pre-authentication",
    "PostAuthentication": FN + "post-authentication",
}


def make_pool(client):
    return client.create_user_pool(
        PoolName="existing",
        Policies={"PasswordPolicy": {"MinimumLength": 14, "RequireSymbols": False, "TemporaryPasswordValidityDays": 3}},
        LambdaConfig={"PreSignUp": FN + "their-pre-sign-up", "CustomMessage": FN + "their-messages"},
        UserPoolTags={"team": "identity"},
        DeletionProtection="ACTIVE",
        EmailVerificationSubject="Your code",
        EmailVerificationMessage="Code: {####}",
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        UsernameConfiguration={"CaseSensitive": False},
        AccountRecoverySetting={"RecoveryMechanisms": [{"Name": "admin_only", "Priority": 1}]},
    )["UserPool"]["Id"]


def run(session, *args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = wire.main(list(args), session=session)
    return code, out.getvalue()


UPDATABLE = {"AccountRecoverySetting", "AdminCreateUserConfig", "DeletionProtection", "EmailConfiguration",
             "EmailVerificationMessage", "EmailVerificationSubject", "MfaConfiguration", "Policies", "Name",
             "SmsVerificationMessage", "UserPoolTags", "VerificationMessageTemplate", "AutoVerifiedAttributes",
             "UserAttributeUpdateSettings", "DeviceConfiguration", "SmsConfiguration", "UserPoolAddOns",
             "SmsAuthenticationMessage", "UserPoolTier"}


def settings(pool):
    """What UpdateUserPool can change, but the triggers. (moto also drops UsernameConfiguration
    on update, which Cognito never changes: not this script's to keep.)"""
    return {key: value for key, value in pool.items() if key in UPDATABLE}


@mock_aws
def main():
    session = boto3.session.Session(region_name="us-east-1")
    cognito = session.client("cognito-idp")
    functions = [f"--function={trigger}={arn}" for trigger, arn in OURS.items()]

    # The problem: UpdateUserPool with only a LambdaConfig resets the rest.
    naive = make_pool(cognito)
    before = cognito.describe_user_pool(UserPoolId=naive)["UserPool"]
    cognito.update_user_pool(UserPoolId=naive, LambdaConfig=OURS)
    after = cognito.describe_user_pool(UserPoolId=naive)["UserPool"]
    assert settings(after) != settings(before), "the stand-in no longer shows UpdateUserPool's reset"
    assert "PreSignUp" not in after["LambdaConfig"]

    pool = make_pool(cognito)
    client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="legacy-web", ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]
    before = cognito.describe_user_pool(UserPoolId=pool)["UserPool"]

    # A dry run changes nothing and says what it would do, with the checklist.
    code, text = run(session, "--user-pool-id", pool, *functions)
    assert code == 0, text
    assert cognito.describe_user_pool(UserPoolId=pool)["UserPool"] == before, "a dry run changed the pool"
    assert "DefineAuthChallenge: added" in text and "Nothing changed (dry run)" in text, text
    assert f"legacy-web ({client}) allows ALLOW_USER_SRP_AUTH" in text, text
    assert "WriteAttributes" in text and "PREAUTH_ALLOWED_CLIENT_IDS" in text, text

    # Applied: our triggers added, theirs kept, every other setting as it was.
    code, text = run(session, "--user-pool-id", pool, *functions, "--apply")
    assert code == 0, text
    after = cognito.describe_user_pool(UserPoolId=pool)["UserPool"]
    assert after["LambdaConfig"] == {
        **OURS, "PreSignUp": FN + "their-pre-sign-up", "CustomMessage": FN + "their-messages",
    }, after["LambdaConfig"]
    assert settings(after) == settings(before), (settings(before), settings(after))
    assert "every other setting is as it was" in text, text

    # Running it again changes nothing; a trigger pointing elsewhere is left alone...
    code, text = run(session, "--user-pool-id", pool, *functions, "--apply")
    assert code == 0 and "DefineAuthChallenge: unchanged" in text, text
    other = f"--function=DefineAuthChallenge={FN}someone-elses"
    code, text = run(session, "--user-pool-id", pool, other, "--apply")
    assert code == 2 and "left alone" in text, text
    assert cognito.describe_user_pool(UserPoolId=pool)["UserPool"]["LambdaConfig"]["DefineAuthChallenge"] == OURS["DefineAuthChallenge"]
    # ...unless asked.
    code, text = run(session, "--user-pool-id", pool, other, "--replace", "--apply")
    assert code == 0, text
    assert cognito.describe_user_pool(UserPoolId=pool)["UserPool"]["LambdaConfig"]["DefineAuthChallenge"] == FN + "someone-elses"

    # MFA (TOTP, optional) survives. (moto keeps MFA through UpdateUserPool, so this shows only
    # that the script's MFA handling leaves it intact; Cognito's reset is what it guards against.)
    with_mfa = make_pool(cognito)
    cognito.set_user_pool_mfa_config(
        UserPoolId=with_mfa, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="OPTIONAL"
    )
    mfa_before = cognito.get_user_pool_mfa_config(UserPoolId=with_mfa)
    mfa_before.pop("ResponseMetadata")
    code, text = run(session, "--user-pool-id", with_mfa, *functions, "--apply")
    assert code == 0, text
    mfa_after = cognito.get_user_pool_mfa_config(UserPoolId=with_mfa)
    mfa_after.pop("ResponseMetadata")
    assert mfa_after == mfa_before, (mfa_before, mfa_after)
    assert mfa_after["MfaConfiguration"] == "OPTIONAL"

    # Function ARNs from the SAM stack's outputs.
    cloudformation = session.client("cloudformation")
    cloudformation.create_stack(StackName="passwordless", TemplateBody='{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": {'
        + ", ".join(f'"{key}": {{"Value": "{OURS[trigger]}"}}' for key, trigger in wire.OUTPUTS.items() if trigger in OURS) + "}}")
    fresh = make_pool(cognito)
    code, text = run(session, "--user-pool-id", fresh, "--stack", "passwordless", "--apply")
    assert code == 0, text
    assert {k: v for k, v in cognito.describe_user_pool(UserPoolId=fresh)["UserPool"]["LambdaConfig"].items() if k in OURS} == OURS
    print("wire-existing-pool: adds the triggers, keeps every other setting, refuses conflicts, dry run by default")


main()
