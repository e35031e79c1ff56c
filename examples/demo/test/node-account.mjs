// What an app does around a sign-in, with amazon-cognito-identity-js under Node, against
// `local-cognito serve` (VERIFY_ON_FIRST_SIGN_IN and a state table): signUp (a refused number,
// then a good one), the code to the new phone, getUserAttributes (the phone verified),
// updateAttributes (a name allowed and read back, the phone refused), globalSignOut (the tokens
// refused after), forgotPassword / confirmPassword (the code e-mailed to a verified address).
//
// Usage: node test/node-account.mjs ENDPOINT_URL CLIENT_ID
import {
  AuthenticationDetails, CognitoUser, CognitoUserAttribute, CognitoUserPool,
} from 'amazon-cognito-identity-js';

const [endpoint, clientId] = process.argv.slice(2);
const base = endpoint.replace(/\/$/, '');
const pool = new CognitoUserPool({ UserPoolId: 'us-east-1_local', ClientId: clientId, endpoint: `${base}/` });
const fail = (message) => {
  console.error(`node account: ${message}`);
  process.exit(1);
};
const inbox = async () => (await (await fetch(`${base}/local/sms`)).json()).messages;
const codeAfter = async (seen) => {
  for (let tries = 0; tries < 100; tries += 1) {
    const messages = await inbox();
    if (messages.length > seen) return messages.at(-1).body.match(/\b(\d{6})\b/)[1];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no message arrived');
};
const promised = (call) => new Promise((resolve, reject) => call((error, result) => (error ? reject(error) : resolve(result))));
const phone = (number) => new CognitoUserAttribute({ Name: 'phone_number', Value: number });

const refusedSignUp = await promised((done) => pool.signUp('grace', 'Unused-passw0rd!', [phone('+19005550123')], null, done))
  .then(() => fail('a premium-rate number signed up'), (error) => error);
if (refusedSignUp.code !== 'UserLambdaValidationException') fail(`refused sign-up: ${refusedSignUp.code}`);

const signedUp = await promised((done) => pool.signUp('grace', 'Unused-passw0rd!', [phone('+12065550188')], null, done));
if (!signedUp.userConfirmed) fail('the sign-up was not confirmed');

const user = new CognitoUser({ Username: 'grace', Pool: pool });
user.setAuthenticationFlowType('CUSTOM_AUTH');
const seen = (await inbox()).length;
await new Promise((resolve, reject) => {
  user.initiateAuth(new AuthenticationDetails({ Username: 'grace' }), {
    onSuccess: resolve,
    onFailure: reject,
    customChallenge() {
      codeAfter(seen).then((code) => user.sendCustomChallengeAnswer(code, this), reject);
    },
  });
}).catch((error) => fail(`sign-in: ${error.code} ${error.message}`));

const attributes = Object.fromEntries((await promised((done) => user.getUserAttributes(done)))
  .map((attribute) => [attribute.getName(), attribute.getValue()]));
if (attributes.phone_number_verified !== 'true') fail(`attributes ${JSON.stringify(attributes)}`);

await promised((done) => user.updateAttributes([new CognitoUserAttribute({ Name: 'given_name', Value: 'Grace' })], done));
const named = Object.fromEntries((await promised((done) => user.getUserAttributes(done)))
  .map((attribute) => [attribute.getName(), attribute.getValue()]));
if (named.given_name !== 'Grace') fail(`given_name not kept: ${JSON.stringify(named)}`);
const moved = await promised((done) => user.updateAttributes([phone('+12065550199')], done))
  .then(() => fail('a user moved their phone'), (error) => error);
if (moved.code !== 'NotAuthorizedException') fail(`moving the phone: ${moved.code}`);

const accessToken = user.getSignInUserSession().getAccessToken().getJwtToken();
await new Promise((resolve, reject) => user.globalSignOut({ onSuccess: resolve, onFailure: reject }));
const getUser = await fetch(`${base}/`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.GetUser' },
  body: JSON.stringify({ AccessToken: accessToken }),
});
if (getUser.status !== 400 || (await getUser.json()).__type !== 'NotAuthorizedException') {
  fail('the access token still works after globalSignOut');
}
const after = new CognitoUser({ Username: 'grace', Pool: pool });

// An administrator gives grace a verified address: the pool (AccountRecovery verified_email)
// e-mails reset codes there.
const admin = await fetch(`${base}/`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.AdminUpdateUserAttributes' },
  body: JSON.stringify({ UserPoolId: 'us-east-1_local', Username: 'grace', UserAttributes: [
    { Name: 'email', Value: 'grace@example.com' }, { Name: 'email_verified', Value: 'true' }] }),
});
if (admin.status !== 200) fail(`AdminUpdateUserAttributes: ${admin.status}`);
const before = (await inbox()).length;
await new Promise((resolve, reject) => after.forgotPassword({ onSuccess: resolve, onFailure: reject, inputVerificationCode: resolve }));
const code = await codeAfter(before);
await new Promise((resolve, reject) => after.confirmPassword(code, 'A-new-passw0rd!', { onSuccess: resolve, onFailure: reject }));
console.log('node account: signUp, code, getUserAttributes, updateAttributes, globalSignOut, forgotPassword/confirmPassword: OK');
