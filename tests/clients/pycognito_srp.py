#!/usr/bin/env python3
"""Cognito's SRP from an independent Python implementation (pycognito's AWSSRP, PyPI) against
`local-cognito serve`: with AUTH_FLOW=password,sms_otp, CUSTOM_AUTH starting with SRP_A, the
password proved (PASSWORD_VERIFIER), then the code from the local SMS inbox, tokens; a wrong
password fails with NotAuthorizedException; and USER_SRP_AUTH on the migration client (the one
client a password alone may sign in through): a wrong password refused as Cognito refuses it, the
right one proved and then refused by PostAuthentication (alice is already in the pool: a
password alone never skips the configured flow).

Usage: pycognito_srp.py ENDPOINT_URL CLIENT_ID POOL_ID [MIGRATION_CLIENT_ID]
Needs: boto3, pycognito (PyPI).
"""
import json
import re
import sys
import time
import urllib.request

import boto3
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP

if not __debug__:
    sys.exit("run without -O / PYTHONOPTIMIZE: this script's checks are assert statements")

ENDPOINT, CLIENT, POOL = sys.argv[1], sys.argv[2], sys.argv[3]
MIGRATION_CLIENT = sys.argv[4] if len(sys.argv) > 4 else None
cognito = boto3.client(
    "cognito-idp",
    endpoint_url=ENDPOINT,
    region_name="us-east-1",
    aws_access_key_id="local",
    aws_secret_access_key="local",
)
NAME, PASSWORD = "alice", "alice-local-password"


def inbox():
    with urllib.request.urlopen(f"{ENDPOINT}/local/sms") as answer:
        return json.load(answer)["messages"]


def password_first(password):
    """CUSTOM_AUTH with SRP_A: the PASSWORD_VERIFIER answer, as pycognito computes it."""
    srp = AWSSRP(username=NAME, password=password, pool_id=POOL, client_id=CLIENT, client=cognito)
    parameters = srp.get_auth_params()
    parameters["CHALLENGE_NAME"] = "SRP_A"
    start = cognito.initiate_auth(ClientId=CLIENT, AuthFlow="CUSTOM_AUTH", AuthParameters=parameters)
    assert start["ChallengeName"] == "PASSWORD_VERIFIER", start
    challenge = start["ChallengeParameters"]
    assert set(challenge) >= {"SALT", "SRP_B", "SECRET_BLOCK", "USER_ID_FOR_SRP", "USERNAME"}, challenge
    responses = srp.process_challenge(challenge, parameters)
    return cognito.respond_to_auth_challenge(
        ClientId=CLIENT, ChallengeName="PASSWORD_VERIFIER", Session=start["Session"],
        ChallengeResponses=responses,
    )


seen = len(inbox())
try:
    password_first(PASSWORD + "-wrong")
    raise AssertionError("a wrong password passed")
except ClientError as error:
    assert error.response["Error"]["Code"] == "NotAuthorizedException", error.response
assert len(inbox()) == seen, "a wrong password sent an SMS"

after_password = password_first(PASSWORD)
assert after_password["ChallengeName"] == "CUSTOM_CHALLENGE", after_password
assert after_password["ChallengeParameters"]["challenge"] == "SMS_OTP", after_password
for _ in range(100):
    messages = inbox()
    if len(messages) > seen:
        break
    time.sleep(0.1)
else:
    raise AssertionError("no code arrived")
code = re.search(r"\b(\d{6})\b", messages[-1]["body"]).group(1)
done = cognito.respond_to_auth_challenge(
    ClientId=CLIENT, ChallengeName="CUSTOM_CHALLENGE", Session=after_password["Session"],
    ChallengeResponses={"USERNAME": NAME, "ANSWER": code},
)
assert "IdToken" in done["AuthenticationResult"], done

# USER_SRP_AUTH is not a flow of the passwordless client.
try:
    AWSSRP(username=NAME, password=PASSWORD, pool_id=POOL, client_id=CLIENT, client=cognito).authenticate_user()
    raise AssertionError("USER_SRP_AUTH on the passwordless client")
except ClientError as error:
    assert error.response["Error"]["Code"] == "InvalidParameterException", error.response

if MIGRATION_CLIENT:
    def user_srp(password):
        return AWSSRP(username=NAME, password=password, pool_id=POOL, client_id=MIGRATION_CLIENT,
                      client=cognito).authenticate_user()
    try:
        user_srp(PASSWORD + "-wrong")
        raise AssertionError("a wrong password passed USER_SRP_AUTH")
    except ClientError as error:
        assert error.response["Error"]["Code"] == "NotAuthorizedException", error.response
        assert error.response["Error"]["Message"] == "Incorrect username or password.", error.response
    try:
        user_srp(PASSWORD)
        raise AssertionError("a password alone signed in an existing user on the migration client")
    except ClientError as error:
        # Proved, then refused by PostAuthentication: its message, not "Incorrect username…".
        assert error.response["Error"]["Code"] == "NotAuthorizedException", error.response
        assert "Sign in with a one-time code" in error.response["Error"]["Message"], error.response

print("pycognito srp: OK")
