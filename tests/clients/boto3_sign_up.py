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
import sys
import time

import local_pool
from local_pool import refused

ENDPOINT, CLIENT, POOL = sys.argv[1], sys.argv[2], sys.argv[3]
cognito = local_pool.cognito(ENDPOINT)
NAME, PHONE = "dana", "+12065550123"


def sign_up_refused(attributes, expected):
    refused(
        lambda: cognito.sign_up(
            ClientId=CLIENT, Username="mallory", Password="Unused-passw0rd!",
            UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
        ),
        "UserLambdaValidationException",
        f"PreSignUp failed with error {expected}.",
    )


def attributes_of(name):
    user = cognito.admin_get_user(UserPoolId=POOL, Username=name)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}, user["UserStatus"]


def sign_in():
    tokens, to = local_pool.sign_in_with_code(cognito, ENDPOINT, CLIENT, NAME)
    assert to.endswith("0123"), to
    assert "IdToken" in tokens, tokens


sign_up_refused({"phone_number": "+19005550123"},
        "This kind of phone number cannot receive sign-in codes: use a mobile number")
sign_up_refused({"email": "mallory@example.com"}, "A phone number is required to sign up")
sign_up_refused({"phone_number": PHONE, "phone_number_verified": "true"},
        "A phone number or e-mail address cannot be marked verified at sign-up")
refused(lambda: cognito.admin_get_user(UserPoolId=POOL, Username="mallory"),
        "UserNotFoundException")

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

refused(lambda: cognito.sign_up(ClientId=CLIENT, Username=NAME, Password="Unused-passw0rd!",
                                UserAttributes=[{"Name": "phone_number", "Value": PHONE}]),
        "UsernameExistsException")

print("boto3 sign-up: OK")
