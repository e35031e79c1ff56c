// The password-first flow with amazon-cognito-identity-js under Node, against `local-cognito serve`
// started with AUTH_FLOW=password,sms_otp: authenticateUser with CUSTOM_AUTH sends SRP_A, proves
// the password (PASSWORD_VERIFIER, the library's own SRP), then the code from the local SMS
// inbox; a wrong password fails with NotAuthorizedException and sends no SMS.
//
// Usage: node test/node-srp.mjs ENDPOINT_URL CLIENT_ID [USERNAME PASSWORD]
import { AuthenticationDetails, CognitoUser, CognitoUserPool } from 'amazon-cognito-identity-js';

const [endpoint, clientId, username = 'alice', password = 'alice-local-password'] = process.argv.slice(2);
const base = endpoint.replace(/\/$/, '');
const pool = new CognitoUserPool({ UserPoolId: 'us-east-1_local', ClientId: clientId, endpoint: `${base}/` });

const fail = (message) => {
  console.error(`node srp: ${message}`);
  process.exit(1);
};
const inbox = async () => (await (await fetch(`${base}/local/sms`)).json()).messages;

const signIn = async (secret) => {
  const user = new CognitoUser({ Username: username, Pool: pool });
  user.setAuthenticationFlowType('CUSTOM_AUTH');
  const seen = (await inbox()).length;
  const latestCode = async () => {
    for (let tries = 0; tries < 100; tries += 1) {
      const messages = await inbox();
      if (messages.length > seen) return messages.at(-1).body.match(/\b(\d{6})\b/)[1];
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('no SMS arrived');
  };
  const steps = [];
  const session = await new Promise((resolve, reject) => {
    user.authenticateUser(new AuthenticationDetails({ Username: username, Password: secret }), {
      onSuccess: resolve,
      onFailure: reject,
      customChallenge(parameters) {
        steps.push(parameters.challenge);
        latestCode().then((code) => user.sendCustomChallengeAnswer(code, this), reject);
      },
    });
  });
  return { session, steps, sent: (await inbox()).length - seen };
};

const wrong = await signIn(`${password}-wrong`).then(
  () => fail('a wrong password signed in'),
  (error) => error,
);
if (wrong.code !== 'NotAuthorizedException') fail(`wrong password: ${wrong.code} ${wrong.message}`);

const { session, steps, sent } = await signIn(password).catch((error) =>
  fail(`sign-in failed: ${error.code ?? ''} ${error.message}`),
);
if (!session.isValid()) fail('the session is not valid');
if (steps.join() !== 'SMS_OTP' || sent !== 1) fail(`steps ${steps}, ${sent} SMS`);
const claims = session.getIdToken().decodePayload();
if (claims['cognito:username'] !== username) fail(`claims ${JSON.stringify(claims)}`);
console.log(`node srp: a wrong password refused (${wrong.code}); password (SRP) then code signed in as ${username}`);
