// The IAM and guardrail resources of serverless.yml (loaded as a `resources` entry), built from
// the params when the service is read, so the packaged template holds only what applies (no
// CloudFormation conditions on values the framework already knows).
//
// - One role per function with only that function's share, as the SAM template gives it: writing
//   its own log group; its kind of state-table items (dynamodb:LeadingKeys) with only the actions
//   it uses (nothing may delete a LOCK# failed attempt or a GUESS# answer counter); the secrets
//   it reads, each by ARN, and the secrets' KMS key through Secrets Manager only; for the create
//   function, sending from the one origination identity (and, with email_otp, the one SES
//   identity).
// - An alarm on codes sent per hour (a metric filter on the create function's `"sms": "sent"`
//   log line), and reserved concurrency on the create function when asked for.
// - The framework's `existing: true` custom resource narrowed to what it does.
"use strict";

const join = (...parts) => ({ "Fn::Join": ["", parts] });
const partition = { Ref: "AWS::Partition" };
const region = { Ref: "AWS::Region" };
const account = { Ref: "AWS::AccountId" };
const arn = (service, resource) => join("arn:", partition, `:${service}:`, region, ":", account, `:${resource}`);
const table = { "Fn::GetAtt": ["StateTable", "Arn"] };

const policy = (name, ...statements) => ({
  PolicyName: name,
  PolicyDocument: { Version: "2012-10-17", Statement: statements },
});
const allow = (action, resource, condition) => ({
  Effect: "Allow",
  Action: action,
  Resource: resource,
  ...(condition ? { Condition: condition } : {}),
});
const items = (...prefixes) => ({ "ForAllValues:StringLike": { "dynamodb:LeadingKeys": prefixes } });
const logs = (fn) => policy("logs", allow(["logs:CreateLogStream", "logs:PutLogEvents"], { "Fn::GetAtt": [`${fn}LogGroup`, "Arn"] }));
const readSecret = (name, secretArn) => (secretArn ? [policy(name, allow("secretsmanager:GetSecretValue", secretArn))] : []);
const role = (policies) => ({
  Type: "AWS::IAM::Role",
  Properties: {
    AssumeRolePolicyDocument: {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
    },
    Policies: policies,
  },
});
// A name or an ARN, as End User Messaging accepts either.
const smsResource = (value, kind) => (value.startsWith("arn:") ? value : arn("sms-voice", `${kind}/${value}`));

