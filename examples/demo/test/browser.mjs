// The demo page in headless Chromium (Debian's, driven by playwright-core; no browser download),
// against `local-cognito serve`: user name → code from the page's own SMS inbox → signed in, with
// the decoded ID token shown; on the way, "Send again" brings a second SMS whose code is the only
// one that works. A screenshot is kept as a test artifact. With a CAPTCHA flow, checks
// that the page shows the image CAPTCHA first. In `switch` mode (AUTH_FLOW=otp), "Send by email
// instead" brings the code by e-mail instead of "Send again".
//
// Usage: node test/browser.mjs ENDPOINT_URL SCREENSHOT_PATH [sms|captcha|switch]
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
    const codeIn = async (message) => message.match(/\b(\d{6})\b/)?.[1] ?? (await fail(`no code in ${message}`));
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
  if (pageErrors.length > 0) await fail(`${pageErrors.length} page error(s): ${pageErrors.join('; ')}`);
  if (missing.length > 0) await fail(`files not served: ${missing.join('; ')}`);
} catch (error) {
  await fail(error.message);
}
await browser.close();
