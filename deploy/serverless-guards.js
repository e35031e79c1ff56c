// Evaluated by serverless.yml (`custom.guards`) whenever the Serverless Framework reads the
// service (package, deploy, print): refuses configurations the descriptor must never deploy.
//
// - A secret in the deploying shell's environment under a name earlier versions read with
//   `${env:…}`: such values landed in plain text in the packaged CloudFormation template (kept in
//   the deployment bucket, returned by cloudformation:GetTemplate) and in the functions'
//   configuration. Secrets now go only by Secrets Manager ARN (the …Arn params).
// - A secret ARN whose name is outside secretNamePrefix (per stage by default), so one stage's
//   functions never read another stage's secrets.
// - End User Messaging without an origination identity ARN: the create function may send only
//   from one named identity.
// - smsSendResource, replaced by the permission smsOriginationIdentity scopes.
"use strict";

const PLAIN = {
  CAPTCHA_SECRET: "captchaSecretArn",
  PHONE_HINT_SECRET: "phoneHintSecretArn",
  LEGACY_HTTP_TOKEN: "legacyHttpTokenArn",
  LEGACY_DATABASE_URL: "legacyDatabaseUrlArn",
  SEAL_KEY: "sealKeyArn",
};
// Secrets Manager's name characters (no IAM wildcard), and identity ids without wildcards.
const SECRET_ARN = /^arn:[\w-]+:secretsmanager:[\w-]+:[0-9]{12}:secret:([A-Za-z0-9/_+=.@-]+)-[A-Za-z0-9]{6}$/;
const IDENTITY_ARN = /^arn:[\w-]+:sms-voice:[\w-]+:[0-9]{12}:(phone-number|sender-id|pool)\/[A-Za-z0-9_-]+(\/[A-Z]{2})?$/;
const EMAIL_IDENTITY_ARN = /^arn:[\w-]+:ses:[\w-]+:[0-9]{12}:identity\/[A-Za-z0-9._@+-]+$/;
const VOICE_NUMBER_ARN = /^arn:[\w-]+:sms-voice:[\w-]+:[0-9]{12}:(phone-number|pool)\/[A-Za-z0-9_-]+$/;

