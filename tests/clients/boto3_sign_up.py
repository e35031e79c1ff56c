#!/usr/bin/env python3
"""Passwordless sign-up through boto3 against `local-cognito serve` with the PreSignUp trigger,
VERIFY_ON_FIRST_SIGN_IN and a state table: a sign-up with a premium-rate number, one without a
phone and one claiming a verified phone are refused with the trigger's message; a good one is
confirmed with its phone unverified; the first sign-in sends the code to that phone, a right
answer gives tokens and PostAuthentication marks the phone verified (AdminGetUser shows it); a
second sign-in works the same; a taken name is refused.

Usage: boto3_sign_up.py ENDPOINT_URL CLIENT_ID POOL_ID   (exits non-zero on the first failed check)
Needs: boto3 (PyPI).
"""
import json
import re
import sys
import time
import urllib.request

import boto3
from botocore.exceptions import ClientError

if not __debug__:
    sys.exit("run without -O / PYTHONOPTIMIZE: this script's checks are assert statements")

ENDPOINT, CLIENT, POOL = sys.argv[1], sys.argv[2], sys.argv[3]
cognito = boto3.client(
    "cognito-idp",
    endpoint_url=ENDPOINT,
    region_name="us-east-1",
    aws_access_key_id="local",
    aws_secret_access_key="local",
)
NAME, PHONE = "dana", "+12065550123"


def inbox():
    with urllib.request.urlopen(f"{ENDPOINT}/local/sms") as answer:
        return json.load(answer)["messages"]


def refused(attributes, expected):
    try:
        cognito.sign_up(
            ClientId=CLIENT, Username="mallory", Password="Unused-passw0rd!",
            UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
        )
    except ClientError as error:
        assert error.response["Error"]["Code"] == "UserLambdaValidationException", error.response
        message = error.response["Error"]["Message"]
        assert message == f"PreSignUp failed with error {expected}.", message
        return
    raise AssertionError(f"sign-up with {attributes} was accepted")


def attributes_of(name):
    user = cognito.admin_get_user(UserPoolId=POOL, Username=name)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}, user["UserStatus"]


def sign_in():
    seen = len(inbox())
    start = cognito.initiate_auth(
        ClientId=CLIENT, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": NAME}
    )
    assert start["ChallengeName"] == "CUSTOM_CHALLENGE", start
    for _ in range(100):
        messages = inbox()
        if len(messages) > seen:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("no code arrived")
    message = messages[-1]
    assert message["to"].endswith("0123"), message["to"]
    code = re.search(r"\b(\d{6})\b", message["body"]).group(1)
    done = cognito.respond_to_auth_challenge(
        ClientId=CLIENT,
        ChallengeName="CUSTOM_CHALLENGE",
        Session=start["Session"],
        ChallengeResponses={"USERNAME": NAME, "ANSWER": code},
    )
    assert "IdToken" in done["AuthenticationResult"], done


refused({"phone_number": "+19005550123"},
        "This kind of phone number cannot receive sign-in codes: use a mobile number")
refused({"email": "mallory@example.com"}, "A phone number is required to sign up")
refused({"phone_number": PHONE, "phone_number_verified": "true"},
        "A phone number or e-mail address cannot be marked verified at sign-up")
try:
    cognito.admin_get_user(UserPoolId=POOL, Username="mallory")
    raise AssertionError("a refused sign-up created a user")
except ClientError as error:
    assert error.response["Error"]["Code"] == "UserNotFoundException", error.response

answer = cognito.sign_up(
    ClientId=CLIENT, Username=NAME, Password="Unused-passw0rd!",
    UserAttributes=[{"Name": "phone_number", "Value": PHONE}],
)
assert answer["UserConfirmed"] is True, answer
attributes, status = attributes_of(NAME)
assert status == "CONFIRMED", status
assert attributes["phone_number_verified"] == "false", attributes
assert attributes["sub"] == answer["UserSub"], (attributes, answer)

sign_in()
for _ in range(50):
    attributes, _ = attributes_of(NAME)
    if attributes["phone_number_verified"] == "true":
        break
    time.sleep(0.1)
assert attributes["phone_number_verified"] == "true", attributes

# The phone is verified now: a second sign-in is an ordinary one. (After the 8 s in which a
# second sign-in at the same place shares the first one's code instead of sending another.)
time.sleep(9)
sign_in()

try:
    cognito.sign_up(ClientId=CLIENT, Username=NAME, Password="Unused-passw0rd!",
                    UserAttributes=[{"Name": "phone_number", "Value": PHONE}])
    raise AssertionError("a taken name signed up again")
except ClientError as error:
    assert error.response["Error"]["Code"] == "UsernameExistsException", error.response

print("boto3 sign-up: OK")
