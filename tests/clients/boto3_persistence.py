#!/usr/bin/env python3
"""`local-cognito serve --data FILE` across a restart, through boto3. Phase `before`: a sign-up
(dana), an AdminCreateUser (frank, verified phone), frank signed in (his refresh token written to
STATE_FILE), alice disabled, bob deleted. Phase `after` (a new server on the same data file):
the same users, frank's refresh token still works, alice still disabled, bob still gone.

Usage: boto3_persistence.py before|after ENDPOINT_URL CLIENT_ID POOL_ID STATE_FILE
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

PHASE, ENDPOINT, CLIENT, POOL, STATE = sys.argv[1:6]
cognito = boto3.client(
    "cognito-idp",
    endpoint_url=ENDPOINT,
    region_name="us-east-1",
    aws_access_key_id="local",
    aws_secret_access_key="local",
)


def code_after(seen):
    for _ in range(100):
        with urllib.request.urlopen(f"{ENDPOINT}/local/sms") as answer:
            messages = json.load(answer)["messages"]
        if len(messages) > seen:
            return re.search(r"\b(\d{6})\b", messages[-1]["body"]).group(1)
        time.sleep(0.1)
    raise AssertionError("no code arrived")


def names():
    return sorted(user["Username"] for user in cognito.list_users(UserPoolId=POOL)["Users"])


if PHASE == "before":
    assert cognito.sign_up(ClientId=CLIENT, Username="dana", Password="Unused-passw0rd!",
                           UserAttributes=[{"Name": "phone_number", "Value": "+12065550123"}])["UserConfirmed"]
    cognito.admin_create_user(UserPoolId=POOL, Username="frank", UserAttributes=[
        {"Name": "phone_number", "Value": "+12065550166"},
        {"Name": "phone_number_verified", "Value": "true"}])
    with urllib.request.urlopen(f"{ENDPOINT}/local/sms") as answer:
        seen = len(json.load(answer)["messages"])
    start = cognito.initiate_auth(ClientId=CLIENT, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "frank"})
    done = cognito.respond_to_auth_challenge(
        ClientId=CLIENT, ChallengeName="CUSTOM_CHALLENGE", Session=start["Session"],
        ChallengeResponses={"USERNAME": "frank", "ANSWER": code_after(seen)})
    refresh = done["AuthenticationResult"]["RefreshToken"]
    cognito.admin_disable_user(UserPoolId=POOL, Username="alice")
    cognito.admin_delete_user(UserPoolId=POOL, Username="bob")
    with open(STATE, "w") as state:
        json.dump({"refresh": refresh, "names": names()}, state)
    print("boto3 persistence before: OK")
else:
    with open(STATE) as state:
        kept = json.load(state)
    assert names() == kept["names"] == ["alice", "carol", "dana", "frank"], (names(), kept)
    fresh = cognito.initiate_auth(ClientId=CLIENT, AuthFlow="REFRESH_TOKEN_AUTH",
                                  AuthParameters={"REFRESH_TOKEN": kept["refresh"]})
    assert "IdToken" in fresh["AuthenticationResult"], fresh
    assert cognito.admin_get_user(UserPoolId=POOL, Username="alice")["Enabled"] is False
    try:
        cognito.initiate_auth(ClientId=CLIENT, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "alice"})
        raise AssertionError("a disabled user signed in after the restart")
    except ClientError as error:
        assert error.response["Error"]["Message"] == "User is disabled.", error.response
    dana = {a["Name"]: a["Value"] for a in cognito.admin_get_user(UserPoolId=POOL, Username="dana")["UserAttributes"]}
    assert dana["phone_number"] == "+12065550123", dana
    print("boto3 persistence after: OK")
