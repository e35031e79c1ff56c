#!/usr/bin/env python3
"""The `otp` step through boto3 against `local-cognito serve` (AUTH_FLOW=otp,
OTP_CHANNELS=sms,voice,email): the code by SMS first, then by a call, then by e-mail, each asked
for with ClientMetadata {"otpAction": "switch", "otpChannel": ...} on RespondToAuthChallenge, as
a "Call me instead" or "Send by email instead" button would; only the latest code signs in; a
switch to a channel the pool does not offer counts as a wrong answer.

Usage: boto3_channels.py ENDPOINT_URL CLIENT_ID   (exits non-zero on the first failed check)
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

ENDPOINT, CLIENT = sys.argv[1], sys.argv[2]
cognito = boto3.client(
    "cognito-idp",
    endpoint_url=ENDPOINT,
    region_name="us-east-1",
    aws_access_key_id="local",
    aws_secret_access_key="local",
)


def inbox():
    with urllib.request.urlopen(f"{ENDPOINT}/local/sms") as answer:
        return json.load(answer)["messages"]


def next_message(seen):
    """The newest message (SMS, call or e-mail) once there are more than `seen`."""
    for _ in range(100):
        messages = inbox()
        if len(messages) > seen:
            message = messages[-1]
            return message["to"], re.search(r"\b(\d{6})\b", message["body"]).group(1), len(messages)
        time.sleep(0.1)
    raise AssertionError("nothing arrived")


def respond(session, answer, metadata=None):
    return cognito.respond_to_auth_challenge(
        ClientId=CLIENT,
        ChallengeName="CUSTOM_CHALLENGE",
        Session=session,
        ChallengeResponses={"USERNAME": "alice", "ANSWER": answer},
        **({"ClientMetadata": metadata} if metadata else {}),
    )


seen = len(inbox())
start = cognito.initiate_auth(
    ClientId=CLIENT, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "alice"}
)
parameters = start["ChallengeParameters"]
assert parameters["challenge"] == "OTP", parameters
assert parameters["channel"] == "sms" and parameters["channels"] == "voice,email", parameters
assert parameters["destination"] == "+*******", parameters
to, sms_code, seen = next_message(seen)
assert to == "+*******0100", to

# "Call me instead".
called = respond(
    start["Session"], "switch", {"otpAction": "switch", "otpChannel": "voice"}
)
parameters = called["ChallengeParameters"]
assert parameters["channel"] == "voice" and parameters["channels"] == "sms,email", parameters
assert parameters["attemptsLeft"] == "3" and parameters["resendsLeft"] == "1", parameters
to, call_code, seen = next_message(seen)
assert to.endswith("(call)"), to

# A switch to a channel this pool does not offer is a wrong answer (an attempt is used).
faxed = respond(called["Session"], "switch", {"otpAction": "switch", "otpChannel": "fax"})
parameters = faxed["ChallengeParameters"]
assert parameters["attemptsLeft"] == "2" and parameters["channel"] == "voice", parameters
assert len(inbox()) == seen, "nothing sent"

# "Send by email instead": the last request OTP_MAX_RESENDS (2) allows.
mailed = respond(faxed["Session"], "switch", {"otpAction": "switch", "otpChannel": "email"})
parameters = mailed["ChallengeParameters"]
assert parameters["channel"] == "email" and parameters["destination"] == "***@***", parameters
assert parameters["resendsLeft"] == "0", parameters
to, email_code, seen = next_message(seen)
assert "@" in to, to

# Only the e-mailed code signs in now: the call's code is wrong (the second wrong answer of three).
session = mailed["Session"]
if call_code != email_code:
    wrong = respond(session, call_code)
    assert wrong["ChallengeParameters"]["attemptsLeft"] == "1", wrong
    session = wrong["Session"]
signed_in = respond(session, email_code)
assert "IdToken" in signed_in["AuthenticationResult"], signed_in

# A fresh sign-in past the limit: the third request ends it with a clear message.
start = cognito.initiate_auth(
    ClientId=CLIENT, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "alice"}
)
session = start["Session"]
for channel in ["email", "voice"]:
    session = respond(session, "switch", {"otpAction": "switch", "otpChannel": channel})["Session"]
try:
    respond(session, "switch", {"otpAction": "switch", "otpChannel": "sms"})
    raise AssertionError("a third request was accepted")
except ClientError as error:
    assert error.response["Error"]["Code"] == "UserLambdaValidationException", error.response
    assert "No more codes can be sent for this sign-in" in error.response["Error"]["Message"], error.response

print("boto3 channels: OK")
