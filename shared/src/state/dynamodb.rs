//! [`StateStore`] on DynamoDB: conditional writes for claims, atomic conditional counters for the
//! answers to a code, one item per failed attempt, and optimistic versions for send histories
//! (read, check, write only if nobody wrote since; several histories in one transaction).
//! Expiry is checked on every read and in every condition: DynamoDB's TTL deletion is lazy, and
//! local servers do not delete at all.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::{
    AnswerBudget, ClaimOutcome, CodeKey, FAILURE_PREFIX, SENDS, SendClaim, StateError, StateFuture,
    StateStore,
};
use crate::abuse::{LockoutPolicy, SendLimit, SendLimits, check_send, prune_sends};

/// Seconds a history outlives its newest entry (the longest window, a day).
const HISTORY_TTL: u64 = 86_400;
/// Tries of an optimistic write before giving up under contention.
const ATTEMPTS: usize = 4;
/// The most failure items read for one lockout check (the lockout threshold is at most 100, and
/// a locked account records no more failures).
const MAX_FAILURE_ITEMS: i32 = 500;

/// [`StateStore`] on one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

/// A history item as read: its times and version (0 when absent).
struct History {
    times: Vec<u64>,
    version: u64,
}

impl DynamoStore {
    /// A store on `table`, through `client` (built once per cold start).
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    /// An `UpdateItem` of the code item `key`.
    fn update(
        &self,
        key: &CodeKey,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.pk.clone()))
            .key("sk", AttributeValue::S(key.sk.clone()))
    }

    async fn history(&self, pk: &str, sk: &str) -> Result<History, StateError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.to_owned()))
            .key("sk", AttributeValue::S(sk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(describe)?;
        let Some(item) = output.item() else {
            return Ok(History {
                times: Vec::new(),
                version: 0,
            });
        };
        let times = match item.get("times") {
            Some(AttributeValue::L(values)) => values
                .iter()
                .filter_map(|value| value.as_n().ok()?.parse().ok())
                .collect(),
            _ => Vec::new(),
        };
        let version = item
            .get("version")
            .and_then(|value| value.as_n().ok())
            .and_then(|text| text.parse().ok())
            .unwrap_or(0);
        Ok(History { times, version })
    }

    /// A history at `version + 1`, with the condition that it is still at `version`.
    fn history_write(
        pk: &str,
        sk: &str,
        times: &[u64],
        version: u64,
        expires_at: u64,
    ) -> HistoryWrite {
        let mut item = HashMap::new();
        item.insert("pk".to_owned(), AttributeValue::S(pk.to_owned()));
        item.insert("sk".to_owned(), AttributeValue::S(sk.to_owned()));
        item.insert(
            "times".to_owned(),
            AttributeValue::L(times.iter().map(|time| number(*time)).collect()),
        );
        item.insert("version".to_owned(), number(version + 1));
        item.insert("expiresAt".to_owned(), number(expires_at));
        if version == 0 {
            HistoryWrite {
                item,
                condition: "attribute_not_exists(pk)",
                values: None,
            }
        } else {
            HistoryWrite {
                item,
                condition: "version = :version",
                values: Some(HashMap::from([(":version".to_owned(), number(version))])),
            }
        }
    }
}

/// One optimistic history write.
struct HistoryWrite {
    item: HashMap<String, AttributeValue>,
    condition: &'static str,
    values: Option<HashMap<String, AttributeValue>>,
}

fn number(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn describe<E, R>(error: SdkError<E, R>) -> StateError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StateError(
        DisplayErrorContext(&error)
            .to_string()
            .chars()
            .take(300)
            .collect(),
    )
}

