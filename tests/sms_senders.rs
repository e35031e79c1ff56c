//! Both AWS SDK senders against a local endpoint that checks the real wire request: End User
//! Messaging `SendTextMessage` and `SendVoiceMessage` (JSON 1.0) and Pinpoint `SendMessages`
//! (REST-JSON), including errors, throttling, opt-out and a provider slower than the timeout.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use cognito_passwordless::Error;
use cognito_passwordless::config::Config;
use cognito_passwordless::error::SmsFailure;
use cognito_passwordless::phone::PhoneNumber;
use cognito_passwordless::sms::{
    EndUserMessagingSender, PinpointSender, SmsMessage, SmsSender, aws,
};
use integration_tests::{FakeEndpoint, Reply};
use serde_json::json;

const PHONE: &str = "+12065550100";

fn config(vars: &[(&str, &str)]) -> Config {
    Config::from_pairs(vars).unwrap()
}

async fn sdk_config(endpoint: &FakeEndpoint, timeout: Duration) -> aws_config::SdkConfig {
    aws::sdk_config_loader(timeout)
        .expect("TLS roots")
        .endpoint_url(&endpoint.url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        ))
        .load()
        .await
}

fn message() -> SmsMessage {
    SmsMessage {
        to: PhoneNumber::parse(PHONE).unwrap(),
        body: "123456 is your app sign-in code.".to_owned(),
        time_to_live_seconds: 300,
    }
}

async fn eum(endpoint: &FakeEndpoint, vars: &[(&str, &str)]) -> EndUserMessagingSender {
    let config = config(vars);
    EndUserMessagingSender::new(&sdk_config(endpoint, config.sms.timeout).await, &config.sms)
}

async fn pinpoint(endpoint: &FakeEndpoint) -> PinpointSender {
    let config = config(&[
        ("SMS_PROVIDER", "pinpoint"),
        ("PINPOINT_APPLICATION_ID", "app123"),
        ("SMS_ORIGINATION_NUMBER", "+12065550199"),
        ("SMS_KEYWORD", "LOGIN"),
    ]);
    PinpointSender::new(&sdk_config(endpoint, config.sms.timeout).await, &config.sms)
}

fn failure(result: Result<cognito_passwordless::sms::SmsReceipt, Error>) -> (SmsFailure, String) {
    match result {
        Err(Error::Sms {
            failure, detail, ..
        }) => (failure, detail),
        other => panic!("expected an SMS failure, got {other:?}"),
    }
}

#[tokio::test]
async fn end_user_messaging_places_the_documented_voice_call() {
    let endpoint = FakeEndpoint::start(|_| Reply::ok(json!({"MessageId": "call-1"}))).await;
    let vars = [
        ("SMS_CONFIGURATION_SET", "login-otp"),
        ("SMS_PROTECT_CONFIGURATION_ID", "protect-abc"),
        ("VOICE_ORIGINATION_IDENTITY", "+12065550198"),
        ("APP_NAME", "Example"),
    ];
    let sender = eum(&endpoint, &vars).await;
    let settings = config(&vars).sms.voice;
    let call = settings.message(
        PhoneNumber::parse(PHONE).unwrap(),
        Some("de-DE"),
        "123456",
        "Example",
        5,
        300,
    );
    let receipt = sender.send_voice(&call).await.unwrap();
    assert_eq!(receipt.message_id.as_deref(), Some("call-1"));

    let requests = endpoint.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.uri.path(), "/");
    assert_eq!(request.header("content-type"), "application/x-amz-json-1.0");
    assert_eq!(
        request.header("x-amz-target"),
        "PinpointSMSVoiceV2.SendVoiceMessage"
    );
    let body = request.json["MessageBody"].as_str().unwrap().to_owned();
    assert_eq!(
        request.json,
        json!({
            "DestinationPhoneNumber": PHONE,
            "OriginationIdentity": "+12065550198",
            "MessageBody": body,
            "MessageBodyTextType": "SSML",
            "VoiceId": "VICKI",
            "ConfigurationSetName": "login-otp",
            "TimeToLive": 300,
            "Context": {"purpose": "sign-in-code"},
            "ProtectConfigurationId": "protect-abc"
        })
    );
    // German, the digits one by one, twice.
    assert!(body.starts_with("<speak>Ihr Anmeldecode für Example lautet <prosody rate=\"slow\"><say-as interpret-as=\"digits\">1</say-as>"), "{body}");
    assert_eq!(
        body.matches("<say-as interpret-as=\"digits\">6</say-as>")
            .count(),
        2
    );

    // A refusal reads like an SMS one, the number masked.
    let refusing = FakeEndpoint::start(|_| {
        Reply::aws_error(
            400,
            "ValidationException",
            "Destination +12065550100 cannot receive voice",
        )
    })
    .await;
    let (failure, detail) = failure(eum(&refusing, &vars).await.send_voice(&call).await);
    assert_eq!(failure, SmsFailure::Rejected);
    assert!(!detail.contains("2065550100"), "{detail}");
}

