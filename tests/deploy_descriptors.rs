//! The deployment descriptors against the code: every binary in `functions/` is deployed by both
//! `template.yaml` (SAM) and `serverless.yml`, wired to its Cognito trigger, with exactly the
//! environment variables the code reads for that function (`cognito_passwordless::config::variables_for`) — so
//! a new variable or trigger cannot silently miss one, and a secret cannot reach a function that
//! does not need it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use cognito_passwordless::config::{VARIABLES, variables_for};
use serde_yaml_ng::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn yaml(file: &str) -> Value {
    serde_yaml_ng::from_str(&std::fs::read_to_string(root().join(file)).unwrap()).unwrap()
}

/// The Cognito `LambdaConfig` key each binary serves. A new binary must be added here, and so to
/// both descriptors, or these tests fail.
fn trigger_of(binary: &str) -> &'static str {
    match binary {
        "define-auth-challenge" => "DefineAuthChallenge",
        "create-auth-challenge" => "CreateAuthChallenge",
        "verify-auth-challenge" => "VerifyAuthChallengeResponse",
        "pre-authentication" => "PreAuthentication",
        "post-authentication" => "PostAuthentication",
        "user-migration" => "UserMigration",
        "pre-sign-up" => "PreSignUp",
        other => panic!(
            "functions/{other}: which Cognito trigger does it serve? Add it here and to both descriptors"
        ),
    }
}