module.exports = async ({ resolveVariable }) => {
  const param = async (name) => String((await resolveVariable(`param:${name}`)) ?? "");
  const problems = [];

  const plain = Object.keys(PLAIN).filter((name) => (process.env[name] || "") !== "");
  for (const name of plain) {
    problems.push(
      `${name} is set in this shell, and serverless.yml no longer reads secrets from the environment ` +
        `(the value would be written into the packaged template): unset it, store it in Secrets Manager ` +
        `and pass --param="${PLAIN[name]}=arn:…"`,
    );
  }

  const prefix = await param("secretNamePrefix");
  const stage = String(await resolveVariable("sls:stage"));
  // A prefix of its own per stage, ending in a "/": `…/prod` would also match `…/prod-evil/…`.
  if (!prefix.endsWith("/") || !prefix.split("/").includes(stage)) {
    problems.push(`secretNamePrefix "${prefix}" must end with "/" and name the stage ("${stage}") as one of its parts, so one stage never reads another's secrets`);
  }
  for (const name of Object.values(PLAIN)) {
    const arn = await param(name);
    if (arn === "") continue;
    const match = SECRET_ARN.exec(arn);
    if (!match) {
      problems.push(`${name} must be the full ARN of a Secrets Manager secret (with its 6-character suffix), not "${arn}"`);
    } else if (!match[1].startsWith(prefix)) {
      problems.push(`${name} names the secret "${match[1]}", outside secretNamePrefix "${prefix}" (per stage by default)`);
    }
  }

  const steps = ((await param("authFlow")) || "sms_otp").split(",").map((step) => step.trim());
  const otpChannels = steps.includes("otp") ? ((await param("otpChannels")) || "sms,email").split(",").map((channel) => channel.trim()) : [];
  const sendsBy = (channel, step) => steps.includes(step) || otpChannels.includes(channel);
  if (otpChannels.length > 1 && (await param("sealKeyArn")) === "") {
    problems.push("an otp flow with more than one channel needs sealKeyArn: the stand-in channel shown for unknown user names is keyed with it");
  }
  if (otpChannels.includes("voice")) {
    if ((await param("smsProvider")) !== "end-user-messaging") {
      problems.push("otpChannels with voice needs smsProvider end-user-messaging (Pinpoint places no calls here)");
    }
    if (!VOICE_NUMBER_ARN.test(await param("voiceOriginationIdentity"))) {
      problems.push(
        "voiceOriginationIdentity must be the ARN of the voice-capable number (or pool) to call from " +
          "(arn:aws:sms-voice:REGION:ACCOUNT:phone-number/ID or …/pool/ID): the create function may call from it only",
      );
    }
  }
  if (sendsBy("sms", "sms_otp") && (await param("smsProvider")) === "end-user-messaging" && !IDENTITY_ARN.test(await param("smsOriginationIdentity"))) {
    problems.push(
      'smsOriginationIdentity must be the ARN of the phone number, sender ID or pool to send from ' +
        "(arn:aws:sms-voice:REGION:ACCOUNT:phone-number/ID, …/sender-id/ID/COUNTRY, …/pool/ID): " +
        "the create function may send from that identity only",
    );
  }
  if (sendsBy("email", "email_otp")) {
    if (!EMAIL_IDENTITY_ARN.test(await param("emailIdentityArn"))) {
      problems.push(
        "emailIdentityArn must be the ARN of the SES identity to send code e-mails from " +
          "(arn:aws:ses:REGION:ACCOUNT:identity/example.com): the create function may send from it only",
      );
    }
    if ((await param("emailFrom")) === "") {
      problems.push("emailFrom is required when authFlow sends codes by e-mail (email_otp, or otp with email in otpChannels): an address of that SES identity");
    }
  }
  const migrationClients = (await param("migrationClientIds")).split(",").map((id) => id.trim()).filter((id) => id !== "");
  if ((await param("migration")) === "enabled" && migrationClients.length === 0) {
    problems.push(
      "migration=enabled needs migrationClientIds, the app client(s) used only for migration sign-ins: " +
        "the post-authentication function guards them, and only they may migrate users",
    );
  }
  if ((await param("verifyOnFirstSignIn")) === "true" && ((await param("migration")) === "enabled" || migrationClients.length > 0)) {
    problems.push("verifyOnFirstSignIn=true cannot be combined with migration (migration=enabled or migrationClientIds): an unverified legacy number would become a way in");
  }
  if ((await param("signUp")) === "enabled" && (await param("migration")) === "enabled") {
    problems.push("signUp=enabled cannot be combined with migration=enabled: a sign-up could take the user name of a legacy user not migrated yet");
  }
  if ((await param("verifyOnFirstSignIn")) === "true" && !/^[\w-]+_[0-9a-zA-Z]+$/.test(await param("userPoolId"))) {
    problems.push(
      "verifyOnFirstSignIn=true needs userPoolId (the pool's id): the post-authentication function may mark " +
        "destinations verified (AdminUpdateUserAttributes) on that one pool only",
    );
  }
  if ((await param("verifyOnFirstSignIn")) === "true" && (await param("preauthRequireVerifiedPhone")) === "true") {
    problems.push("verifyOnFirstSignIn=true cannot be combined with preauthRequireVerifiedPhone=true, which denies the sign-in that verifies the phone");
  }
  if ((await param("smsSendAlarmPerHour")) !== "0" && !["TRACE", "DEBUG", "INFO"].includes((await param("logLevel")).toUpperCase())) {
    problems.push("smsSendAlarmPerHour counts the create function's INFO log line per send: keep logLevel at INFO (or lower), or set smsSendAlarmPerHour to 0");
  }
  if ((await param("smsSendResource")) !== "") {
    problems.push("smsSendResource is no longer read: the send permission follows smsOriginationIdentity (an ARN)");
  }

  if (problems.length > 0) {
    throw new Error(`serverless.yml refuses this configuration:\n  - ${problems.join("\n  - ")}`);
  }
  return "passed";
};
