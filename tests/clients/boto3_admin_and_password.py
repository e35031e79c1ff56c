#!/usr/bin/env python3
"""Admin calls, USER_PASSWORD_AUTH (with the migration trigger for an unknown user) and the
pre-authentication trigger, through boto3 against `local-cognito serve`, which runs with
LEGACY_SOURCE=http (a legacy service that knows `ada` / `right password`) and
PREAUTH_BLOCKED_ATTRIBUTE=custom:blocked.

The endpoint mirrors the SAM template's two app clients: the passwordless one (CUSTOM_AUTH and
refresh only) and the migration one (USER_PASSWORD_AUTH and refresh only), on which
PostAuthentication refuses users who were already in the pool.

Usage: boto3_admin_and_password.py ENDPOINT_URL CLIENT_ID POOL_ID MIGRATION_CLIENT_ID
"""
import json
import re
import sys
import time
import urllib.request

import boto3
from botocore.exceptions import ClientError

# The checks below are assert statements: under python -O (or PYTHONOPTIMIZE) they would vanish
# and this script would pass whatever the endpoint did. Refuse to run that way.
if not __debug__:
    sys.exit("run without -O / PYTHONOPTIMIZE: this script's checks are assert statements")

ENDPOINT, CLIENT, POOL, MIGRATION = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
cognito = boto3.client(
    "cognito-idp",
    endpoint_url=ENDPOINT,
    region_name="us-east-1",
    aws_access_key_id="local",
    aws_secret_access_key="local",
)


def error(call):
    try:
        call()
    except ClientError as failure:
        return failure.response["Error"]["Code"], failure.response["Error"]["Message"]
    raise AssertionError("expected an error")


# Admin calls set users up.
created = cognito.admin_create_user(
    UserPoolId=POOL,
    Username="erin",
    UserAttributes=[
        {"Name": "phone_number", "Value": "+12065550188"},
        {"Name": "phone_number_verified", "Value": "true"},
    ],
    MessageAction="SUPPRESS",
)["User"]
assert created["Username"] == "erin" and created["Enabled"], created
assert any(a["Name"] == "sub" for a in created["Attributes"]), created
assert error(lambda: cognito.admin_create_user(UserPoolId=POOL, Username="erin"))[0] == "UsernameExistsException"
got = cognito.admin_get_user(UserPoolId=POOL, Username="erin")
assert {"Name": "phone_number", "Value": "+12065550188"} in got["UserAttributes"], got
names = [user["Username"] for user in cognito.list_users(UserPoolId=POOL)["Users"]]
assert "erin" in names and "alice" in names, names
assert error(lambda: cognito.list_users(UserPoolId="us-east-1_other"))[0] == "ResourceNotFoundException"

# The new user signs in passwordless.
def inbox():
    with urllib.request.urlopen(f"{ENDPOINT}/local/sms") as answer:
        return json.load(answer)["messages"]


seen = len(inbox())
started = cognito.initiate_auth(
    ClientId=CLIENT, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "erin"}
)
for _ in range(100):
    if len(inbox()) > seen:
        break
    time.sleep(0.1)
message = inbox()[-1]
assert message["to"] == "+*******0188", message
done = cognito.respond_to_auth_challenge(
    ClientId=CLIENT,
    ChallengeName="CUSTOM_CHALLENGE",
    Session=started["Session"],
    ChallengeResponses={"USERNAME": "erin", "ANSWER": re.search(r"\b(\d{6})\b", message["body"]).group(1)},
)
assert "IdToken" in done["AuthenticationResult"]
cognito.admin_delete_user(UserPoolId=POOL, Username="erin")
# A deleted user's refresh token stops working.
assert error(lambda: cognito.initiate_auth(
    ClientId=CLIENT,
    AuthFlow="REFRESH_TOKEN_AUTH",
    AuthParameters={"REFRESH_TOKEN": done["AuthenticationResult"]["RefreshToken"]},
))[0] == "NotAuthorizedException"
# sub and cognito: attributes are Cognito's own.
assert error(lambda: cognito.admin_create_user(
    UserPoolId=POOL, Username="zed", UserAttributes=[{"Name": "sub", "Value": "x"}]
))[0] == "InvalidParameterException"
assert error(lambda: cognito.admin_get_user(UserPoolId=POOL, Username="erin"))[0] == "UserNotFoundException"

# Each client allows its own flows only.
code, text = error(lambda: cognito.initiate_auth(
    ClientId=CLIENT,
    AuthFlow="USER_PASSWORD_AUTH",
    AuthParameters={"USERNAME": "alice", "PASSWORD": "alice-local-password"},
))
assert (code, text) == ("InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled for this client"), (code, text)
code, text = error(lambda: cognito.initiate_auth(
    ClientId=MIGRATION, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "alice"}
))
assert (code, text) == ("InvalidParameterException", "CUSTOM_AUTH flow not enabled for this client"), (code, text)

# USER_PASSWORD_AUTH on the migration client: a user already in the pool is refused with the
# right password (PostAuthentication: they sign in with a code), and a wrong one is wrong.
code, text = error(lambda: cognito.initiate_auth(
    ClientId=MIGRATION,
    AuthFlow="USER_PASSWORD_AUTH",
    AuthParameters={"USERNAME": "alice", "PASSWORD": "alice-local-password"},
))
assert code == "NotAuthorizedException" and "Sign in with a one-time code" in text, (code, text)
assert error(lambda: cognito.initiate_auth(
    ClientId=MIGRATION,
    AuthFlow="USER_PASSWORD_AUTH",
    AuthParameters={"USERNAME": "alice", "PASSWORD": "guess"},
))[0] == "NotAuthorizedException"

# An unknown user migrates from the legacy service on the first sign-in, and is kept.
migrated = cognito.initiate_auth(
    ClientId=MIGRATION,
    AuthFlow="USER_PASSWORD_AUTH",
    AuthParameters={"USERNAME": "ada", "PASSWORD": "right password"},
)
assert "IdToken" in migrated["AuthenticationResult"]
ada = cognito.admin_get_user(UserPoolId=POOL, Username="ada")
attributes = {a["Name"]: a["Value"] for a in ada["UserAttributes"]}
assert attributes["email"] == "ada@example.com" and attributes["email_verified"] == "true", attributes
# Now in the pool, ada is refused there like anyone else: from now on, a one-time code.
code, text = error(lambda: cognito.initiate_auth(
    ClientId=MIGRATION,
    AuthFlow="USER_PASSWORD_AUTH",
    AuthParameters={"USERNAME": "ada", "PASSWORD": "right password"},
))
assert code == "NotAuthorizedException" and "Sign in with a one-time code" in text, (code, text)
assert error(lambda: cognito.initiate_auth(
    ClientId=MIGRATION,
    AuthFlow="USER_PASSWORD_AUTH",
    AuthParameters={"USERNAME": "grace", "PASSWORD": "right password"},
))[0] == "NotAuthorizedException"

# PreAuthentication runs before a sign-in: a blocked user is refused as Cognito reports it.
cognito.admin_create_user(
    UserPoolId=POOL,
    Username="mallet",
    UserAttributes=[{"Name": "custom:blocked", "Value": "true"}],
)
code, text = error(lambda: cognito.initiate_auth(
    ClientId=CLIENT, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "mallet"}
))
assert code == "NotAuthorizedException", (code, text)
# Cognito appends its own full stop to the trigger's message, as real pools do.
assert text == "PreAuthentication failed with error Sign-in is not allowed for this account.", text
print("boto3 admin and password: OK")