fn binaries() -> BTreeSet<String> {
    std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn the_local_tool_runs_every_binary() {
    // The one list of trigger binaries the local tool and the integration tests share.
    let listed: BTreeSet<String> = local_cognito::binaries::ALL_TRIGGERS
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    assert_eq!(listed, binaries(), "ALL_TRIGGERS differs from functions/");
    assert_eq!(listed.len(), local_cognito::binaries::ALL_TRIGGERS.len());
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_mapping()
        .map(|mapping| {
            mapping
                .keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn variables(binary: &str) -> BTreeSet<String> {
    variables_for(binary)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// `!GetAtt X.Arn` → `X`; also through `!If [condition, !GetAtt X.Arn, !Ref AWS::NoValue]`.
fn get_att_target(value: &Value) -> Option<String> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => tagged
            .value
            .as_str()
            .and_then(|text| text.strip_suffix(".Arn"))
            .map(str::to_owned),
        Value::Tagged(tagged) if tagged.tag == "If" => get_att_target(&tagged.value[1]),
        _ => None,
    }
}

#[test]
fn sam_template_deploys_every_binary_with_every_variable() {
    let template = yaml("template.yaml");
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Handler"], "bootstrap");
    assert_eq!(globals["Architectures"][0], "arm64");
    let global_env = keys(&globals["Environment"]["Variables"]);

    let resources = template["Resources"].as_mapping().unwrap();
    let mut deployed = BTreeSet::new();
    for (logical_id, resource) in resources {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let logical_id = logical_id.as_str().unwrap();
        assert_eq!(
            resource["Metadata"]["BuildMethod"], "rust-cargolambda",
            "{logical_id}"
        );
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut env = global_env.clone();
        env.extend(keys(&resource["Properties"]["Environment"]["Variables"]));
        assert_eq!(
            env,
            variables(&binary),
            "{logical_id}: environment differs from cognito_passwordless::config::variables_for({binary})"
        );
        assert!(
            resource["Properties"]["MemorySize"].as_u64().is_some(),
            "{logical_id}: memory size"
        );
        assert!(
            !resource["Properties"]["LoggingConfig"]["LogGroup"].is_null(),
            "{logical_id}: log group"
        );

        // Wired to its trigger in the created pool…
        let wired =
            &resources[&Value::from("UserPool")]["Properties"]["LambdaConfig"][trigger_of(&binary)];
        assert_eq!(
            get_att_target(wired).as_deref(),
            Some(logical_id),
            "{binary}: LambdaConfig"
        );
        // …and Cognito may invoke it, scoped to the pool.
        let permission = resources.values().find(|candidate| {
            candidate["Type"] == "AWS::Lambda::Permission"
                && get_att_target(&candidate["Properties"]["FunctionName"]).as_deref()
                    == Some(logical_id)
        });
        let permission =
            permission.unwrap_or_else(|| panic!("{logical_id}: no AWS::Lambda::Permission"));
        assert_eq!(
            permission["Properties"]["Principal"],
            "cognito-idp.amazonaws.com"
        );
        assert!(
            !permission["Properties"]["SourceArn"].is_null(),
            "{logical_id}: SourceArn"
        );
        deployed.insert(binary);
    }
    assert_eq!(
        deployed,
        binaries(),
        "template.yaml must deploy every binary in functions/"
    );

    // The migration trigger exists only with a legacy source; the password flow that fires it
    // lives on a client of its own, never on the passwordless one.
    let migration = &resources[&Value::from("UserMigrationFunction")];
    assert_eq!(migration["Condition"], "UseMigration");
    let flows = |client: &str| -> BTreeSet<String> {
        resources[&Value::from(client)]["Properties"]["ExplicitAuthFlows"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|flow| flow.as_str().map(str::to_owned))
            .collect()
    };
    let client = &resources[&Value::from("UserPoolClient")]["Properties"];
    assert_eq!(client["PreventUserExistenceErrors"], "ENABLED");
    // `!If [RotateRefreshTokens, [custom], [custom, refresh]]`: with rotation, refreshing goes
    // through GetTokensFromRefreshToken only.
    let main_flows = match &client["ExplicitAuthFlows"] {
        Value::Tagged(tagged) if tagged.tag == "If" => tagged.value.as_sequence().unwrap().clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(main_flows[0], "RotateRefreshTokens");
    assert_eq!(
        main_flows[1],
        serde_yaml_ng::from_str::<Value>("[ALLOW_CUSTOM_AUTH]").unwrap()
    );
    assert_eq!(
        main_flows[2],
        serde_yaml_ng::from_str::<Value>("[ALLOW_CUSTOM_AUTH, ALLOW_REFRESH_TOKEN_AUTH]").unwrap()
    );
    assert_eq!(
        resources[&Value::from("MigrationUserPoolClient")]["Condition"],
        "UseMigration"
    );
    assert_eq!(
        flows("MigrationUserPoolClient"),
        BTreeSet::from([
            "ALLOW_USER_PASSWORD_AUTH".to_owned(),
            "ALLOW_REFRESH_TOKEN_AUTH".to_owned()
        ])
    );
}

#[test]
fn serverless_deploys_every_binary_with_every_variable() {
    let service = yaml("serverless.yml");
    let provider = &service["provider"];
    assert_eq!(provider["runtime"], "provided.al2023");
    assert_eq!(provider["architecture"], "arm64");
    let provider_env = keys(&provider["environment"]);

    // `functions` is a list of maps; the last is the migration file's `${param:migration}` entry.
    let mut functions = serde_yaml_ng::Mapping::new();
    for item in service["functions"].as_sequence().unwrap() {
        match item {
            Value::Mapping(mapping) => functions.extend(mapping.clone()),
            Value::String(reference) => {
                // An optional trigger, chosen by a param: `disabled` deploys nothing.
                let (file, param) = match reference.as_str() {
                    "${file(./deploy/serverless-migration.yml):${param:migration}}" => {
                        ("deploy/serverless-migration.yml", "migration")
                    }
                    "${file(./deploy/serverless-sign-up.yml):${param:signUp}}" => {
                        ("deploy/serverless-sign-up.yml", "signUp")
                    }
                    other => panic!("unexpected functions entry {other}"),
                };
                let optional = yaml(file);
                assert_eq!(optional["disabled"], Value::Mapping(Default::default()));
                functions.extend(optional["enabled"].as_mapping().unwrap().clone());
                assert_eq!(service["params"]["default"][param], "disabled");
            }
            other => panic!("unexpected functions entry {other:?}"),
        }
    }
    assert_eq!(service["params"]["default"]["migration"], "disabled");
    let mut deployed = BTreeSet::new();
    for (name, function) in &functions {
        let name = name.as_str().unwrap();
        assert_eq!(function["handler"], "bootstrap", "{name}");
        let artifact = function["package"]["artifact"].as_str().unwrap();
        let binary = artifact
            .strip_prefix("target/lambda/")
            .and_then(|rest| rest.strip_suffix("/bootstrap.zip"))
            .unwrap_or_else(|| panic!("{name}: artifact {artifact} is not cargo-lambda's zip"));
        let mut env = provider_env.clone();
        env.extend(keys(&function["environment"]));
        assert_eq!(
            env,
            variables(binary),
            "{name}: environment differs from cognito_passwordless::config::variables_for({binary})"
        );
        let event = &function["events"][0]["cognitoUserPool"];
        assert_eq!(event["trigger"], trigger_of(binary), "{name}");
        assert_eq!(event["existing"], true, "{name}");
        deployed.insert(binary.to_owned());
    }
    assert_eq!(
        deployed,
        binaries(),
        "serverless.yml must deploy every binary in functions/"
    );
}

#[test]
fn serverless_gives_each_function_its_own_role_and_no_shared_one() {
    // The roles themselves are built from the params when the service is read
    // (deploy/serverless-resources.js); scripts/check_serverless_package.py checks each one in
    // the packaged template (scripts/check-deploy, in CI).
    let service = yaml("serverless.yml");
    assert!(
        service["provider"]["iam"].is_null(),
        "a provider-level role is shared by every function"
    );
    let mut roles = BTreeSet::new();
    for item in service["functions"].as_sequence().unwrap() {
        if let Value::Mapping(functions) = item {
            for (name, function) in functions {
                let name = name.as_str().unwrap();
                let role = function["role"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: no role"));
                let mut expected = name.to_owned();
                expected[..1].make_ascii_uppercase();
                assert_eq!(role, format!("{expected}Role"), "{name}");
                roles.insert(role.to_owned());
            }
        }
    }
    let migration = yaml("deploy/serverless-migration.yml");
    assert_eq!(
        migration["enabled"]["userMigration"]["role"],
        "UserMigrationRole"
    );
    let sign_up = yaml("deploy/serverless-sign-up.yml");
    assert_eq!(sign_up["enabled"]["preSignUp"]["role"], "PreSignUpRole");
    assert_eq!(roles.len(), 5);
    let resources = service["resources"].as_sequence().unwrap();
    assert!(resources.contains(&Value::from("${file(./deploy/serverless-resources.js)}")));
    let table = resources
        .iter()
        .find(|entry| !entry["Resources"]["StateTable"].is_null())
        .unwrap();
    assert_state_table(&table["Resources"]["StateTable"]);
    // Secrets by ARN, under a per-stage prefix; the guard refuses the rest when packaging.
    assert_eq!(
        service["params"]["default"]["secretNamePrefix"],
        "cognito-passwordless/${sls:stage}/"
    );
    assert_eq!(
        service["custom"]["guards"],
        "${file(./deploy/serverless-guards.js)}"
    );
}

/// Variables that hold a secret's value. Deployments pass secrets only by Secrets Manager ARN
/// (the `…_ARN` variables): a value would sit in the template and the function's configuration.
const PLAIN_SECRETS: &[&str] = &[
    "SEAL_KEY",
    "PHONE_HINT_SECRET",
    "CAPTCHA_SECRET",
    "LEGACY_HTTP_TOKEN",
    "LEGACY_DATABASE_URL",
];

#[test]
fn no_descriptor_passes_a_secret_value() {
    let template = yaml("template.yaml");
    let parameters = template["Parameters"].as_mapping().unwrap();
    // The old plain-value parameters stay (public interface) but accept nothing.
    for (name, parameter) in parameters {
        if parameter["NoEcho"] == true {
            assert_eq!(
                parameter["AllowedPattern"], "^$",
                "{name:?} accepts a value"
            );
            let arn = format!("{}Arn", name.as_str().unwrap());
            assert!(parameters.contains_key(Value::from(arn.as_str())), "{arn}");
        }
    }
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        let env = &resource["Properties"]["Environment"]["Variables"];
        for secret in PLAIN_SECRETS {
            let value = &env[*secret];
            assert!(
                value.is_null() || value == "",
                "{name:?}: {secret} = {value:?}"
            );
        }
    }
    for file in [
        "serverless.yml",
        "deploy/serverless-migration.yml",
        "deploy/serverless-sign-up.yml",
    ] {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        assert!(
            !text.contains("${env:"),
            "{file} reads the deploying shell's environment"
        );
        for line in text.lines() {
            for secret in PLAIN_SECRETS {
                if let Some(value) = line.trim().strip_prefix(&format!("{secret}: ")) {
                    assert_eq!(value, "\"\"", "{file}: {line}");
                }
            }
        }
    }
}

#[test]
fn sam_pool_cannot_be_lost_or_taken_over() {
    let template = yaml("template.yaml");
    let resources = &template["Resources"];
    let pool = &resources["UserPool"];
    assert_eq!(pool["DeletionPolicy"], "Retain");
    assert_eq!(pool["UpdateReplacePolicy"], "Retain");
    let properties = &pool["Properties"];
    assert_eq!(properties["DeletionProtection"], "ACTIVE");
    assert_eq!(
        properties["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"],
        serde_yaml_ng::from_str::<Value>("!If [UseSignUp, false, true]").unwrap()
    );
    // Self sign-up is off unless asked for, and only ever through the pre-sign-up trigger.
    assert_eq!(template["Parameters"]["SelfSignUp"]["Default"], "disabled");
    assert_eq!(
        get_att_target(&properties["LambdaConfig"]["PreSignUp"]).as_deref(),
        Some("PreSignUpFunction")
    );
    assert_eq!(resources["PreSignUpFunction"]["Condition"], "UseSignUp");
    let recovery = format!("{:?}", properties["AccountRecoverySetting"]);
    assert!(recovery.contains("AccountRecovery"), "{recovery}");
    assert_eq!(
        template["Parameters"]["AccountRecovery"]["Default"],
        "admin_only"
    );
    let update = format!("{:?}", properties["UserAttributeUpdateSettings"]);
    assert!(
        update.contains("AttributesRequireVerificationBeforeUpdate"),
        "{update}"
    );
    // Short access and ID tokens, refresh tokens in hours, rotation where the tier has it.
    let parameters = &template["Parameters"];
    assert_eq!(parameters["AccessTokenValidityMinutes"]["Default"], 15);
    assert_eq!(parameters["AccessTokenValidityMinutes"]["MaxValue"], 60);
    assert_eq!(parameters["RefreshTokenValidityHours"]["Default"], 12);
    for client in ["UserPoolClient", "MigrationUserPoolClient"] {
        let client = &resources[client]["Properties"];
        assert_eq!(client["TokenValidityUnits"]["AccessToken"], "minutes");
        assert_eq!(client["TokenValidityUnits"]["IdToken"], "minutes");
        assert_eq!(client["EnableTokenRevocation"], true);
        assert_eq!(client["PreventUserExistenceErrors"], "ENABLED");
    }
    assert_eq!(
        resources["UserPoolClient"]["Properties"]["TokenValidityUnits"]["RefreshToken"],
        "hours"
    );
    let rotation = format!(
        "{:?}",
        resources["UserPoolClient"]["Properties"]["RefreshTokenRotation"]
    );
    assert!(
        rotation.contains("RotateRefreshTokens") && rotation.contains("ENABLED"),
        "{rotation}"
    );
    // Logs kept a year by default.
    assert_eq!(parameters["LogRetentionInDays"]["Default"], 365);
}

#[test]
fn sam_sends_only_from_the_named_origination_identity() {
    let template = yaml("template.yaml");
    let identity = &template["Parameters"]["SmsOriginationIdentity"];
    let pattern = identity["AllowedPattern"].as_str().unwrap();
    assert!(
        pattern.contains("sms-voice") && pattern.starts_with("^$|^arn:"),
        "{pattern}"
    );
    let rule = format!("{:?}", template["Rules"]["SendingFromANamedIdentity"]);
    assert!(
        rule.contains("SmsOriginationIdentity") && rule.contains("end-user-messaging"),
        "{rule}"
    );
    let statement = &template["Resources"]["SendTextMessagePolicy"]["Properties"]["PolicyDocument"]
        ["Statement"][0];
    let resources = format!("{:?}", statement["Resource"]);
    assert!(!resources.contains("\"*\""), "{resources}");
    assert!(resources.contains("SmsOriginationIdentity"), "{resources}");
    // Spend guardrails on by default: a price cap and an alarm on sends.
    assert_eq!(template["Parameters"]["SmsMaxPrice"]["Default"], "0.25");
    assert_eq!(
        template["Parameters"]["SmsSendAlarmPerHour"]["Default"],
        200
    );
    assert_eq!(
        template["Resources"]["SmsSendAlarm"]["Type"],
        "AWS::CloudWatch::Alarm"
    );
}

#[test]
fn sam_lets_only_the_verify_function_read_the_captcha_secret() {
    let template = yaml("template.yaml");
    let policy = &template["Resources"]["ReadCaptchaSecretPolicy"];
    assert_eq!(policy["Condition"], "HasCaptchaSecretArn");
    let roles = policy["Properties"]["Roles"].as_sequence().unwrap();
    assert_eq!(roles.len(), 1);
    assert!(
        matches!(&roles[0], Value::Tagged(tagged) if tagged.tag == "Ref" && tagged.value == "VerifyAuthChallengeFunctionRole"),
        "{roles:?}"
    );
    // The seal key: create and verify only; the phone hint secret: create only. Each policy
    // names exactly the one secret it is for.
    for (policy, condition, secret, roles) in [
        (
            "ReadSealKeyPolicy",
            "HasSealKeyArn",
            "SealKeyArn",
            vec![
                "CreateAuthChallengeFunctionRole",
                "VerifyAuthChallengeFunctionRole",
            ],
        ),
        (
            "ReadPhoneHintSecretPolicy",
            "HasPhoneHintSecretArn",
            "PhoneHintSecretArn",
            vec!["CreateAuthChallengeFunctionRole"],
        ),
    ] {
        let policy_value = &template["Resources"][policy];
        assert_eq!(policy_value["Condition"], condition, "{policy}");
        let granted: Vec<String> = policy_value["Properties"]["Roles"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|role| match role {
                Value::Tagged(tagged) => tagged.value.as_str().unwrap().to_owned(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(granted, roles, "{policy}");
        let statement = &policy_value["Properties"]["PolicyDocument"]["Statement"][0];
        assert_eq!(statement["Action"], "secretsmanager:GetSecretValue");
        assert!(
            matches!(&statement["Resource"], Value::Tagged(tagged) if tagged.value == secret),
            "{policy}"
        );
    }
    let policy = &template["Resources"]["ReadLegacySecretsPolicy"];
    assert!(
        matches!(&policy["Properties"]["Roles"][0], Value::Tagged(tagged) if tagged.value == "UserMigrationFunctionRole")
    );
    assert_eq!(
        policy["Properties"]["PolicyDocument"]["Statement"][0]["Action"],
        "secretsmanager:GetSecretValue"
    );
    // Every supported flow can be deployed, and nothing else.
    let allowed: BTreeSet<&str> = template["Parameters"]["AuthFlow"]["AllowedValues"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|value| value.as_str().unwrap())
        .collect();
    assert_eq!(
        allowed,
        cognito_passwordless::flow::AuthFlow::SUPPORTED
            .iter()
            .copied()
            .collect()
    );
}

#[test]
fn the_configuration_page_documents_every_variable() {
    let page = std::fs::read_to_string(root().join("docs/configuration.md")).unwrap();
    for variable in VARIABLES {
        assert!(
            page.contains(&format!("| `{variable}` |")),
            "docs/configuration.md has no row for {variable}"
        );
    }
}

/// The state table as the code expects it: string `pk` and `sk`, TTL on `expiresAt`.
fn assert_state_table(table: &Value) {
    assert_eq!(table["Type"], "AWS::DynamoDB::Table");
    let properties = &table["Properties"];
    assert_eq!(properties["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(properties["KeySchema"][0]["AttributeName"], "pk");
    assert_eq!(properties["KeySchema"][0]["KeyType"], "HASH");
    assert_eq!(properties["KeySchema"][1]["AttributeName"], "sk");
    assert_eq!(properties["KeySchema"][1]["KeyType"], "RANGE");
    for attribute in properties["AttributeDefinitions"].as_sequence().unwrap() {
        assert_eq!(attribute["AttributeType"], "S");
    }
    assert_eq!(
        properties["TimeToLiveSpecification"]["AttributeName"],
        "expiresAt"
    );
    assert_eq!(properties["TimeToLiveSpecification"]["Enabled"], true);
}

#[test]
fn sam_gives_each_function_only_its_share_of_the_state_table() {
    let template = yaml("template.yaml");
    let resources = &template["Resources"];
    assert_state_table(&resources["StateTable"]);
    for (policy, role, actions, prefixes) in [
        (
            "CreateStatePolicy",
            "CreateAuthChallengeFunctionRole",
            vec!["dynamodb:GetItem", "dynamodb:PutItem"],
            vec!["CLAIM#*", "USER#*", "PHONE#*", "EMAIL#*"],
        ),
        (
            "DefineStatePolicy",
            "DefineAuthChallengeFunctionRole",
            vec!["dynamodb:PutItem", "dynamodb:Query"],
            vec!["LOCK#*"],
        ),
        (
            "PreAuthenticationStatePolicy",
            "PreAuthenticationFunctionRole",
            vec!["dynamodb:Query"],
            vec!["LOCK#*"],
        ),
        (
            "VerifyStatePolicy",
            "VerifyAuthChallengeFunctionRole",
            vec!["dynamodb:UpdateItem"],
            vec!["GUESS#*"],
        ),
        (
            "UserMigrationStatePolicy",
            "UserMigrationFunctionRole",
            vec!["dynamodb:PutItem"],
            vec!["MIGRATED#*"],
        ),
        (
            "PostAuthenticationStatePolicy",
            "PostAuthenticationFunctionRole",
            vec!["dynamodb:DeleteItem"],
            vec!["MIGRATED#*"],
        ),
        (
            "VerifyProofStatePolicy",
            "VerifyAuthChallengeFunctionRole",
            vec!["dynamodb:PutItem"],
            vec!["PROVEN#*"],
        ),
        (
            "PostAuthenticationProofPolicy",
            "PostAuthenticationFunctionRole",
            vec!["dynamodb:DeleteItem"],
            vec!["PROVEN#*"],
        ),
    ] {
        let properties = &resources[policy]["Properties"];
        assert!(
            matches!(&properties["Roles"][0], Value::Tagged(tagged) if tagged.value == role),
            "{policy}"
        );
        let statement = &properties["PolicyDocument"]["Statement"][0];
        let granted: Vec<&str> = match &statement["Action"] {
            Value::String(one) => vec![one.as_str()],
            many => many
                .as_sequence()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect(),
        };
        assert_eq!(granted, actions, "{policy}");
        let leading: Vec<&str> =
            statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|prefix| prefix.as_str().unwrap())
                .collect();
        assert_eq!(leading, prefixes, "{policy}");
    }
    // Create deletes claims only.
    let delete = &resources["CreateStatePolicy"]["Properties"]["PolicyDocument"]["Statement"][1];
    assert_eq!(delete["Action"], "dynamodb:DeleteItem");
    assert_eq!(
        delete["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"][0],
        "CLAIM#*"
    );
    assert!(
        resources["CreateStatePolicy"]["Properties"]["PolicyDocument"]["Statement"][2].is_null()
    );
    // VerifyOnFirstSignIn: PostAuthentication may mark destinations verified, one admin action
    // on the stack's pool only, and nothing else.
    let proof = &resources["PostAuthenticationProofPolicy"];
    assert_eq!(proof["Condition"], "VerifiesWithStateTable");
    let admin = &proof["Properties"]["PolicyDocument"]["Statement"][1];
    assert_eq!(admin["Action"], "cognito-idp:AdminUpdateUserAttributes");
    let pool = match &admin["Resource"] {
        Value::Tagged(tagged) if tagged.tag == "If" => tagged.value.as_sequence().unwrap().clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(pool[0], "CreateUserPool");
    assert_eq!(get_att_target(&pool[1]).as_deref(), Some("UserPool"));
    assert!(
        pool[2]
            .as_str()
            .or_else(|| match &pool[2] {
                Value::Tagged(tagged) => tagged.value.as_str(),
                _ => None,
            })
            .is_some_and(|arn| arn.ends_with(":userpool/${ExistingUserPoolId}")),
        "{:?}",
        pool[2]
    );
    assert!(proof["Properties"]["PolicyDocument"]["Statement"][2].is_null());
}

#[test]
fn app_clients_cannot_write_the_attributes_security_rests_on() {
    // A signed-in user (or whoever holds their access token) must not move the phone the codes
    // go to, nor clear the blocked flag or any other custom attribute.
    let template = yaml("template.yaml");
    let mut clients = 0;
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Cognito::UserPoolClient" {
            continue;
        }
        clients += 1;
        let name = name.as_str().unwrap();
        let properties = &resource["Properties"];
        let writable: Vec<&str> = properties["WriteAttributes"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{name} lists no WriteAttributes"))
            .iter()
            .map(|attribute| attribute.as_str().unwrap())
            .collect();
        assert!(!writable.is_empty(), "{name}");
        // The sign-up client alone may write where codes go (a sign-up must give them), and
        // nobody can sign in through it, so no access token of it can ever change them.
        let sign_up_only = name == "SignUpUserPoolClient";
        if sign_up_only {
            assert_eq!(resource["Condition"], "UseSignUp");
            assert_eq!(
                properties["ExplicitAuthFlows"],
                serde_yaml_ng::from_str::<Value>("[ALLOW_REFRESH_TOKEN_AUTH]").unwrap(),
                "{name} must allow no sign-in"
            );
        }
        for attribute in writable {
            let destination = matches!(attribute, "phone_number" | "email");
            assert!(
                !matches!(attribute, "phone_number_verified" | "email_verified")
                    && !attribute.starts_with("custom:")
                    && (!destination || sign_up_only),
                "{name} lets users write {attribute}"
            );
        }
        assert!(properties["ReadAttributes"].is_sequence(), "{name}");
    }
    assert!(clients >= 1);
}

#[test]
fn sam_guards_its_own_migration_client_from_the_first_deploy() {
    // The client's id reaches PostAuthentication through a secret of a fixed name (a !Ref would
    // be a dependency cycle): the secret holds the client, the function reads that name, and
    // only the PostAuthentication and UserMigration roles may read it.
    let template = yaml("template.yaml");
    let resources = &template["Resources"];
    let secret = &resources["MigrationClientIdsSecret"];
    assert_eq!(secret["Condition"], "UseMigration");
    let name = match &secret["Properties"]["Name"] {
        Value::Tagged(tagged) => tagged.value.as_str().unwrap().to_owned(),
        other => panic!("{other:?}"),
    };
    let listed = format!("{:?}", secret["Properties"]["SecretString"]);
    assert!(listed.contains("MigrationUserPoolClient"), "{listed}");
    let variables =
        &resources["PostAuthenticationFunction"]["Properties"]["Environment"]["Variables"];
    let read = format!("{:?}", variables["MIGRATION_CLIENT_IDS_ARN"]);
    assert!(
        read.contains("UseMigration") && read.contains(&name),
        "{read}"
    );
    // UserMigration reads the same list: only those clients may migrate anyone.
    let migration = &resources["UserMigrationFunction"]["Properties"]["Environment"]["Variables"];
    let read = format!("{:?}", migration["MIGRATION_CLIENT_IDS_ARN"]);
    assert!(read.contains(&name), "{read}");
    let policy = &resources["ReadMigrationClientIdsPolicy"]["Properties"];
    let roles: Vec<String> = policy["Roles"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|role| match role {
            Value::Tagged(tagged) => tagged.value.as_str().unwrap().to_owned(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        roles,
        [
            "PostAuthenticationFunctionRole",
            "UserMigrationFunctionRole"
        ]
    );
    let resource = format!("{:?}", policy["PolicyDocument"]["Statement"][0]["Resource"]);
    assert!(
        resource.contains(&format!(":secret:{name}-*")),
        "{resource}"
    );
    // Its refresh tokens are short: PostAuthentication does not run on a refresh.
    let client = &resources["MigrationUserPoolClient"]["Properties"];
    assert_eq!(client["RefreshTokenValidity"], 60);
    assert_eq!(client["TokenValidityUnits"]["RefreshToken"], "minutes");
}

#[test]
fn sam_sends_email_only_from_the_named_ses_identity_and_only_for_email_flows() {
    let template = yaml("template.yaml");
    let policy = &template["Resources"]["SendEmailPolicy"];
    assert_eq!(policy["Condition"], "SendsEmail");
    let statement = &policy["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(statement["Action"], "ses:SendEmail");
    let resources = statement["Resource"].as_sequence().unwrap();
    assert_eq!(
        resources.len(),
        2,
        "the identity and, when named, the configuration set"
    );
    let first = format!("{:?}", resources[0]);
    assert!(first.contains("EmailIdentityArn"), "{first}");
    assert!(!format!("{resources:?}").contains("\"*\""));
    // Every flow with email_otp, and no other, sends e-mail; each needs the identity.
    let flows: Vec<String> = template["Parameters"]["AuthFlow"]["AllowedValues"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|flow| flow.as_str().unwrap().to_owned())
        .collect();
    let with = |step: &str| -> BTreeSet<String> {
        flows
            .iter()
            .filter(|flow| flow.split(',').any(|part| part == step))
            .cloned()
            .collect()
    };
    assert_eq!(with("email_otp").len(), 4);
    // Exactly the flows with the step: each condition lists every one and nothing else.
    let flows_named = |value: &Value| -> BTreeSet<String> {
        fn walk(value: &Value, found: &mut BTreeSet<String>, known: &[String]) {
            match value {
                Value::String(text) if known.contains(text) => {
                    found.insert(text.clone());
                }
                Value::Sequence(items) => items.iter().for_each(|item| walk(item, found, known)),
                Value::Mapping(map) => map.values().for_each(|item| walk(item, found, known)),
                Value::Tagged(tagged) => walk(&tagged.value, found, known),
                _ => {}
            }
        }
        let mut found = BTreeSet::new();
        walk(value, &mut found, &flows);
        found
    };
    // The otp step sends by each channel its OtpChannels names.
    assert_eq!(with("otp").len(), 4);
    assert_eq!(
        flows_named(&template["Conditions"]["HasOtpStep"]),
        with("otp")
    );
    let union = |a: BTreeSet<String>, b: BTreeSet<String>| -> BTreeSet<String> {
        a.union(&b).cloned().collect()
    };
    // Every OtpChannels value the parameter's pattern allows that holds `channel`.
    let lists_with = |channel: &str| -> BTreeSet<String> {
        let names = ["sms", "email", "voice"];
        let mut lists = BTreeSet::new();
        for a in names {
            lists.insert(a.to_owned());
            for b in names.iter().filter(|b| **b != a) {
                lists.insert(format!("{a},{b}"));
                for c in names.iter().filter(|c| **c != a && *c != b) {
                    lists.insert(format!("{a},{b},{c}"));
                }
            }
        }
        lists
            .into_iter()
            .filter(|list| list.split(',').any(|part| part == channel))
            .collect()
    };
    let lists_named = |value: &Value| -> BTreeSet<String> {
        let text = format!("{value:?}");
        lists_with("sms")
            .into_iter()
            .chain(lists_with("email"))
            .chain(lists_with("voice"))
            .filter(|list| text.contains(&format!("String(\"{list}\")")))
            .collect()
    };
    for (condition, rule, step, channel) in [
        (
            "SendsEmail",
            "EmailFromANamedIdentity",
            "email_otp",
            "email",
        ),
        ("SendsSms", "SendingFromANamedIdentity", "sms_otp", "sms"),
    ] {
        let named = &template["Conditions"][condition];
        assert_eq!(flows_named(named), with(step), "{condition}");
        let text = format!("{named:?}");
        let has = format!("OtpChannelsHave{}", &channel[..1].to_uppercase());
        assert!(
            text.contains("HasOtpStep") && text.contains(&has),
            "{condition}: {text}"
        );
        let rule = &template["Rules"][rule]["RuleCondition"];
        assert_eq!(
            flows_named(rule),
            union(with(step), with("otp")),
            "{condition}"
        );
        assert_eq!(lists_named(rule), lists_with(channel), "{condition}");
    }
    // Each OtpChannelsHave… condition splits the list on its channel's name.
    for (condition, channel) in [
        ("OtpChannelsHaveSms", "sms"),
        ("OtpChannelsHaveEmail", "email"),
        ("OtpChannelsHaveVoice", "voice"),
    ] {
        let text = format!("{:?}", template["Conditions"][condition]);
        assert!(
            text.contains(&format!("String(\"{channel}\")")) && text.contains("OtpChannels"),
            "{condition}: {text}"
        );
    }
    // Calls: only with voice in OtpChannels, through End User Messaging, from the named number.
    let voice_rule = &template["Rules"]["VoiceFromANamedNumber"];
    assert_eq!(flows_named(&voice_rule["RuleCondition"]), with("otp"));
    assert_eq!(
        lists_named(&voice_rule["RuleCondition"]),
        lists_with("voice")
    );
    let asserted = format!("{:?}", voice_rule["Assertions"]);
    assert!(
        asserted.contains("VoiceOriginationIdentity") && asserted.contains("end-user-messaging"),
        "{asserted}"
    );
    let call = &template["Resources"]["SendVoiceMessagePolicy"];
    assert_eq!(call["Condition"], "CallsThroughEndUserMessaging");
    let call_statement = &call["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(call_statement["Action"], "sms-voice:SendVoiceMessage");
    let call_resources = format!("{:?}", call_statement["Resource"]);
    assert!(
        call_resources.contains("VoiceOriginationIdentity"),
        "{call_resources}"
    );
    assert!(!call_resources.contains("\"*\""), "{call_resources}");
    assert!(
        !format!("{:?}", template["Resources"]["SendTextMessagePolicy"])
            .contains("SendVoiceMessage")
    );
    let voice_pattern = template["Parameters"]["VoiceOriginationIdentity"]["AllowedPattern"]
        .as_str()
        .unwrap();
    assert!(voice_pattern.starts_with("^$|^arn:") && !voice_pattern.contains('*'));
    // The SMS permissions follow the SMS flows, whichever provider.
    for (policy, condition) in [
        ("SendTextMessagePolicy", "SendsSmsThroughEndUserMessaging"),
        ("PinpointSendMessagesPolicy", "SendsSmsThroughPinpoint"),
    ] {
        assert_eq!(template["Resources"][policy]["Condition"], condition);
        let parts = format!("{:?}", template["Conditions"][condition]);
        assert!(parts.contains("SendsSms"), "{condition}: {parts}");
    }
    let pattern = template["Parameters"]["EmailIdentityArn"]["AllowedPattern"]
        .as_str()
        .unwrap();
    assert!(pattern.starts_with("^$|^arn:") && pattern.contains(":ses:") && !pattern.contains('*'));
}
