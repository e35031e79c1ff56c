// A passwordless sign-in page with amazon-cognito-identity-js, the client library the AWS
// custom-auth samples use: username (and a password, for flows that start with one: the library
// proves it with SRP) → (CAPTCHA) → code by SMS, e-mail or call (with "Send again" and "Send by
// email instead") → signed in → "Sign out" (everywhere: the tokens stop working). "Create an
// account" signs a user up with a phone number and no password of theirs, then signs them in: the
// first code proves the phone (VERIFY_ON_FIRST_SIGN_IN). It talks to the local
// Cognito endpoint that served it; point `endpoint` at `https://cognito-idp.<region>.amazonaws.com/`
// (and the pool and client ids at yours) for a real pool.
/* global AmazonCognitoIdentity */
'use strict';

const params = new URLSearchParams(window.location.search);
const config = {
  endpoint: params.get('endpoint') ?? `${window.location.origin}/`,
  userPoolId: params.get('pool') ?? 'us-east-1_local',
  clientId: params.get('client') ?? 'localclient0000000000000000',
  // The SAM template's pools take SignUp through a client of its own (the sign-in client may not
  // write phone_number): its id, when it differs.
  signUpClientId: params.get('signUpClient') ?? params.get('client') ?? 'localclient0000000000000000',
};
const $ = (id) => document.getElementById(id);
$('endpoint-label').textContent = config.endpoint;

const pool = new AmazonCognitoIdentity.CognitoUserPool({
  UserPoolId: config.userPoolId,
  ClientId: config.clientId,
  endpoint: config.endpoint,
});
let user = null;
let callbacks = null;
let previous = null;
let previousChannel = null;
const CHANNEL_NAMES = { sms: 'SMS', email: 'email', voice: 'phone call' };

const show = (id) => {
  for (const section of ['username-form', 'sign-up-form', 'captcha-form', 'code-form', 'signed-in']) {
    $(section).hidden = section !== id;
  }
};
const status = (text) => { $('status').textContent = text; };

function decode(token) {
  const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(payload), (char) => char.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function challenge(parameters) {
  busy(false);
  status('');
  const left = Number(parameters.attemptsLeft);
  const same = previous?.challenge === parameters.challenge;
  // The same step again, with fewer attempts left: the last answer was wrong.
  const retry = same && left < Number(previous.attemptsLeft);
  // With fewer resends left: a new code was sent at our request.
  const resent = same && Number(parameters.resendsLeft) < Number(previous.resendsLeft);
  previous = parameters;
  const note = retry ? ` ${left} attempt${left === 1 ? '' : 's'} left.` : '';
  if (parameters.challenge === 'CAPTCHA') {
    const image = parameters.provider === 'image';
    $('captcha-image').hidden = !image;
    $('captcha-widget').hidden = image;
    if (image) $('captcha-image').src = parameters.captchaImage;
    $('captcha-provider').textContent = parameters.provider;
    $('captcha-site-key').textContent = parameters.siteKey ?? '';
    $('captcha-answer').value = '';
    show('captcha-form');
    if (note) status(`Not quite.${note}`);
    $('captcha-answer').focus();
  } else {
    const channel = parameters.channel ?? 'sms';
    const to = parameters.destination ?? parameters.maskedPhone;
    const how = channel === 'voice'
      ? `We are calling ${to ?? 'your phone'} to read you a ${parameters.codeLength}-digit code.`
      : `We sent a ${parameters.codeLength}-digit code by ${CHANNEL_NAMES[channel] ?? channel}${to ? ` to ${to}` : ''}.`;
    $('code-prompt').textContent = how;
    $('code').value = '';
    $('code').maxLength = Number(parameters.codeLength) || 10;
    // "Send again", and "Send by … instead" for each other channel the pool offers, while the
    // sign-in may still ask for a new code.
    const more = Number(parameters.resendsLeft) > 0;
    $('resend').hidden = !more;
    $('switches').replaceChildren(...(more ? (parameters.channels ?? '').split(',').filter(Boolean) : []).map((other) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.id = `switch-${other}`;
      button.textContent = other === 'voice' ? 'Call me instead' : `Send by ${CHANNEL_NAMES[other] ?? other} instead`;
      button.addEventListener('click', () => {
        busy(true);
        status('…');
        user.sendCustomChallengeAnswer('switch', callbacks, { otpAction: 'switch', otpChannel: other });
      });
      return button;
    }));
    show('code-form');
    if (note) status(`That code was not right.${note}`);
    if (resent && parameters.resendRefused) {
      status('No new code was sent: wait a little before asking again. The last code still works.');
    } else if (resent) {
      status(`We sent a new code${channel === previousChannel ? '' : ` by ${CHANNEL_NAMES[channel] ?? channel}`}. The earlier one no longer works.`);
    }
    previousChannel = channel;
    $('code').focus();
  }
}

