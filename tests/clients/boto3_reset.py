#!/usr/bin/env python3
"""ForgotPassword and ConfirmForgotPassword through boto3 against `local-cognito serve
--account-recovery verified_email` with a legacy user service and MIGRATION_FORGOT_PASSWORD=true:
a legacy user the pool does not have (ada) is migrated by the reset and gets the code by e-mail;
a wrong code is refused, the right one sets the new password once (proved by USER_PASSWORD_AUTH
on the migration client: a wrong password is "Incorrect", the new one reaches
PostAuthentication); a user nobody has gets an answer of the same shape and no message; five
wrong codes end alice's code.

Usage: boto3_reset.py ENDPOINT_URL CLIENT_ID POOL_ID MIGRATION_CLIENT_ID
Needs: boto3 (PyPI).
"""
import re
import sys
import time

import local_pool
from local_pool import refused

ENDPOINT, CLIENT, POOL, MIGRATION = sys.argv[1:5]
cognito = local_pool.cognito(ENDPOINT)


def inbox():
    return local_pool.inbox(ENDPOINT)


def code_after(seen):
    return local_pool.code_after(ENDPOINT, seen)


# A legacy user, migrated by the reset.
seen = len(inbox())
sent = cognito.forgot_password(ClientId=MIGRATION, Username="ada")["CodeDeliveryDetails"]
assert sent["DeliveryMedium"] == "EMAIL" and sent["AttributeName"] == "email", sent
to, code = code_after(seen)
assert to.endswith("@example.com") and "ada@" not in to, to
assert cognito.admin_get_user(UserPoolId=POOL, Username="ada")["UserStatus"] == "RESET_REQUIRED"
wrong = str((int(code) + 1) % 1_000_000).zfill(6)
refused(lambda: cognito.confirm_forgot_password(
    ClientId=MIGRATION, Username="ada", ConfirmationCode=wrong, Password="New-passw0rd!"),
    "CodeMismatchException")
cognito.confirm_forgot_password(ClientId=MIGRATION, Username="ada", ConfirmationCode=code,
                                Password="New-passw0rd!")
assert cognito.admin_get_user(UserPoolId=POOL, Username="ada")["UserStatus"] == "CONFIRMED"
# A code passes once.
refused(lambda: cognito.confirm_forgot_password(
    ClientId=MIGRATION, Username="ada", ConfirmationCode=code, Password="Other-passw0rd!"),
    "ExpiredCodeException")


def password_sign_in(password):
    return cognito.initiate_auth(ClientId=MIGRATION, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": "ada", "PASSWORD": password})


assert refused(lambda: password_sign_in("right password"), "NotAuthorizedException") == \
    "Incorrect username or password."
# The new password passes; PostAuthentication then refuses a user already in the pool on the
# migration client (without a state table no migration note admits her).
message = refused(lambda: password_sign_in("New-passw0rd!"), "NotAuthorizedException")
assert "one-time code" in message, message

# Nobody: an answer of the same shape (a stand-in address, stable for the name), nothing sent.
seen = len(inbox())
sent = cognito.forgot_password(ClientId=CLIENT, Username="nobody")["CodeDeliveryDetails"]
assert set(sent) == {"Destination", "DeliveryMedium", "AttributeName"}, sent
assert sent["DeliveryMedium"] == "EMAIL" and sent["AttributeName"] == "email", sent
assert re.fullmatch(r"[a-z]\*\*\*@[a-z]\*\*\*", sent["Destination"]), sent
again = cognito.forgot_password(ClientId=CLIENT, Username="nobody")["CodeDeliveryDetails"]
assert again == sent, (again, sent)
time.sleep(0.5)
assert len(inbox()) == seen, "a code was sent for nobody"
refused(lambda: cognito.confirm_forgot_password(
    ClientId=CLIENT, Username="nobody", ConfirmationCode="123456", Password="x-Passw0rd!"),
    "ExpiredCodeException")

# alice: by e-mail to her verified address, in the same shape; five wrong codes end the code.
seen = len(inbox())
sent = cognito.forgot_password(ClientId=CLIENT, Username="alice")["CodeDeliveryDetails"]
assert sent == {"Destination": "a***@e***", "DeliveryMedium": "EMAIL",
                "AttributeName": "email"}, sent
to, code = code_after(seen)
assert to == "a***@example.com", to
wrong = str((int(code) + 1) % 1_000_000).zfill(6)
for _ in range(5):
    refused(lambda: cognito.confirm_forgot_password(
        ClientId=CLIENT, Username="alice", ConfirmationCode=wrong, Password="New-passw0rd!"),
        "CodeMismatchException")
refused(lambda: cognito.confirm_forgot_password(
    ClientId=CLIENT, Username="alice", ConfirmationCode=code, Password="New-passw0rd!"),
    "ExpiredCodeException")

print("boto3 reset: OK")
