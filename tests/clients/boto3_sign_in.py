#!/usr/bin/env python3
"""A CUSTOM_AUTH sign-in through boto3 (botocore's own model of the Cognito API) against the
local endpoint of `local-cognito serve`, as a client application would do it, then checks the ID
token's RS256 signature against the served JWKS and its claims.

Usage: boto3_sign_in.py ENDPOINT_URL CLIENT_ID   (exits non-zero on the first failed check)
Needs: boto3, cryptography (PyPI).
"""
import base64
import json
import re
import sys
import time
import urllib.request

import boto3
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# The checks below are assert statements: under python -O (or PYTHONOPTIMIZE) they would vanish
# and this script would pass whatever the endpoint did. Refuse to run that way.
if not __debug__:
    sys.exit("run without -O / PYTHONOPTIMIZE: this script's checks are assert statements")

ENDPOINT, CLIENT = sys.argv[1], sys.argv[2]
cognito = boto3.client(
    "cognito-idp",
    endpoint_url=ENDPOINT,
    region_name="us-east-1",
    aws_access_key_id="local",
    aws_secret_access_key="local",
)


def b64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def inbox():
    with urllib.request.urlopen(f"{ENDPOINT}/local/sms") as answer:
        return json.load(answer)["messages"]


def latest_code(seen=0):
    """The code of the newest SMS, once there are more than `seen` (polls up to 10 s)."""
    for _ in range(100):
        messages = inbox()
        if len(messages) > seen:
            return re.search(r"\b(\d{6})\b", messages[-1]["body"]).group(1), len(messages)
        time.sleep(0.1)
    raise AssertionError("no SMS arrived")


def error_code(call):
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"]
    raise AssertionError("expected an error")


def respond(session, answer, username="alice"):
    return cognito.respond_to_auth_challenge(
        ClientId=CLIENT,
        ChallengeName="CUSTOM_CHALLENGE",
        Session=session,
        ChallengeResponses={"USERNAME": username, "ANSWER": answer},
    )


started = cognito.initiate_auth(
    ClientId=CLIENT, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "alice"}
)
assert started["ChallengeName"] == "CUSTOM_CHALLENGE", started
parameters = started["ChallengeParameters"]
assert parameters["USERNAME"] == "alice" and parameters["challenge"] == "SMS_OTP", parameters
code, sent = latest_code()
wrong = "".join(str((int(digit) + 1) % 10) for digit in code)
again = respond(started["Session"], wrong)
assert again["ChallengeParameters"]["attemptsLeft"] == "2", again
assert again["Session"] != started["Session"], "a new session each round"
# A session is single use.
assert error_code(lambda: respond(started["Session"], code)) == "NotAuthorizedException"
# An answer without USERNAME is refused before it uses the session up.
assert error_code(lambda: cognito.respond_to_auth_challenge(
    ClientId=CLIENT, ChallengeName="CUSTOM_CHALLENGE", Session=again["Session"],
    ChallengeResponses={"ANSWER": code},
)) == "InvalidParameterException"
signed_in = respond(again["Session"], code)
result = signed_in["AuthenticationResult"]
assert len(inbox()) == sent, "one SMS for the sign-in"

# "Send again": answering with ClientMetadata {"otpAction": "resend"} brings a new code without
# using an attempt; the earlier code stops working; the new one signs in.
resend_start = cognito.initiate_auth(
    ClientId=CLIENT, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "alice"}
)
assert resend_start["ChallengeParameters"]["resendsLeft"] == "2", resend_start
first_code, sent = latest_code(sent)
resent = cognito.respond_to_auth_challenge(
    ClientId=CLIENT,
    ChallengeName="CUSTOM_CHALLENGE",
    Session=resend_start["Session"],
    ChallengeResponses={"USERNAME": "alice", "ANSWER": first_code},
    ClientMetadata={"otpAction": "resend"},
)
assert "AuthenticationResult" not in resent, "the right code sent with a request is no answer"
assert resent["ChallengeParameters"]["attemptsLeft"] == "3", resent
assert resent["ChallengeParameters"]["resendsLeft"] == "1", resent
second_code, sent = latest_code(sent)
resend_session = resent["Session"]
if second_code != first_code:
    refused = respond(resend_session, first_code)
    assert refused["ChallengeParameters"]["attemptsLeft"] == "2", refused
    resend_session = refused["Session"]
assert "AuthenticationResult" in respond(resend_session, second_code)
assert len(inbox()) == sent, "two SMS for the sign-in that asked again"

# The ID token verifies against the served keys, with Cognito's claims.
header_text, payload_text, signature_text = result["IdToken"].split(".")
header, claims = json.loads(b64(header_text)), json.loads(b64(payload_text))
with urllib.request.urlopen(claims["iss"] + "/.well-known/jwks.json") as answer:
    keys = {key["kid"]: key for key in json.load(answer)["keys"]}
key = keys[header["kid"]]
public = rsa.RSAPublicNumbers(
    int.from_bytes(b64(key["e"]), "big"), int.from_bytes(b64(key["n"]), "big")
).public_key()
public.verify(
    b64(signature_text),
    f"{header_text}.{payload_text}".encode(),
    padding.PKCS1v15(),
    hashes.SHA256(),
)
assert header["alg"] == "RS256"
assert claims["iss"] == f"{ENDPOINT}/us-east-1_local", claims
assert claims["aud"] == CLIENT and claims["token_use"] == "id"
assert claims["cognito:username"] == "alice" and claims["phone_number_verified"] is True
assert claims["exp"] > time.time() >= claims["auth_time"] - 5
access = json.loads(b64(result["AccessToken"].split(".")[1]))
assert access["token_use"] == "access" and access["client_id"] == CLIENT

# Refresh, then the errors an SDK must raise as the right exceptions.
refreshed = cognito.initiate_auth(
    ClientId=CLIENT,
    AuthFlow="REFRESH_TOKEN_AUTH",
    AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]},
)
assert "IdToken" in refreshed["AuthenticationResult"]
assert error_code(lambda: cognito.initiate_auth(
    ClientId="nosuchclient", AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "alice"}
)) == "ResourceNotFoundException"
assert error_code(lambda: cognito.initiate_auth(
    ClientId=CLIENT, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": "forged"}
)) == "NotAuthorizedException"
failing = cognito.initiate_auth(
    ClientId=CLIENT, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "mallory"}
)
session = failing["Session"]
# Another user's name does not go with this session.
assert error_code(lambda: respond(session, "000000", "alice")) == "NotAuthorizedException"
failing = cognito.initiate_auth(
    ClientId=CLIENT, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "mallory"}
)
session = failing["Session"]
for _ in range(2):
    session = respond(session, "000000", "mallory")["Session"]
assert error_code(lambda: respond(session, "000000", "mallory")) == "NotAuthorizedException"
print("boto3 sign-in: OK")
