// The demo page in headless Chromium (Debian's, driven by playwright-core; no browser download),
// against `local-cognito serve`: user name → code from the page's own SMS inbox → signed in, with
// the decoded ID token shown; on the way, "Send again" brings a second SMS whose code is the only
// one that works. A screenshot is kept as a test artifact. With a CAPTCHA flow, checks
// that the page shows the image CAPTCHA first. In `switch` mode (AUTH_FLOW=otp), "Send by email
// instead" brings the code by e-mail instead of "Send again". In `sign-up` mode (with
// VERIFY_ON_FIRST_SIGN_IN and a state table), "Create an account" with a phone number, the code
// sent there, signed in, then "Sign out": the access token the page held is refused afterwards.
// In `password` mode (AUTH_FLOW=password,captcha,sms_otp with a widget CAPTCHA whose stand-in
// accepts the token `good-token`): a wrong password refused, then the password (SRP), the
// CAPTCHA token, the code.
//
// Usage: node test/browser.mjs ENDPOINT_URL SCREENSHOT_PATH [sms|captcha|switch|sign-up|password]
import { chromium } from 'playwright-core';

const [endpoint, screenshot, mode = 'sms'] = process.argv.slice(2);
const base = endpoint.replace(/\/$/, '');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const fail = async (message) => {
  console.error(`browser: ${message}`);
  await browser.close();
  process.exit(1);
};
try {
  const page = await browser.newPage();
  // An uncaught error in the page fails the test, even when the flow happens to finish.
  const pageErrors = [];
  page.on('pageerror', (error) => {
    console.error(`page error: ${error.message}`);
    pageErrors.push(error.message);
  });
  // So does a file of the page that is missing (its icon included) or a refused API call other
  // than a wrong answer.
  const missing = [];
  page.on('response', (response) => {
    if (response.request().method() === 'GET' && response.status() >= 400) {
      missing.push(`${response.status()} ${response.url()}`);
    }
  });
  await page.goto(`${base}/demo/`);
  const icon = await page.getAttribute('link[rel="icon"]', 'href');
  const iconResponse = await page.request.get(new URL(icon, `${base}/demo/`).href);
  if (!iconResponse.ok() || !iconResponse.headers()['content-type']?.startsWith('image/svg+xml')) {
    await fail(`the page's icon ${icon} is not served (${iconResponse.status()})`);
  }
  const codeIn = async (message) => message.match(/\b(\d{6})\b/)?.[1] ?? (await fail(`no code in ${message}`));
  const inboxCount = () => page.$$eval('#inbox li:not(.empty)', (items) => items.length);
  // The code of the message that arrives after `count` messages.
  const nextCode = async (count) => {
    await page.waitForFunction((seen) => document.querySelectorAll('#inbox li:not(.empty)').length > seen, count, { timeout: 10_000 });
    return codeIn(await page.textContent('#inbox li'));
  };
  if (mode === 'sign-up') {
    const before = await inboxCount();
    await page.click('#show-sign-up');
    await page.fill('#new-username', 'erin');
    await page.fill('#new-phone', '+12065550177');
    await page.click('#sign-up');
    await page.waitForSelector('#code-form:not([hidden])', { timeout: 10_000 });
    const newest = async () => page.textContent('#inbox li');
    const code = await nextCode(before);
    if (!(await newest()).startsWith('+*******0177:')) await fail(`the code did not go to the new phone: ${await newest()}`);
    await page.fill('#code', code);
    await page.click('#verify');
    await page.waitForSelector('#signed-in:not([hidden])', { timeout: 10_000 });
    const welcome = await page.textContent('#welcome');
    if (welcome !== 'Signed in as erin') await fail(`unexpected result: ${welcome}`);
    // The ID token already says so: PostAuthentication marked the phone verified before the
    // tokens were made.
    const claims = JSON.parse(await page.textContent('#claims'));
    if (claims.phone_number_verified !== true) await fail(`ID token: ${JSON.stringify(claims)}`);
    const token = await page.evaluate(() => Object.entries(localStorage).find(([key]) => key.endsWith('.accessToken'))?.[1]);
    if (!token) await fail('no access token kept by the page');
    const getUser = () => page.evaluate(async ([url, accessToken]) => {
      const answer = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.GetUser' },
        body: JSON.stringify({ AccessToken: accessToken }),
      });
      return { status: answer.status, body: await answer.json() };
    }, [`${base}/`, token]);
    const before_sign_out = await getUser();
    const attributes = Object.fromEntries((before_sign_out.body.UserAttributes ?? []).map(({ Name, Value }) => [Name, Value]));
    if (before_sign_out.status !== 200 || attributes.phone_number_verified !== 'true') {
      await fail(`the phone is not verified after the first code: ${JSON.stringify(before_sign_out)}`);
    }
    await page.screenshot({ path: screenshot, fullPage: true });
    await page.click('#sign-out');
    await page.waitForSelector('#username-form:not([hidden])', { timeout: 10_000 });
    const after = await getUser();
    if (after.status !== 400 || after.body.__type !== 'NotAuthorizedException') {
      await fail(`the access token still works after signing out: ${JSON.stringify(after)}`);
    }
    console.log(`browser: signed up, ${welcome}, phone verified, signed out (the token is refused); screenshot ${screenshot}`);
  } else if (mode === 'password') {
    await page.fill('#username', 'alice');
    await page.fill('#password', 'not-alices-password');
    await page.click('#start');
    await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Sign-in failed'), null, { timeout: 10_000 });
    await page.fill('#password', 'alice-local-password');
    await page.click('#start');
    await page.waitForSelector('#captcha-form:not([hidden])', { timeout: 10_000 });
    if (await page.isVisible('#captcha-image')) await fail('an image CAPTCHA, not the widget');
    const before = await inboxCount();
    await page.fill('#captcha-answer', 'good-token');
    await page.click('#captcha-submit');
    await page.waitForSelector('#code-form:not([hidden])', { timeout: 10_000 });
    await page.fill('#code', await nextCode(before));
    await page.click('#verify');
    await page.waitForSelector('#signed-in:not([hidden])', { timeout: 10_000 });
    const welcome = await page.textContent('#welcome');
    if (welcome !== 'Signed in as alice') await fail(`unexpected result: ${welcome}`);
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`browser: password (SRP), CAPTCHA, code: ${welcome}; screenshot ${screenshot}`);
  } else {
  await page.fill('#username', 'alice');
  await page.click('#start');
  if (mode === 'captcha') {
    await page.waitForSelector('#captcha-form:not([hidden])', { timeout: 10_000 });
    const source = await page.getAttribute('#captcha-image', 'src');
    if (!source?.startsWith('data:image/png;base64,')) await fail(`no CAPTCHA image: ${source}`);
    const width = await page.$eval('#captcha-image', (image) => image.naturalWidth);
    if (width < 100) await fail(`the CAPTCHA image did not load (${width} px)`);
    if (!(await page.isVisible('#captcha-image')) || (await page.isVisible('#code-form'))) {
      await fail('the CAPTCHA step is not the one shown');
    }
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log('browser: the image CAPTCHA is shown first');
  } else {
    await page.waitForSelector('#code-form:not([hidden])', { timeout: 10_000 });
    // The page's own inbox shows the SMS: take the code from there, as a tester would.
    await page.waitForSelector('#inbox li:not(.empty)', { timeout: 10_000 });
    const first = await codeIn(await page.textContent('#inbox li'));
    const sent = await page.$$eval('#inbox li', (items) => items.length);
    // "Send again" (or "Send by email instead"): a second message (newest first in the inbox),
    // and the page says so.
    const switching = mode === 'switch';
    if (switching && !(await page.textContent('#code-prompt')).includes('by SMS to +*******')) {
      await fail(`the prompt does not name the channel: ${await page.textContent('#code-prompt')}`);
    }
    await page.click(switching ? '#switch-email' : '#resend');
    await page.waitForFunction((count) => document.querySelectorAll('#inbox li').length > count, sent, { timeout: 10_000 });
    const expected = switching ? 'We sent a new code by email' : 'We sent a new code';
    await page.waitForFunction((text) => document.getElementById('status').textContent.startsWith(text), expected, { timeout: 10_000 });
    const newest = await page.textContent('#inbox li');
    if (switching && !/^a\*\*\*@example\.com:/.test(newest)) await fail(`no e-mail in the inbox: ${newest}`);
    if (switching && !(await page.textContent('#code-prompt')).includes('by email to ***@***')) {
      await fail(`the prompt does not say e-mail: ${await page.textContent('#code-prompt')}`);
    }
    const code = await codeIn(newest);
    // The first code no longer works (unless the two happen to be equal, one time in a million).
    if (first !== code) {
      await page.fill('#code', first);
      await page.click('#verify');
      await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('That code was not right'), null, { timeout: 10_000 });
    }
    await page.fill('#code', code);
    await page.click('#verify');
    await page.waitForSelector('#signed-in:not([hidden])', { timeout: 10_000 });
    const welcome = await page.textContent('#welcome');
    const claims = JSON.parse(await page.textContent('#claims'));
    if (welcome !== 'Signed in as alice' || claims.token_use !== 'id') {
      await fail(`unexpected result: ${welcome} ${JSON.stringify(claims)}`);
    }
    // Only the signed-in view shows now.
    for (const form of ['#username-form', '#captcha-form', '#code-form']) {
      if (await page.isVisible(form)) await fail(`${form} is still visible`);
    }
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`browser: ${welcome}; screenshot ${screenshot}`);
  }
  }
  if (pageErrors.length > 0) await fail(`${pageErrors.length} page error(s): ${pageErrors.join('; ')}`);
  if (missing.length > 0) await fail(`files not served: ${missing.join('; ')}`);
} catch (error) {
  await fail(error.message);
}
await browser.close();
