//! `serve`: the Cognito-compatible endpoint on 127.0.0.1, wired to the local pool's triggers.

use std::path::PathBuf;
use std::sync::Arc;

use local_cognito::cognito::LocalPool;

use super::Serve;
use super::prepare::{Prepared, prepare};
use super::report::print_call;

pub(super) async fn serve(args: Serve) -> Result<(), String> {
    // Listening first: the triggers are told this address (PostAuthentication calls the pool's
    // AdminUpdateUserAttributes with VERIFY_ON_FIRST_SIGN_IN).
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let Prepared {
        flow,
        triggers,
        output,
        mut settings,
        users,
        pre_authentication,
        user_migration,
        post_authentication,
        pre_sign_up,
    } = prepare(&args.common, Some(format!("http://127.0.0.1:{port}"))).await?;
    settings.account_recovery = args.account_recovery;
    let pool_id = settings.pool_id.clone();
    let client_id = settings.client_id.clone();
    let migration_client_id = settings.migration_client_id.clone();
    let mut pool = LocalPool::new(settings, users, triggers.clone())
        .with_pre_authentication(pre_authentication)
        .with_post_authentication(post_authentication)
        .with_pre_sign_up(pre_sign_up);
    let migrating = user_migration.is_some();
    if let Some(host) = user_migration {
        pool = pool.with_user_migration(host);
    }
    if !args.quiet {
        pool = pool.with_observer(print_call);
    }
    let signer = local_cognito::serve::TokenSigner::generate()?;
    let mut endpoint = local_cognito::serve::Endpoint::new(pool, signer, port, output);
    let demo = args
        .demo_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo"));
    // A clean path in the banner (`…/examples/demo`, not `…/tools/local-cognito/../../…`).
    let demo = std::fs::canonicalize(&demo).unwrap_or(demo);
    let demo_ready = demo.join("index.html").is_file();
    if demo_ready {
        endpoint = endpoint.with_demo(demo.clone());
    }
    if !args.quiet {
        endpoint = endpoint.with_request_log(|line| println!("▸ {line}"));
    }
    if let Some(path) = &args.data {
        let existed = path.exists();
        endpoint = endpoint
            .with_data(local_cognito::serve::DataFile::new(path))
            .map_err(|error| format!("--data: {error}"))?;
        println!(
            "Users and refresh tokens kept in {} ({})",
            path.display(),
            if existed {
                "read from it"
            } else {
                "a new file"
            }
        );
    }
    let endpoint = Arc::new(endpoint);
    println!("Cognito user-pool API on http://127.0.0.1:{port}/ (flow {flow})");
    println!("  user pool {pool_id}, passwordless app client {client_id} (CUSTOM_AUTH, refresh)");
    if let Some(migration) = &migration_client_id {
        println!("  migration app client {migration} (USER_PASSWORD_AUTH, refresh; LEGACY_SOURCE)");
    }
    println!(
        "  tokens issued by {}; keys at {}/.well-known/jwks.json",
        endpoint.issuer(),
        endpoint.issuer()
    );
    println!("  SMS inbox: http://127.0.0.1:{port}/local/sms");
    if demo_ready {
        if !demo
            .join("node_modules/amazon-cognito-identity-js")
            .is_dir()
        {
            println!(
                "  (run `npm ci` in {} for the demo page's client library)",
                demo.display()
            );
        }
        println!("  demo page: http://127.0.0.1:{port}/demo/");
    }
    println!(
        "  triggers: Define, Create, Verify, PreAuthentication, PostAuthentication, PreSignUp{}",
        if migrating {
            ", UserMigration (LEGACY_SOURCE)"
        } else {
            ""
        }
    );
    println!(
        "  try: aws cognito-idp initiate-auth --endpoint-url http://127.0.0.1:{port} --region us-east-1 --no-sign-request --client-id {client_id} --auth-flow CUSTOM_AUTH --auth-parameters USERNAME=alice"
    );
    let app = endpoint.router();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string());
    triggers.define.stop().await;
    triggers.create.stop().await;
    triggers.verify.stop().await;
    served
}
