"""What the client scripts share: a boto3 client for `local-cognito serve`, its local inbox, the
code in the newest message, and a check that a call is refused as Cognito refuses it.

The scripts' checks are assert statements: under python -O (or PYTHONOPTIMIZE) they would vanish
and a script would pass whatever the endpoint did, so importing this module refuses to run so.
"""
import json
import re
import sys
import time
import urllib.request

import boto3
from botocore.exceptions import ClientError

if not __debug__:
    sys.exit("run without -O / PYTHONOPTIMIZE: the client scripts' checks are assert statements")


def cognito(endpoint):
    """A Cognito user-pool client for the local endpoint (no real credentials needed)."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def inbox(endpoint):
    """Every message the pool sent (SMS, calls, e-mail), oldest first."""
    with urllib.request.urlopen(f"{endpoint}/local/sms") as answer:
        return json.load(answer)["messages"]


def code_after(endpoint, seen):
    """(recipient, code) of the newest message, once there are more than `seen` (up to 10 s)."""
    for _ in range(100):
        messages = inbox(endpoint)
        if len(messages) > seen:
            message = messages[-1]
            return message["to"], re.search(r"\b(\d{6})\b", message["body"]).group(1)
        time.sleep(0.1)
    raise AssertionError("no code arrived")


def refused(call, code, message=None):
    """Runs `call`, which must fail with the exception `code` (and `message`); returns the message."""
    try:
        call()
    except ClientError as error:
        assert error.response["Error"]["Code"] == code, error.response
        if message is not None:
            assert error.response["Error"]["Message"] == message, error.response
        return error.response["Error"]["Message"]
    raise AssertionError(f"not refused: expected {code}")


def sign_in_with_code(cognito, endpoint, client, username):
    """A CUSTOM_AUTH sign-in answered with the code from the inbox: (tokens, the code's recipient)."""
    seen = len(inbox(endpoint))
    start = cognito.initiate_auth(
        ClientId=client, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": username}
    )
    assert start["ChallengeName"] == "CUSTOM_CHALLENGE", start
    to, code = code_after(endpoint, seen)
    done = cognito.respond_to_auth_challenge(
        ClientId=client,
        ChallengeName="CUSTOM_CHALLENGE",
        Session=start["Session"],
        ChallengeResponses={"USERNAME": username, "ANSWER": code},
    )
    return done["AuthenticationResult"], to
