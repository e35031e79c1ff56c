#!/usr/bin/env python3
"""What an app does around a sign-in, through boto3 against `local-cognito serve`: GetUser and
UpdateUserAttributes with the access token (where codes go, and custom attributes, refused as
the SAM template's client refuses them), GlobalSignOut (every token of the user stops working),
RevokeToken (the refresh token and its access tokens stop working, another sign-in's do not),
AdminDisableUser (sign-in, refresh and tokens refused: "User is disabled."), AdminEnableUser, and
AdminUserGlobalSignOut.

Usage: boto3_account.py ENDPOINT_URL CLIENT_ID POOL_ID   (exits non-zero on the first failed check)
Needs: boto3 (PyPI).
"""
import sys

import local_pool
from local_pool import refused

ENDPOINT, CLIENT, POOL = sys.argv[1], sys.argv[2], sys.argv[3]
cognito = local_pool.cognito(ENDPOINT)
NAME = "alice"


def sign_in():
    tokens, _ = local_pool.sign_in_with_code(cognito, ENDPOINT, CLIENT, NAME)
    return tokens


def refresh(tokens):
    return cognito.initiate_auth(
        ClientId=CLIENT, AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
    )["AuthenticationResult"]


first = sign_in()
me = cognito.get_user(AccessToken=first["AccessToken"])
assert me["Username"] == NAME, me
attributes = {a["Name"]: a["Value"] for a in me["UserAttributes"]}
assert attributes["phone_number_verified"] == "true", attributes
assert not any(name.startswith("cognito:") for name in attributes), attributes

cognito.update_user_attributes(
    AccessToken=first["AccessToken"], UserAttributes=[{"Name": "given_name", "Value": "Alice"}]
)
me = cognito.get_user(AccessToken=first["AccessToken"])
assert {"Name": "given_name", "Value": "Alice"} in me["UserAttributes"], me
for name, value in [("phone_number", "+12065550199"), ("email", "x@example.com"),
                    ("phone_number_verified", "false"), ("custom:blocked", "false")]:
    refused(lambda: cognito.update_user_attributes(
        AccessToken=first["AccessToken"], UserAttributes=[{"Name": name, "Value": value}]),
        "NotAuthorizedException")
refused(lambda: cognito.get_user(AccessToken="not-a-token"), "NotAuthorizedException")

# RevokeToken: that sign-in's tokens stop working, another sign-in's do not.
second = sign_in()
assert refresh(first)["AccessToken"]
cognito.revoke_token(Token=first["RefreshToken"], ClientId=CLIENT)
refused(lambda: refresh(first), "NotAuthorizedException")
refused(lambda: cognito.get_user(AccessToken=first["AccessToken"]), "NotAuthorizedException",
        "Access Token has been revoked")
assert cognito.get_user(AccessToken=second["AccessToken"])["Username"] == NAME

# GlobalSignOut: every token of the user.
cognito.global_sign_out(AccessToken=second["AccessToken"])
refused(lambda: cognito.get_user(AccessToken=second["AccessToken"]), "NotAuthorizedException")
refused(lambda: refresh(second), "NotAuthorizedException")

# AdminDisableUser: no sign-in, no refresh, no token; AdminEnableUser undoes it.
third = sign_in()
cognito.admin_disable_user(UserPoolId=POOL, Username=NAME)
assert cognito.admin_get_user(UserPoolId=POOL, Username=NAME)["Enabled"] is False
refused(lambda: cognito.initiate_auth(ClientId=CLIENT, AuthFlow="CUSTOM_AUTH",
                                      AuthParameters={"USERNAME": NAME}),
        "NotAuthorizedException", "User is disabled.")
refused(lambda: refresh(third), "NotAuthorizedException")
refused(lambda: cognito.get_user(AccessToken=third["AccessToken"]), "NotAuthorizedException")
cognito.admin_enable_user(UserPoolId=POOL, Username=NAME)
assert cognito.admin_get_user(UserPoolId=POOL, Username=NAME)["Enabled"] is True

# AdminUserGlobalSignOut.
fourth = sign_in()
cognito.admin_user_global_sign_out(UserPoolId=POOL, Username=NAME)
refused(lambda: cognito.get_user(AccessToken=fourth["AccessToken"]), "NotAuthorizedException")
refused(lambda: refresh(fourth), "NotAuthorizedException")
refused(lambda: cognito.admin_disable_user(UserPoolId=POOL, Username="nobody"),
        "UserNotFoundException")

# Attributes outside the client's WriteAttributes are refused too.
fifth = sign_in()
refused(lambda: cognito.update_user_attributes(
    AccessToken=fifth["AccessToken"], UserAttributes=[{"Name": "role", "Value": "admin"}]),
    "NotAuthorizedException")

# The template's default AccountRecovery (admin_only): no self-service reset, for anyone.
for name in [NAME, "nobody"]:
    refused(lambda: cognito.forgot_password(ClientId=CLIENT, Username=name), "NotAuthorizedException",
            "User password cannot be reset in the current state.")

# A deleted user's tokens and disabled flag die with them: a new user of the same name starts
# afresh.
cognito.admin_disable_user(UserPoolId=POOL, Username=NAME)
cognito.admin_delete_user(UserPoolId=POOL, Username=NAME)
cognito.admin_create_user(UserPoolId=POOL, Username=NAME, UserAttributes=[
    {"Name": "phone_number", "Value": "+12065550100"},
    {"Name": "phone_number_verified", "Value": "true"}])
refused(lambda: cognito.get_user(AccessToken=fifth["AccessToken"]), "NotAuthorizedException")
refused(lambda: refresh(fifth), "NotAuthorizedException")
assert cognito.admin_get_user(UserPoolId=POOL, Username=NAME)["Enabled"] is True
assert cognito.get_user(AccessToken=sign_in()["AccessToken"])["Username"] == NAME

print("boto3 account: OK")
