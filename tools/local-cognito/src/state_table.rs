//! The abuse-protection state table for local runs: created on a DynamoDB-protocol server (moto's
//! server, DynamoDB Local, or real DynamoDB) when it does not exist yet, with the layout the
//! triggers expect (string `pk` and `sk`; `expiresAt` is the TTL attribute on AWS).

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
};

/// A DynamoDB client for `endpoint` (or the standard AWS configuration when `None`). Local
/// endpoints get placeholder credentials when none are set.
pub async fn client(endpoint: Option<&str>) -> Result<Client, String> {
    let mut loader = cognito_passwordless::aws::sdk_config_loader(Duration::from_secs(5))
        .map_err(|error| error.to_string())?;
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader.credentials_provider(aws_credential_types::Credentials::from_keys(
                "local", "local", None,
            ));
        }
    }
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none()
    {
        loader = loader.region(aws_sdk_dynamodb::config::Region::new("us-east-1"));
    }
    Ok(Client::new(&loader.load().await))
}

/// Creates `table` unless it exists, and waits until it is active.
pub async fn ensure(client: &Client, table: &str) -> Result<(), String> {
    let described = client.describe_table().table_name(table).send().await;
    match described {
        Ok(_) => {}
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|service| service.is_resource_not_found_exception()) =>
        {
            let attribute = |name: &str| {
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(|e| e.to_string())
            };
            let key = |name: &str, kind: KeyType| {
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(kind)
                    .build()
                    .map_err(|e| e.to_string())
            };
            client
                .create_table()
                .table_name(table)
                .attribute_definitions(attribute("pk")?)
                .attribute_definitions(attribute("sk")?)
                .key_schema(key("pk", KeyType::Hash)?)
                .key_schema(key("sk", KeyType::Range)?)
                .billing_mode(BillingMode::PayPerRequest)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "cannot create table {table}: {}",
                        aws_sdk_dynamodb::error::DisplayErrorContext(&e)
                    )
                })?;
        }
        Err(error) => {
            return Err(format!(
                "cannot reach the state table {table}: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(&error)
            ));
        }
    }
    wait_active(client, table).await?;
    // Items expire by themselves on AWS too (`expiresAt`, epoch seconds).
    let ttl = aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
        .attribute_name("expiresAt")
        .enabled(true)
        .build()
        .map_err(|e| e.to_string())?;
    let described = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .ok()
        .and_then(|output| output.time_to_live_description)
        .and_then(|description| description.attribute_name);
    if described.as_deref() != Some("expiresAt") {
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "cannot turn on TTL for {table}: {}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(&e)
                )
            })?;
    }
    Ok(())
}

async fn wait_active(client: &Client, table: &str) -> Result<(), String> {
    for _ in 0..60 {
        let status = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .ok()
            .and_then(|output| output.table?.table_status);
        if status == Some(TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(format!("table {table} did not become active"))
}