// One request at a time: a second submit would present a session already used.
function busy(on) {
  for (const button of document.querySelectorAll('form button')) button.disabled = on;
}

function signedIn(session) {
  busy(false);
  const claims = decode(session.getIdToken().getJwtToken());
  $('welcome').textContent = `Signed in as ${claims['cognito:username']}`;
  $('claims').textContent = JSON.stringify(claims, null, 2);
  status('');
  show('signed-in');
}

function failed(error) {
  busy(false);
  status(`Sign-in failed: ${error.message ?? error}`);
  show('username-form');
}

function signIn(username, password) {
  user = new AmazonCognitoIdentity.CognitoUser({ Username: username, Pool: pool });
  user.setAuthenticationFlowType('CUSTOM_AUTH');
  callbacks = { onSuccess: signedIn, onFailure: failed, customChallenge: challenge };
  previous = null;
  busy(true);
  status('…');
  const details = new AmazonCognitoIdentity.AuthenticationDetails({ Username: username, Password: password });
  if (password) {
    // CUSTOM_AUTH starting with SRP_A: the password is proved first (PASSWORD_VERIFIER), then the
    // flow's next steps come as custom challenges.
    user.authenticateUser(details, callbacks);
  } else {
    user.initiateAuth(details, callbacks);
  }
}

$('username-form').addEventListener('submit', (event) => {
  event.preventDefault();
  signIn($('username').value.trim(), $('password').value);
});

$('show-sign-up').addEventListener('click', () => {
  status('');
  show('sign-up-form');
  $('new-username').focus();
});
$('cancel-sign-up').addEventListener('click', () => show('username-form'));

// Cognito's SignUp wants a password: a random one nobody keeps (sign-in never asks for it).
function unusedPassword() {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `${btoa(String.fromCharCode(...bytes))}aA1!`;
}

$('sign-up-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const username = $('new-username').value.trim();
  const phone = new AmazonCognitoIdentity.CognitoUserAttribute({ Name: 'phone_number', Value: $('new-phone').value.trim() });
  busy(true);
  status('…');
  const signUpPool = new AmazonCognitoIdentity.CognitoUserPool({
    UserPoolId: config.userPoolId,
    ClientId: config.signUpClientId,
    endpoint: config.endpoint,
  });
  signUpPool.signUp(username, unusedPassword(), [phone], null, (error, result) => {
    busy(false);
    if (error) {
      status(`Sign-up failed: ${error.message ?? error}`);
      return;
    }
    if (!result.userConfirmed) {
      status('Account created; it needs confirming before you can sign in.');
      return;
    }
    $('username').value = username;
    signIn(username, '');
  });
});

$('captcha-form').addEventListener('submit', (event) => {
  event.preventDefault();
  busy(true);
  user.sendCustomChallengeAnswer($('captcha-answer').value, callbacks);
});

$('code-form').addEventListener('submit', (event) => {
  event.preventDefault();
  busy(true);
  user.sendCustomChallengeAnswer($('code').value.trim(), callbacks);
});

// Custom auth has no resend API: answer the round with ClientMetadata {otpAction: "resend"}
// instead. The answer is never compared and uses up no attempt; the session goes on with a new code.
$('resend').addEventListener('click', () => {
  busy(true);
  status('…');
  user.sendCustomChallengeAnswer('resend', callbacks, { otpAction: 'resend' });
});

// Signs out everywhere (GlobalSignOut): every token of the user stops working, not only this
// page's copy.
$('sign-out').addEventListener('click', () => {
  busy(true);
  user.globalSignOut({
    onSuccess: () => {
      busy(false);
      status('Signed out: your tokens no longer work.');
      show('username-form');
    },
    onFailure: (error) => {
      // The tokens may be gone already (expired, or the pool restarted): forget them here all
      // the same.
      busy(false);
      user.signOut();
      status(`Signed out on this page (${error.message ?? error}).`);
      show('username-form');
    },
  });
});

// The local endpoint's SMS inbox, so the demo works without a phone.
async function pollInbox() {
  try {
    const answer = await fetch(new URL('local/sms', config.endpoint));
    if (answer.ok) {
      const { messages } = await answer.json();
      if (messages.length) {
        $('inbox').replaceChildren(...messages.slice().reverse().map(({ to, body }) => {
          const item = document.createElement('li');
          item.textContent = `${to}: ${body}`;
          return item;
        }));
      }
    }
  } catch {
    // Not the local endpoint (a real pool): no inbox.
  }
  setTimeout(pollInbox, 1000);
}
pollInbox();