#[tokio::test]
async fn end_user_messaging_sends_the_documented_request() {
    let endpoint = FakeEndpoint::start(|_| Reply::ok(json!({"MessageId": "msg-1"}))).await;
    let sender = eum(
        &endpoint,
        &[
            ("SMS_ORIGINATION_IDENTITY", "+12065550199"),
            ("SMS_CONFIGURATION_SET", "login-otp"),
            ("SMS_PROTECT_CONFIGURATION_ID", "protect-abc"),
            ("SMS_MAX_PRICE", "0.05"),
            ("SMS_KEYWORD", "LOGIN"),
        ],
    )
    .await;
    let receipt = sender.send(&message()).await.unwrap();
    assert_eq!(receipt.message_id.as_deref(), Some("msg-1"));

    let requests = endpoint.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.uri.path(), "/");
    assert_eq!(request.header("content-type"), "application/x-amz-json-1.0");
    assert_eq!(
        request.header("x-amz-target"),
        "PinpointSMSVoiceV2.SendTextMessage"
    );
    assert!(
        request
            .header("authorization")
            .starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/")
    );
    assert_eq!(
        request.json,
        json!({
            "DestinationPhoneNumber": PHONE,
            "OriginationIdentity": "+12065550199",
            "MessageBody": "123456 is your app sign-in code.",
            "MessageType": "TRANSACTIONAL",
            "Keyword": "LOGIN",
            "ConfigurationSetName": "login-otp",
            "MaxPrice": "0.05",
            "TimeToLive": 300,
            "Context": {"purpose": "sign-in-code"},
            "ProtectConfigurationId": "protect-abc"
        })
    );
}

#[tokio::test]
async fn end_user_messaging_leaves_unset_options_out() {
    let endpoint = FakeEndpoint::start(|_| Reply::ok(json!({"MessageId": "msg-2"}))).await;
    eum(&endpoint, &[]).await.send(&message()).await.unwrap();
    let body = &endpoint.requests()[0].json;
    for absent in [
        "OriginationIdentity",
        "ConfigurationSetName",
        "MaxPrice",
        "ProtectConfigurationId",
        "Keyword",
    ] {
        assert!(
            body.get(absent).is_none(),
            "{absent} should be absent: {body}"
        );
    }
}

#[tokio::test]
async fn end_user_messaging_throttling_is_reported_as_throttling() {
    let endpoint =
        FakeEndpoint::start(|_| Reply::aws_error(400, "ThrottlingException", "Rate exceeded"))
            .await;
    let (failure, _) = failure(eum(&endpoint, &[]).await.send(&message()).await);
    assert_eq!(failure, SmsFailure::Throttled);
    // Bounded retries: at most two attempts.
    assert!((1..=2).contains(&endpoint.requests().len()));
}

#[tokio::test]
async fn end_user_messaging_rejection_masks_the_number_in_the_detail() {
    let endpoint = FakeEndpoint::start(|_| {
        Reply::aws_error(
            400,
            "ValidationException",
            "Destination +12065550100 (12065550100) is not valid",
        )
    })
    .await;
    let (failure, detail) = failure(eum(&endpoint, &[]).await.send(&message()).await);
    assert_eq!(failure, SmsFailure::Rejected);
    assert!(detail.starts_with("ValidationException"), "{detail}");
    assert!(!detail.contains("2065550100"), "{detail}");
    assert_eq!(
        endpoint.requests().len(),
        1,
        "a rejected message is not retried"
    );
}

#[tokio::test]
async fn end_user_messaging_opt_out_is_reported() {
    let endpoint = FakeEndpoint::start(|_| {
        Reply::aws_error(
            400,
            "ConflictException",
            "Reason: DESTINATION_PHONE_NUMBER_OPTED_OUT",
        )
    })
    .await;
    assert_eq!(
        failure(eum(&endpoint, &[]).await.send(&message()).await).0,
        SmsFailure::OptedOut
    );
}

#[tokio::test]
async fn end_user_messaging_server_error_is_unavailable() {
    let endpoint =
        FakeEndpoint::start(|_| Reply::aws_error(500, "InternalServerException", "boom")).await;
    assert_eq!(
        failure(eum(&endpoint, &[]).await.send(&message()).await).0,
        SmsFailure::Unavailable
    );
    assert_eq!(
        endpoint.requests().len(),
        2,
        "a server error is retried once"
    );
}

