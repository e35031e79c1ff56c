//! `captcha-samples`: image CAPTCHAs exactly as CreateAuthChallenge makes them, written to a
//! directory with their answers, to measure how well people and OCR read them (a local tool only:
//! a deployment never writes an answer anywhere).

use std::collections::BTreeMap;
use std::path::Path;

use cognito_passwordless::captcha::ImageChallenge;
use cognito_passwordless::seal::{SealBinding, SealKey};

use super::CaptchaSamples;

pub(super) fn captcha_samples(args: &CaptchaSamples) -> Result<(), String> {
    if args.count == 0 || args.count > 10_000 {
        return Err("--count must be from 1 to 10000".to_owned());
    }
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| format!("cannot create {}: {e}", args.dir.display()))?;
    let mut answers = BTreeMap::new();
    let binding = SealBinding {
        pool_id: "us-east-1_local",
        user: "name:samples",
    };
    let width = args.count.to_string().len();
    for number in 1..=args.count {
        let challenge =
            ImageChallenge::generate(&SealKey::none(), 0, binding).map_err(|e| e.to_string())?;
        let name = format!("captcha-{number:0width$}.png");
        write_png(&args.dir.join(&name), &challenge.data_url)?;
        answers.insert(name, challenge.expose_text().to_owned());
    }
    let json = serde_json::to_string_pretty(&answers).map_err(|e| e.to_string())?;
    let answers_file = args.dir.join("answers.json");
    std::fs::write(&answers_file, json + "\n")
        .map_err(|e| format!("cannot write {}: {e}", answers_file.display()))?;
    println!(
        "{} CAPTCHA images in {}, their answers in {}",
        args.count,
        args.dir.display(),
        answers_file.display()
    );
    Ok(())
}

fn write_png(path: &Path, data_url: &str) -> Result<(), String> {
    let png = super::report::captcha_png(data_url)?;
    std::fs::write(path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