impl StateStore for DynamoStore {
    fn claim_send<'a>(&'a self, claim: &'a SendClaim) -> StateFuture<'a, ClaimOutcome> {
        Box::pin(async move {
            let written = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("pk", AttributeValue::S(claim.pk.clone()))
                .item("sk", AttributeValue::S(claim.sk.clone()))
                .item("seal", AttributeValue::S(claim.seal.clone()))
                .item("owner", AttributeValue::S(claim.owner.clone()))
                .item("createdAt", number(claim.now))
                .item("expiresAt", number(claim.now + claim.ttl_seconds))
                // A live claim blocks; an expired one (TTL deletion is lazy) does not.
                .condition_expression("attribute_not_exists(pk) OR expiresAt <= :now")
                .expression_attribute_values(":now", number(claim.now))
                .send()
                .await;
            match written {
                Ok(_) => Ok(ClaimOutcome::Claimed),
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|service| service.is_conditional_check_failed_exception()) =>
                {
                    let existing = self
                        .client
                        .get_item()
                        .table_name(&self.table)
                        .key("pk", AttributeValue::S(claim.pk.clone()))
                        .key("sk", AttributeValue::S(claim.sk.clone()))
                        .consistent_read(true)
                        .send()
                        .await
                        .map_err(describe)?;
                    let item = existing.item().ok_or_else(|| {
                        StateError("a claim vanished while it was read".to_owned())
                    })?;
                    let text = |name: &str| item.get(name).and_then(|value| value.as_s().ok());
                    // Handed back only to its owner: a claim is never another user's code.
                    if text("owner") != Some(&claim.owner) {
                        return Err(StateError(
                            "a live claim belongs to another user".to_owned(),
                        ));
                    }
                    let seal = text("seal")
                        .ok_or_else(|| StateError("a claim without a seal".to_owned()))?;
                    Ok(ClaimOutcome::Duplicate { seal: seal.clone() })
                }
                Err(error) => Err(describe(error)),
            }
        })
    }

    fn release_send<'a>(&'a self, pk: &'a str, sk: &'a str, seal: &'a str) -> StateFuture<'a, ()> {
        Box::pin(async move {
            let deleted = self
                .client
                .delete_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(pk.to_owned()))
                .key("sk", AttributeValue::S(sk.to_owned()))
                // Only this call's own claim: never one another call made since.
                .condition_expression("seal = :seal")
                .expression_attribute_values(":seal", AttributeValue::S(seal.to_owned()))
                .send()
                .await;
            match deleted {
                Ok(_) => Ok(()),
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|service| service.is_conditional_check_failed_exception()) =>
                {
                    Ok(())
                }
                Err(error) => Err(describe(error)),
            }
        })
    }

    fn record_send<'a>(
        &'a self,
        keys: &'a [String],
        now: u64,
        limits: SendLimits,
    ) -> StateFuture<'a, Result<(), SendLimit>> {
        Box::pin(async move {
            for _ in 0..ATTEMPTS {
                let mut writes = Vec::new();
                for key in keys {
                    let history = self.history(key, SENDS).await?;
                    let mut times = prune_sends(&history.times, now);
                    if let Err(limit) = check_send(&times, now, limits) {
                        return Ok(Err(limit));
                    }
                    times.push(now);
                    let write =
                        Self::history_write(key, SENDS, &times, history.version, now + HISTORY_TTL);
                    let put = Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(write.item))
                        .condition_expression(write.condition)
                        .set_expression_attribute_values(write.values)
                        .build()
                        .map_err(|error| StateError(format!("building a write: {error}")))?;
                    writes.push(TransactWriteItem::builder().put(put).build());
                }
                let written = self
                    .client
                    .transact_write_items()
                    .set_transact_items(Some(writes))
                    .send()
                    .await;
                match written {
                    Ok(_) => return Ok(Ok(())),
                    // Someone else wrote one of the histories since it was read: read again.
                    Err(error)
                        if error
                            .as_service_error()
                            .is_some_and(|service| service.is_transaction_canceled_exception()) => {
                    }
                    Err(error) => return Err(describe(error)),
                }
            }
            Err(StateError(
                "send histories kept changing under contention".to_owned(),
            ))
        })
    }

    fn count_answer<'a>(
        &'a self,
        key: &'a CodeKey,
        limit: u8,
        now: u64,
        ttl_seconds: u64,
    ) -> StateFuture<'a, AnswerBudget> {
        Box::pin(async move {
            // One conditional update counts the answer before anything is compared: DynamoDB
            // applies it atomically, so of any number of concurrent calls at most `limit` pass.
            // Every call is exactly one request, first answer or not, real code or decoy. A
            // code's id is new with every code (a random salt), so an item never outlives its
            // code into another one's count.
            let counted = self
                .update(key)
                .update_expression(
                    "SET answers = if_not_exists(answers, :zero) + :one, \
                     expiresAt = if_not_exists(expiresAt, :expires)",
                )
                .condition_expression(
                    "attribute_not_exists(usedAt) AND \
                     (attribute_not_exists(answers) OR answers < :limit)",
                )
                .expression_attribute_values(":zero", number(0))
                .expression_attribute_values(":one", number(1))
                .expression_attribute_values(":expires", number(now + ttl_seconds))
                .expression_attribute_values(":limit", number(u64::from(limit)))
                .send()
                .await;
            match counted {
                Ok(_) => Ok(AnswerBudget::Allowed),
                Err(error) if is_condition_failure(&error) => Ok(AnswerBudget::Exhausted),
                Err(error) => Err(describe(error)),
            }
        })
    }

    fn consume_code<'a>(
        &'a self,
        key: &'a CodeKey,
        now: u64,
        ttl_seconds: u64,
    ) -> StateFuture<'a, bool> {
        Box::pin(async move {
            // Creates the item when the count could not write it (open mode went on without).
            let consumed = self
                .update(key)
                .update_expression(
                    "SET usedAt = :now, expiresAt = if_not_exists(expiresAt, :expires)",
                )
                .condition_expression("attribute_not_exists(usedAt)")
                .expression_attribute_values(":now", number(now))
                .expression_attribute_values(":expires", number(now + ttl_seconds))
                .send()
                .await;
            match consumed {
                Ok(_) => Ok(true),
                Err(error) if is_condition_failure(&error) => Ok(false),
                Err(error) => Err(describe(error)),
            }
        })
    }

    fn record_failure<'a>(
        &'a self,
        key: &'a str,
        now: u64,
        policy: LockoutPolicy,
    ) -> StateFuture<'a, ()> {
        Box::pin(async move {
            // One item per failure: concurrent failures never overwrite each other.
            let mut nonce = [0u8; 8];
            crate::random::random_bytes(&mut nonce)
                .map_err(|error| StateError(format!("randomness: {error}")))?;
            let nonce: String = nonce.iter().map(|byte| format!("{byte:02x}")).collect();
            self.client
                .put_item()
                .table_name(&self.table)
                .item("pk", AttributeValue::S(key.to_owned()))
                .item(
                    "sk",
                    AttributeValue::S(format!("{FAILURE_PREFIX}{now:012}#{nonce}")),
                )
                .item("at", number(now))
                .item(
                    "expiresAt",
                    number(now + policy.window_seconds.saturating_mul(2)),
                )
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await
                .map_err(describe)?;
            Ok(())
        })
    }

    fn failures<'a>(&'a self, key: &'a str, now: u64) -> StateFuture<'a, Vec<u64>> {
        Box::pin(async move {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .filter_expression("expiresAt > :now")
                .expression_attribute_values(":pk", AttributeValue::S(key.to_owned()))
                .expression_attribute_values(
                    ":prefix",
                    AttributeValue::S(FAILURE_PREFIX.to_owned()),
                )
                .expression_attribute_values(":now", number(now))
                .projection_expression("#at")
                .expression_attribute_names("#at", "at")
                .consistent_read(true)
                // The newest first: those are the ones that can lock.
                .scan_index_forward(false)
                .limit(MAX_FAILURE_ITEMS)
                .send()
                .await
                .map_err(describe)?;
            Ok(output
                .items()
                .iter()
                .filter_map(|item| item.get("at")?.as_n().ok()?.parse().ok())
                .collect())
        })
    }

    fn put_note<'a>(&'a self, pk: &'a str, sk: &'a str, expires_at: u64) -> StateFuture<'a, ()> {
        Box::pin(async move {
            self.client
                .put_item()
                .table_name(&self.table)
                .item("pk", AttributeValue::S(pk.to_owned()))
                .item("sk", AttributeValue::S(sk.to_owned()))
                .item("expiresAt", number(expires_at))
                .send()
                .await
                .map_err(describe)?;
            Ok(())
        })
    }

    fn take_note<'a>(&'a self, pk: &'a str, sk: &'a str, now: u64) -> StateFuture<'a, bool> {
        Box::pin(async move {
            // A conditional delete: of two sign-ins racing for one note, one takes it.
            let deleted = self
                .client
                .delete_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(pk.to_owned()))
                .key("sk", AttributeValue::S(sk.to_owned()))
                .condition_expression("expiresAt > :now")
                .expression_attribute_values(":now", number(now))
                .send()
                .await;
            match deleted {
                Ok(_) => Ok(true),
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|service| service.is_conditional_check_failed_exception()) =>
                {
                    Ok(false)
                }
                Err(error) => Err(describe(error)),
            }
        })
    }
}

fn is_condition_failure<R>(
    error: &SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError, R>,
) -> bool {
    error
        .as_service_error()
        .is_some_and(|service| service.is_conditional_check_failed_exception())
}
