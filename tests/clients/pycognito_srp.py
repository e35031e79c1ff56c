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
import re
import sys

from pycognito.aws_srp import AWSSRP

import local_pool
from local_pool import refused

ENDPOINT, CLIENT, POOL = sys.argv[1], sys.argv[2], sys.argv[3]
MIGRATION_CLIENT = sys.argv[4] if len(sys.argv) > 4 else None
cognito = local_pool.cognito(ENDPOINT)
NAME, PASSWORD = "alice", "alice-local-password"


def inbox():
    return local_pool.inbox(ENDPOINT)


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
refused(lambda: password_first(PASSWORD + "-wrong"), "NotAuthorizedException")
assert len(inbox()) == seen, "a wrong password sent an SMS"

after_password = password_first(PASSWORD)
assert after_password["ChallengeName"] == "CUSTOM_CHALLENGE", after_password
assert after_password["ChallengeParameters"]["challenge"] == "SMS_OTP", after_password
_, code = local_pool.code_after(ENDPOINT, seen)
done = cognito.respond_to_auth_challenge(
    ClientId=CLIENT, ChallengeName="CUSTOM_CHALLENGE", Session=after_password["Session"],
    ChallengeResponses={"USERNAME": NAME, "ANSWER": code},
)
assert "IdToken" in done["AuthenticationResult"], done

# USER_SRP_AUTH is not a flow of the passwordless client.
refused(lambda: AWSSRP(username=NAME, password=PASSWORD, pool_id=POOL, client_id=CLIENT,
                       client=cognito).authenticate_user(),
        "InvalidParameterException")

if MIGRATION_CLIENT:
    def user_srp(password):
        return AWSSRP(username=NAME, password=password, pool_id=POOL, client_id=MIGRATION_CLIENT,
                      client=cognito).authenticate_user()
    refused(lambda: user_srp(PASSWORD + "-wrong"), "NotAuthorizedException",
            "Incorrect username or password.")
    # Proved, then refused by PostAuthentication: its message, not "Incorrect username…".
    message = refused(lambda: user_srp(PASSWORD), "NotAuthorizedException")
    assert "Sign in with a one-time code" in message, message

print("pycognito srp: OK")