#[tokio::test]
async fn end_user_messaging_slow_provider_times_out_inside_the_budget() {
    let endpoint = FakeEndpoint::start(|_| {
        Reply::ok(json!({"MessageId": "late"})).after(Duration::from_secs(10))
    })
    .await;
    let sender = eum(&endpoint, &[("SMS_TIMEOUT_MS", "1500")]).await;
    let started = Instant::now();
    let (failure, _) = failure(sender.send(&message()).await);
    assert_eq!(failure, SmsFailure::Timeout);
    // The configured operation timeout bounds the whole send, retries included.
    assert!(
        started.elapsed() < Duration::from_millis(2_500),
        "{:?}",
        started.elapsed()
    );
}

fn pinpoint_result(status: &str, code: u16) -> Reply {
    Reply::ok(json!({
        "ApplicationId": "app123",
        "RequestId": "req-1",
        "Result": {PHONE: {"DeliveryStatus": status, "StatusCode": code, "StatusMessage": format!("status for {PHONE}"), "MessageId": "pp-1"}}
    }))
}

#[tokio::test]
async fn pinpoint_sends_the_documented_request() {
    let endpoint = FakeEndpoint::start(|_| pinpoint_result("SUCCESSFUL", 200)).await;
    let receipt = pinpoint(&endpoint).await.send(&message()).await.unwrap();
    assert_eq!(receipt.message_id.as_deref(), Some("pp-1"));
    let request = &endpoint.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.uri.path(), "/v1/apps/app123/messages");
    assert!(
        request
            .header("content-type")
            .starts_with("application/json")
    );
    assert_eq!(
        request.json,
        // The MessageRequest is the HTTP payload itself.
        json!({
            "Addresses": {PHONE: {"ChannelType": "SMS"}},
            "MessageConfiguration": {"SMSMessage": {
                "Body": "123456 is your app sign-in code.",
                "Keyword": "LOGIN",
                "MessageType": "TRANSACTIONAL",
                "OriginationNumber": "+12065550199"
            }}
        })
    );
}

#[tokio::test]
async fn pinpoint_checks_each_delivery_status() {
    for (status, code, expected) in [
        ("OPT_OUT", 400, SmsFailure::OptedOut),
        ("THROTTLED", 429, SmsFailure::Throttled),
        ("TEMPORARY_FAILURE", 500, SmsFailure::Unavailable),
        ("PERMANENT_FAILURE", 400, SmsFailure::Rejected),
        ("DUPLICATE", 400, SmsFailure::Rejected),
        ("UNKNOWN_FAILURE", 500, SmsFailure::Rejected),
    ] {
        let endpoint = FakeEndpoint::start(move |_| pinpoint_result(status, code)).await;
        let (failure, detail) = failure(pinpoint(&endpoint).await.send(&message()).await);
        assert_eq!(failure, expected, "{status}");
        assert!(detail.contains(status), "{detail}");
        assert!(!detail.contains("2065550100"), "{detail}");
    }
}

#[tokio::test]
async fn pinpoint_answer_without_the_address_is_a_failure() {
    let endpoint =
        FakeEndpoint::start(|_| Reply::ok(json!({"ApplicationId": "app123", "Result": {}}))).await;
    assert_eq!(
        failure(pinpoint(&endpoint).await.send(&message()).await).0,
        SmsFailure::Unavailable
    );
}

#[tokio::test]
async fn pinpoint_errors_and_slowness_are_reported() {
    let endpoint =
        FakeEndpoint::start(|_| Reply::aws_error(429, "TooManyRequestsException", "slow down"))
            .await;
    assert_eq!(
        failure(pinpoint(&endpoint).await.send(&message()).await).0,
        SmsFailure::Throttled
    );

    let endpoint =
        FakeEndpoint::start(|_| Reply::aws_error(500, "InternalServerErrorException", "boom"))
            .await;
    assert_eq!(
        failure(pinpoint(&endpoint).await.send(&message()).await).0,
        SmsFailure::Unavailable
    );

    let endpoint =
        FakeEndpoint::start(|_| pinpoint_result("SUCCESSFUL", 200).after(Duration::from_secs(10)))
            .await;
    let started = Instant::now();
    assert_eq!(
        failure(pinpoint(&endpoint).await.send(&message()).await).0,
        SmsFailure::Timeout
    );
    assert!(
        started.elapsed() < Duration::from_millis(4_000),
        "{:?}",
        started.elapsed()
    );
}
