//! Configuration: any set of variables (`NAME=VALUE` lines: the documented names and others,
//! arbitrary values; seeds and a dictionary of every variable's name in scripts/fuzz) through
//! the cold-start checks and every handler's construction.
//!
//! Invariants: a refused configuration names one of the documented variables (the message an
//! operator sees at cold start); an accepted one builds every handler or refuses the same way;
//! neither panics.
#![no_main]

use std::collections::HashMap;
use std::sync::Arc;

use cognito_passwordless::Error;
use cognito_passwordless::config::{Config, VARIABLES};
use cognito_passwordless::email::ConsoleEmailSender;
use cognito_passwordless::sms::ConsoleSender;
use cognito_passwordless::triggers::{
    CreateAuthChallenge, DefineAuthChallenge, PostAuthentication, PreAuthentication,
    VerifyAuthChallenge,
};
use libfuzzer_sys::fuzz_target;

fn documented(error: &Error) {
    match error {
        Error::Config { variable, reason } => {
            assert!(
                VARIABLES.contains(variable),
                "undocumented variable {variable}"
            );
            assert!(!reason.is_empty());
        }
        other => panic!("a configuration refused without naming its variable: {other}"),
    }
}

fuzz_target!(|data: &[u8]| {
    // `NAME=VALUE` lines, as an environment.
    let text = String::from_utf8_lossy(data);
    let vars: HashMap<String, String> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    let config = match Config::from_lookup(|name| vars.get(name).cloned()) {
        Ok(config) => config,
        Err(error) => return documented(&error),
    };
    let _ = DefineAuthChallenge::new(&config);
    let _ = PreAuthentication::new(&config);
    if let Err(error) = VerifyAuthChallenge::new(&config, None) {
        documented(&error);
    }
    if let Err(error) = PostAuthentication::new(&config) {
        documented(&error);
    }
    match CreateAuthChallenge::new(
        &config,
        Arc::new(ConsoleSender::new(Box::new(std::io::sink()))),
    ) {
        Ok(create) => {
            let _ = create
                .with_email_sender(Arc::new(ConsoleEmailSender::new(Box::new(std::io::sink()))));
        }
        Err(error) => documented(&error),
    }
    if let Err(error) = config.migration_client_ids() {
        documented(&error);
    }
    if let Err(error) = config.seal_key() {
        documented(&error);
    }
});
