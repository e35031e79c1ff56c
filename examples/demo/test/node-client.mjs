// The seeds' client flow with amazon-cognito-identity-js under Node, against `local-cognito serve`:
// setAuthenticationFlowType('CUSTOM_AUTH'), initiateAuth, sendCustomChallengeAnswer (the code
// read from the local SMS inbox), then the session's ID token verified against the served JWKS.
//
// Usage: node test/node-client.mjs ENDPOINT_URL CLIENT_ID [USERNAME]
import { createPublicKey, verify } from 'node:crypto';
import { AuthenticationDetails, CognitoUser, CognitoUserPool } from 'amazon-cognito-identity-js';

const [endpoint, clientId, username = 'alice'] = process.argv.slice(2);
const base = endpoint.replace(/\/$/, '');
const pool = new CognitoUserPool({ UserPoolId: 'us-east-1_local', ClientId: clientId, endpoint: `${base}/` });
const user = new CognitoUser({ Username: username, Pool: pool });
user.setAuthenticationFlowType('CUSTOM_AUTH');

const fail = (message) => {
  console.error(`node client: ${message}`);
  process.exit(1);
};

const inbox = async () => (await (await fetch(`${base}/local/sms`)).json()).messages;
const seen = (await inbox()).length;
// The newest SMS's code, once it has arrived (polls up to 10 s).
const latestCode = async () => {
  for (let tries = 0; tries < 100; tries += 1) {
    const messages = await inbox();
    if (messages.length > seen) return messages.at(-1).body.match(/\b(\d{6})\b/)[1];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no SMS arrived');
};

const session = await new Promise((resolve, reject) => {
  user.initiateAuth(new AuthenticationDetails({ Username: username }), {
    onSuccess: resolve,
    onFailure: reject,
    customChallenge(parameters) {
      if (parameters.challenge !== 'SMS_OTP') {
        reject(new Error(`unexpected challenge ${JSON.stringify(parameters)}`));
        return;
      }
      latestCode().then((code) => user.sendCustomChallengeAnswer(code, this), reject);
    },
  });
}).catch((error) => fail(`sign-in failed: ${error.code ?? ''} ${error.message}`));

if (!session.isValid()) fail('the session is not valid');
const idToken = session.getIdToken().getJwtToken();
const [header, payload, signature] = idToken.split('.');
const claims = JSON.parse(Buffer.from(payload, 'base64url'));
const { kid, alg } = JSON.parse(Buffer.from(header, 'base64url'));
if (alg !== 'RS256') fail(`alg ${alg}`);
const { keys } = await (await fetch(`${claims.iss}/.well-known/jwks.json`)).json();
const jwk = keys.find((key) => key.kid === kid) ?? fail(`no key ${kid} in the JWKS`);
const key = createPublicKey({ key: jwk, format: 'jwk' });
if (!verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url'))) {
  fail('the ID token signature does not verify');
}
if (claims['cognito:username'] !== username || claims.aud !== clientId || claims.token_use !== 'id') {
  fail(`claims ${JSON.stringify(claims)}`);
}
console.log(`node client: signed in as ${claims['cognito:username']} (sub ${claims.sub}); ID token verified against the JWKS`);
