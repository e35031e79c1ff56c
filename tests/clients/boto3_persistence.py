#!/usr/bin/env python3
"""`local-cognito serve --data FILE` across a restart, through boto3. Phase `before`: a sign-up
(dana), an AdminCreateUser (frank, verified phone), frank signed in (his refresh token written to
STATE_FILE), alice disabled, bob deleted. Phase `after` (a new server on the same data file):
the same users, frank's refresh token still works, alice still disabled, bob still gone.

Usage: boto3_persistence.py before|after ENDPOINT_URL CLIENT_ID POOL_ID STATE_FILE
Needs: boto3 (PyPI).
"""
import json
import sys

import local_pool
from local_pool import refused

PHASE, ENDPOINT, CLIENT, POOL, STATE = sys.argv[1:6]
cognito = local_pool.cognito(ENDPOINT)


def names():
    return sorted(user["Username"] for user in cognito.list_users(UserPoolId=POOL)["Users"])


if PHASE == "before":
    assert cognito.sign_up(ClientId=CLIENT, Username="dana", Password="Unused-passw0rd!",
                           UserAttributes=[{"Name": "phone_number", "Value": "+12065550123"}])["UserConfirmed"]
    cognito.admin_create_user(UserPoolId=POOL, Username="frank", UserAttributes=[
        {"Name": "phone_number", "Value": "+12065550166"},
        {"Name": "phone_number_verified", "Value": "true"}])
    tokens, _ = local_pool.sign_in_with_code(cognito, ENDPOINT, CLIENT, "frank")
    refresh = tokens["RefreshToken"]
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
    refused(lambda: cognito.initiate_auth(ClientId=CLIENT, AuthFlow="CUSTOM_AUTH",
                                          AuthParameters={"USERNAME": "alice"}),
            "NotAuthorizedException", "User is disabled.")
    dana = {a["Name"]: a["Value"] for a in cognito.admin_get_user(UserPoolId=POOL, Username="dana")["UserAttributes"]}
    assert dana["phone_number"] == "+12065550123", dana
    print("boto3 persistence after: OK")