module.exports = async ({ resolveVariable }) => {
  const param = async (name) => String((await resolveVariable(`param:${name}`)) ?? "");
  const service = await resolveVariable("self:service");
  const stage = await resolveVariable("sls:stage");
  const kmsKey = await param("secretsKmsKeyArn");
  const verifyOnFirstSignIn = (await param("verifyOnFirstSignIn")) === "true";
  const decrypt = kmsKey
    ? [policy("decrypt-secrets", allow("kms:Decrypt", kmsKey, { StringEquals: { "kms:ViaService": join("secretsmanager.", region, ".amazonaws.com") } }))]
    : [];

  let send;
  // The functions' default flow is sms_otp; the otp step sends by the channels of otpChannels.
  const steps = ((await param("authFlow")) || "sms_otp").split(",").map((step) => step.trim());
  const otpChannels = steps.includes("otp") ? ((await param("otpChannels")) || "sms,email").split(",").map((channel) => channel.trim()) : [];
  const sendsBy = (channel, step) => steps.includes(step) || otpChannels.includes(channel);
  if (!sendsBy("sms", "sms_otp")) {
    send = null; // no SMS step: no SMS permission
  } else if ((await param("smsProvider")) === "pinpoint") {
    send = policy("send-sign-in-codes-pinpoint", allow("mobiletargeting:SendMessages", arn("mobiletargeting", `apps/${await param("pinpointApplicationId")}/messages`)));
  } else {
    const configurationSet = await param("smsConfigurationSet");
    const protect = await param("smsProtectConfigurationId");
    send = policy(
      "send-sign-in-codes",
      allow("sms-voice:SendTextMessage", [
        await param("smsOriginationIdentity"), // an ARN (deploy/serverless-guards.js)
        arn("sms-voice", "opt-out-list/*"),
        ...(configurationSet ? [smsResource(configurationSet, "configuration-set")] : []),
        ...(protect ? [smsResource(protect, "protect-configuration")] : []),
      ]),
    );
  }

  // Codes by voice call: from the one voice number, through the configuration set and protect
  // configuration named (as for SMS).
  const voiceConfigurationSet = await param("smsConfigurationSet");
  const voiceProtect = await param("smsProtectConfigurationId");
  const call = otpChannels.includes("voice")
    ? [
        policy(
          "call-with-sign-in-codes",
          allow("sms-voice:SendVoiceMessage", [
            await param("voiceOriginationIdentity"), // an ARN (deploy/serverless-guards.js)
            arn("sms-voice", "opt-out-list/*"),
            ...(voiceConfigurationSet ? [smsResource(voiceConfigurationSet, "configuration-set")] : []),
            ...(voiceProtect ? [smsResource(voiceProtect, "protect-configuration")] : []),
          ]),
        ),
      ]
    : [];

  // Codes by e-mail: from the one SES identity, in the configuration set named.
  const emailConfigurationSet = await param("emailConfigurationSet");
  const sendEmail = sendsBy("email", "email_otp")
    ? [
        policy(
          "send-sign-in-codes-by-email",
          allow("ses:SendEmail", [
            await param("emailIdentityArn"), // an ARN (deploy/serverless-guards.js)
            ...(emailConfigurationSet ? [arn("ses", `configuration-set/${emailConfigurationSet}`)] : []),
          ]),
        ),
      ]
    : [];

  const Resources = {
    DefineAuthChallengeRole: role([
      logs("DefineAuthChallenge"),
      // One new item per failed attempt (PutItem); the failures of a user (Query).
      policy("abuse-protection-lockout", allow(["dynamodb:PutItem", "dynamodb:Query"], table, items("LOCK#*"))),
    ]),
    CreateAuthChallengeRole: role([
      logs("CreateAuthChallenge"),
      // Send claims and histories; only claims are deleted (a send that did not happen).
      policy(
        "abuse-protection-sends",
        allow(["dynamodb:GetItem", "dynamodb:PutItem"], table, items("CLAIM#*", "USER#*", "PHONE#*", "EMAIL#*")),
        allow("dynamodb:DeleteItem", table, items("CLAIM#*")),
      ),
      ...(send ? [send] : []),
      ...call,
      ...sendEmail,
      ...readSecret("read-seal-key", await param("sealKeyArn")),
      ...readSecret("read-phone-hint-secret", await param("phoneHintSecretArn")),
      ...decrypt,
    ]),
    VerifyAuthChallengeRole: role([
      logs("VerifyAuthChallenge"),
      // The answer counter of each code, counted before comparing and marked used once.
      policy("abuse-protection-answers", allow("dynamodb:UpdateItem", table, items("GUESS#*"))),
      // verifyOnFirstSignIn: the note that a code sent to an unverified destination was answered.
      ...(verifyOnFirstSignIn ? [policy("proof-notes-write", allow("dynamodb:PutItem", table, items("PROVEN#*")))] : []),
      ...readSecret("read-seal-key", await param("sealKeyArn")),
      ...readSecret("read-captcha-secret", await param("captchaSecretArn")),
      ...decrypt,
    ]),
    PreAuthenticationRole: role([
      logs("PreAuthentication"),
      policy("abuse-protection-lockout-check", allow("dynamodb:Query", table, items("LOCK#*"))),
    ]),
    PostAuthenticationRole: role([
      logs("PostAuthentication"),
      // Taking a migration note is a conditional delete: it admits one sign-in.
      policy("migration-notes-take", allow("dynamodb:DeleteItem", table, items("MIGRATED#*"))),
      // verifyOnFirstSignIn: taking a proof note, then marking that destination verified on the
      // one pool (userPoolId, required then by deploy/serverless-guards.js).
      ...(verifyOnFirstSignIn
        ? [
            policy(
              "proof-notes-take-and-mark-verified",
              allow("dynamodb:DeleteItem", table, items("PROVEN#*")),
              allow("cognito-idp:AdminUpdateUserAttributes", arn("cognito-idp", `userpool/${await param("userPoolId")}`)),
            ),
          ]
        : []),
    ]),
  };
  if ((await param("signUp")) === "enabled") {
    // It reads nothing and calls nothing: its log group only.
    Resources.PreSignUpRole = role([logs("PreSignUp")]);
  }
  if ((await param("migration")) === "enabled") {
    Resources.UserMigrationRole = role([
      logs("UserMigration"),
      // The note that lets this very sign-in through PostAuthentication on the migration client.
      policy("migration-notes-write", allow("dynamodb:PutItem", table, items("MIGRATED#*"))),
      ...readSecret("read-legacy-http-token", await param("legacyHttpTokenArn")),
      ...readSecret("read-legacy-database-url", await param("legacyDatabaseUrlArn")),
      ...decrypt,
    ]);
  }

  const alarmPerHour = Number(await param("smsSendAlarmPerHour"));
  if (!Number.isInteger(alarmPerHour) || alarmPerHour < 0) {
    throw new Error(`smsSendAlarmPerHour must be a whole number of sends (0: no alarm), not "${await param("smsSendAlarmPerHour")}"`);
  }
  if (alarmPerHour > 0) {
    const namespace = `CognitoPasswordless/${service}-${stage}`;
    const topic = await param("alarmTopicArn");
    Resources.SmsSentMetricFilter = {
      Type: "AWS::Logs::MetricFilter",
      Properties: {
        LogGroupName: { Ref: "CreateAuthChallengeLogGroup" },
        FilterName: "sms-sent",
        FilterPattern: '{ ($.sms = "sent") || ($.voice = "sent") }',
        MetricTransformations: [{ MetricNamespace: namespace, MetricName: "SmsSent", MetricValue: "1", DefaultValue: 0, Unit: "Count" }],
      },
    };
    Resources.SmsSendAlarm = {
      Type: "AWS::CloudWatch::Alarm",
      Properties: {
        AlarmDescription: `More than ${alarmPerHour} sign-in codes sent in an hour (SMS pumping, or a client stuck in a loop).`,
        Namespace: namespace,
        MetricName: "SmsSent",
        Statistic: "Sum",
        Period: 3600,
        EvaluationPeriods: 1,
        Threshold: alarmPerHour,
        ComparisonOperator: "GreaterThanThreshold",
        TreatMissingData: "notBreaching",
        ...(topic ? { AlarmActions: [topic] } : {}),
      },
    };
  }

  const extensions = {};
  const concurrency = Number(await param("createReservedConcurrency"));
  if (!Number.isInteger(concurrency) || concurrency < 0) {
    throw new Error(`createReservedConcurrency must be a whole number (0: none), not "${await param("createReservedConcurrency")}"`);
  }
  if (concurrency > 0) {
    extensions.CreateAuthChallengeLambdaFunction = { Properties: { ReservedConcurrentExecutions: concurrency } };
  }

  // The framework's `existing: true` custom resource gets cognito-idp:UpdateUserPool on every
  // pool and iam:PassRole on every role. Narrowed: user pools of this account and region (or
  // the one named by userPoolId), this service's functions, PassRole to Cognito only
  // (UpdateUserPool hands a pool's own SMS role back to it). ListUserPools has no resource-level
  // permissions; the resource finds the pool by name with it.
  const functions = arn("lambda", `function:${service}-${stage}-*`);
  const poolId = await param("userPoolId");
  const customResourceLogs = arn("logs", `log-group:/aws/lambda/${service}-${stage}-custom-resource-existing-cup:*`);
  extensions.IamRoleCustomResourcesLambdaExecution = {
    Properties: {
      Policies: [
        policy(
          `${service}-${stage}-custom-resources-lambda`,
          allow("cognito-idp:ListUserPools", "*"),
          allow(["cognito-idp:DescribeUserPool", "cognito-idp:UpdateUserPool"], arn("cognito-idp", `userpool/${poolId || "*"}`)),
          allow("lambda:AddPermission", functions, { StringEquals: { "lambda:Principal": "cognito-idp.amazonaws.com" } }),
          allow("lambda:RemovePermission", functions),
          allow("iam:PassRole", join("arn:", partition, ":iam::", account, ":role/*"), { StringEquals: { "iam:PassedToService": "cognito-idp.amazonaws.com" } }),
          // Its own log group (replacing the framework's policy drops the framework's logs grant).
          allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], customResourceLogs),
        ),
      ],
    },
  };
  // stateTableEncryption=customer-managed: a key the functions' roles may use through DynamoDB
  // only; the account's administrators manage it (as with any key, they could grant themselves
  // its use).
  const encryption = await param("stateTableEncryption");
  if (encryption === "customer-managed") {
    // The roles get fixed names (with the region: role names are account-wide), and the key
    // policy names them in a condition: a reference (GetAtt) would make a cycle
    // (role -> table -> key -> role).
    const regionName = await resolveVariable("self:provider.region");
    const roles = [];
    for (const name of Object.keys(Resources).filter((resource) => resource.endsWith("Role"))) {
      const roleName = `${service}-${stage}-${regionName}-${name.replace(/Role$/, "")}`;
      if (roleName.length > 64) {
        throw new Error(`stateTableEncryption=customer-managed names the roles "<service>-<stage>-<region>-<function>", and "${roleName}" is longer than IAM's 64 characters: use a shorter stage name`);
      }
      Resources[name].Properties.RoleName = roleName;
      roles.push(join("arn:", partition, ":iam::", account, `:role/${roleName}`));
    }
    Resources.StateTableKey = {
      Type: "AWS::KMS::Key",
      Metadata: {
        checkov: {
          skip: [{
            id: "CKV_AWS_33",
            comment: "The wildcard principal is narrowed to this account (kms:CallerAccount), to calls through DynamoDB (kms:ViaService) and to the functions' roles (aws:PrincipalArn): naming the roles as principals would be a dependency cycle.",
          }],
        },
      },
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      Properties: {
        Description: `Encrypts the ${service}-${stage} abuse-protection state table.`,
        EnableKeyRotation: true,
        KeyPolicy: {
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "KeyAdministration",
              Effect: "Allow",
              Principal: { AWS: join("arn:", partition, ":iam::", account, ":root") },
              Action: ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
              Resource: "*",
            },
            // Principal "*" narrowed by conditions: the key policy itself grants the named roles
            // (a root principal would defer to IAM, and the roles carry no KMS statement).
            {
              Sid: "TheFunctionsThroughDynamoDB",
              Effect: "Allow",
              Principal: { AWS: "*" },
              Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"],
              Resource: "*",
              Condition: {
                StringEquals: { "kms:ViaService": join("dynamodb.", region, ".amazonaws.com"), "kms:CallerAccount": account },
                ArnEquals: { "aws:PrincipalArn": roles },
              },
            },
            { Sid: "DynamoDBDescribesTheKey", Effect: "Allow", Principal: { Service: "dynamodb.amazonaws.com" }, Action: ["kms:Describe*", "kms:Get*", "kms:List*"], Resource: "*" },
          ],
        },
      },
    };
    extensions.StateTable = { Properties: { SSESpecification: { SSEEnabled: true, SSEType: "KMS", KMSMasterKeyId: { Ref: "StateTableKey" } } } };
  } else if (encryption !== "aws-owned") {
    throw new Error(`stateTableEncryption must be aws-owned or customer-managed, not "${encryption}"`);
  }

  // checkov's findings, each decided (the same reasons as in template.yaml).
  const skip = (...checks) => ({ Metadata: { checkov: { skip: checks.map(([id, comment]) => ({ id, comment })) } } });
  const merge = (name, extension) => {
    extensions[name] = { ...(extensions[name] || {}), ...extension };
  };
  const noDlq = ["CKV_AWS_116", "Cognito invokes triggers (and CloudFormation custom resources) synchronously; a dead-letter queue applies only to asynchronous invocations."];
  const noVpc = ["CKV_AWS_117", "It calls only public endpoints (AWS APIs; for Verify also the CAPTCHA provider's siteverify) and needs no private network; a VPC would add NAT or endpoints and cold-start time for nothing."];
  const migrationVpc = ["CKV_AWS_117", "It reaches the legacy store over TLS; serverless.yml has no VPC option (a database in a private network: deploy with the SAM template, whose LegacyVpcSubnetIds puts this function in the VPC)."];
  const noSecretEnv = ["CKV_AWS_173", "The environment holds no secret: secrets come only as Secrets Manager ARNs (deploy/serverless-guards.js refuses plain values; scripts/check-deploy's marker test)."];
  const noCap = ["CKV_AWS_115", "It answers a step of every sign-in; a cap would fail sign-ins under load. The send rate is capped on the create function (createReservedConcurrency)."];
  for (const fn of ["DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallenge", "PreAuthentication", "PostAuthentication", "UserMigration", "PreSignUp"]) {
    if (fn === "UserMigration" && !Resources.UserMigrationRole) continue;
    if (fn === "PreSignUp" && !Resources.PreSignUpRole) continue;
    const checks = [noDlq, fn === "UserMigration" ? migrationVpc : noVpc, noSecretEnv];
    if (fn === "CreateAuthChallenge") {
      if (concurrency === 0) checks.push(["CKV_AWS_115", "Reserved concurrency is the createReservedConcurrency param; off by default because accounts with the initial quota of 10 cannot reserve any."]);
    } else {
      checks.push(noCap);
    }
    merge(`${fn}LambdaFunction`, skip(...checks));
    merge(`${fn}LogGroup`, skip(["CKV_AWS_158", "The logs hold no code, secret, token, password or whole phone number (tests scan trace-level logs for them); CloudWatch encrypts log data at rest by default."]));
  }
  merge("CustomDashresourceDashexistingDashcupLambdaFunction", skip(noDlq, noVpc, ["CKV_AWS_115", "The framework's custom resource runs only during deployments."], ["CKV_AWS_173", "The framework's custom resource has no secret in its environment."]));
  merge("StateTable", skip(
    ["CKV_AWS_28", "Point-in-time recovery does not apply: every item expires within two days, and losing them only resets throttles and lockouts early."],
    ...(encryption === "customer-managed" ? [] : [["CKV_AWS_119", "A customer-managed key is the stateTableEncryption param; by default DynamoDB's own key encrypts it."]]),
  ));
  merge("ServerlessDeploymentBucket", skip(["CKV_AWS_18", "The deployment bucket holds only the packaged zips and templates (no secrets, no user data); access logging would need a second bucket."]));
  return { Resources, extensions };
};
