//! The performance harness (`scripts/bench` runs it; see BENCHMARKS.md).
//!
//! Each trigger binary, and the Node.js equivalents of Define, Create and Verify under the
//! official runtime interface client, is started again and again against a local Lambda Runtime
//! API: the harness records the init proxy (process start → first `GET …/next`), the first and
//! the warm invocations' latency over the API, and peak RSS. It also times the Define and Verify
//! handlers in process, runs Create against an SMS endpoint that never answers, reads binary and
//! zip sizes and criterion's figures, judges the budgets, and writes `results.json`, a Markdown
//! report (into BENCHMARKS.md between its markers, in full mode) and an SVG plot.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod criterion;
mod http;
mod inproc;
mod measure;
mod process;
mod report;
mod runtime_api;
mod sizes;
mod stats;
mod stub;
mod subjects;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use measure::{Plan, Series};
use report::{HandlerResult, Results, SubjectResult};
use stats::Summary;
use subjects::{Implementation, Subject, Trigger};

const BEGIN: &str = "<!-- harness:begin -->";
const END: &str = "<!-- harness:end -->";

/// Measures the triggers; see BENCHMARKS.md.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Rust binaries to measure, as `<profile>=<dir>`; the first is the one judged against the
    /// budgets, the others are compared with it.
    #[arg(long = "rust", value_name = "PROFILE=DIR", required = true)]
    rust: Vec<String>,
    /// `bench/node`, with its `node_modules` installed: measure the Node.js equivalents too.
    #[arg(long, value_name = "DIR")]
    node_dir: Option<PathBuf>,
    /// Builds whose sizes to report, as `<arch>:<profile>=<lambda_dir>:<bin_dir>`.
    #[arg(long = "sizes", value_name = "ARCH:PROFILE=LAMBDA_DIR:BIN_DIR")]
    sizes: Vec<String>,
    /// The sample events.
    #[arg(long, default_value = "events")]
    events: PathBuf,
    /// A quick run that checks everything still works (few processes and invocations).
    #[arg(long)]
    short: bool,
    /// Processes per subject (default 30, short 3).
    #[arg(long)]
    spawns: Option<usize>,
    /// Unrecorded warm-up invocations per process (default 100, short 10).
    #[arg(long)]
    warmup: Option<usize>,
    /// Recorded warm invocations per process (default 1000, short 50).
    #[arg(long)]
    warm: Option<usize>,
    /// Processes for the hanging-provider check (default 5, short 1).
    #[arg(long)]
    hang_spawns: Option<usize>,
    /// In-process handler invocations (default 20000, short 500).
    #[arg(long)]
    handler_invocations: Option<usize>,
    /// criterion's output directory (`target/criterion`), for its figures.
    #[arg(long)]
    criterion: Option<PathBuf>,
    /// Where results.json, report.md and benchmarks.svg go.
    #[arg(long, default_value = "target/bench/results")]
    out: PathBuf,
    /// Write the report into this file between `<!-- harness:begin -->` and
    /// `<!-- harness:end -->`.
    #[arg(long)]
    benchmarks_md: Option<PathBuf>,
    /// Also write the plot here (linked from the report by this path).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// The command shown as the way to reproduce the report.
    #[arg(long, default_value = "scripts/bench")]
    command: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("perf-harness: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let short = args.short;
    let plan = Plan {
        spawns: args.spawns.unwrap_or(if short { 3 } else { 30 }),
        warmup: args.warmup.unwrap_or(if short { 10 } else { 100 }),
        warm: args.warm.unwrap_or(if short { 50 } else { 1000 }),
    };
    let hang_spawns = args.hang_spawns.unwrap_or(if short { 1 } else { 5 });
    let handler_count = args
        .handler_invocations
        .unwrap_or(if short { 500 } else { 20_000 });
    if plan.spawns == 0 || plan.warm == 0 {
        return Err("--spawns and --warm must be at least 1".into());
    }

    let mut rust = Vec::new();
    for entry in &args.rust {
        let (profile, dir) = entry
            .split_once('=')
            .ok_or_else(|| format!("--rust {entry}: expected <profile>=<dir>"))?;
        rust.push((profile.to_owned(), absolute(Path::new(dir))?));
    }
    let primary_profile = rust
        .first()
        .map(|(profile, _)| profile.clone())
        .ok_or("no --rust binaries")?;
    let builds = args
        .sizes
        .iter()
        .map(|text| sizes::Build::parse(text))
        .collect::<Result<Vec<_>, _>>()?;

    let node_dir = args.node_dir.as_deref().map(absolute).transpose()?;
    let node_version = node_dir
        .as_ref()
        .map(|_| tool_version("node", &["--version"]));
    let node_major = node_version
        .as_deref()
        .and_then(|v| v.trim_start_matches('v').split('.').next())
        .unwrap_or("20")
        .to_owned();
    let mut subjects = Vec::new();
    for trigger in Trigger::ALL {
        for (profile, dir) in &rust {
            subjects.push(Subject::rust(trigger, profile, dir));
        }
        if let Some(node_dir) = &node_dir {
            subjects.extend(Subject::node(trigger, node_dir, &node_major));
        }
    }

    let mut results = Results {
        mode: if short { "short" } else { "full" }.into(),
        command: args.command.clone(),
        environment: environment(args.node_dir.as_deref()),
        plan: (plan.spawns, plan.warmup, plan.warm),
        primary_profile: primary_profile.clone(),
        subjects: Vec::new(),
        handlers: Vec::new(),
        hang: Vec::new(),
        sizes: Vec::new(),
        criterion: Vec::new(),
        budgets: Vec::new(),
    };

    for trigger in Trigger::ALL {
        let mut runners = subjects
            .iter()
            .filter(|s| s.trigger == trigger)
            .map(measure::Runner::new)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        eprintln!(
            "measuring {} ({} subjects, taking turns) …",
            trigger.binary(),
            runners.len()
        );
        for round in 0..plan.spawns {
            // Each round starts with a different subject.
            let count = runners.len().max(1);
            for offset in 0..count {
                if let Some(runner) = runners.get_mut((round + offset) % count) {
                    runner
                        .spawn_once(plan, &args.events)
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        for runner in &runners {
            let subject = runner.subject();
            let result = summarise(subject, runner.series())?;
            eprintln!(
                "  {}: init p50 {:.2} ms, first p50 {:.2} ms, warm p50 {:.1} µs p99 {:.1} µs, peak RSS {:.1} MB",
                subject.implementation.label(),
                result.init_ms.p50,
                result.first_ms.p50,
                result.warm_us.p50,
                result.warm_us.p99,
                result.peak_rss_mb.p50
            );
            results.subjects.push(result);
        }
    }

    for trigger in [Trigger::Define, Trigger::Verify] {
        eprintln!("timing the {} handler in process …", trigger.binary());
        let latencies =
            inproc::handler_latencies(trigger, handler_count / 10, handler_count, &args.events)?;
        let latency_us = Summary::of_micros(&latencies).ok_or("no handler timings")?;
        results.handlers.push(HandlerResult {
            trigger,
            latency_us,
        });
    }

    let limit = Duration::from_secs(8);
    for subject in subjects.iter().filter(|s| {
        s.trigger == Trigger::Create
            && match &s.implementation {
                Implementation::Rust { profile } => *profile == primary_profile,
                Implementation::Node => true,
            }
    }) {
        eprintln!(
            "{} against an SMS endpoint that never answers …",
            subject.name()
        );
        let hang = measure::measure_hang(subject, hang_spawns, limit, &args.events)
            .map_err(|e| e.to_string())?;
        results.hang.push((subject.implementation.label(), hang));
    }

    for build in &builds {
        results.sizes.extend(sizes::measure(build)?);
    }
    if let Some(dir) = &args.criterion {
        results.criterion = criterion::read(dir);
    }
    results.judge();

    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let json = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    write(&args.out.join("results.json"), &json)?;
    let svg = results.svg();
    write(&args.out.join("benchmarks.svg"), &svg)?;
    let plot_link = match &args.plot {
        Some(path) => {
            write(path, &svg)?;
            Some(path.display().to_string())
        }
        None => None,
    };
    let markdown = results.markdown(plot_link.as_deref());
    write(&args.out.join("report.md"), &markdown)?;
    if let Some(path) = &args.benchmarks_md {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let markers = text.find(BEGIN).and_then(|begin| {
            let after = begin + BEGIN.len();
            let end = after + text.get(after..)?.find(END)?;
            Some((text.get(..after)?, text.get(end..)?))
        });
        let Some((head, tail)) = markers else {
            return Err(format!("{} has no {BEGIN} … {END} markers", path.display()));
        };
        write(path, &format!("{head}\n{markdown}\n{tail}"))?;
    }

    println!("{markdown}");
    let unmet: Vec<&str> = results
        .budgets
        .iter()
        .filter(|b| !b.met)
        .map(|b| b.what.as_str())
        .collect();
    if unmet.is_empty() {
        eprintln!("every budget met ({} mode)", results.mode);
    } else if short {
        // Short mode checks that everything runs; its debug builds are not judged.
        eprintln!(
            "informational only, not a failure: short mode runs debug builds, which are not judged against the budgets (above the release figures' limits: {})",
            unmet.join("; ")
        );
    } else {
        return Err(format!(
            "budgets not met (the report is written): {}",
            unmet.join("; ")
        ));
    }
    Ok(())
}

fn absolute(path: &Path) -> Result<PathBuf, String> {
    std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn summarise(subject: &Subject, series: &Series) -> Result<SubjectResult, String> {
    let missing = || format!("{}: no samples", subject.name());
    let millis = |values: &[Duration]| {
        Summary::of(
            &values
                .iter()
                .map(|d| d.as_secs_f64() * 1e3)
                .collect::<Vec<_>>(),
        )
    };
    Ok(SubjectResult {
        trigger: subject.trigger,
        implementation: subject.implementation.clone(),
        init_ms: millis(&series.init).ok_or_else(missing)?,
        first_ms: millis(&series.first).ok_or_else(missing)?,
        warm_us: Summary::of_micros(&series.warm).ok_or_else(missing)?,
        peak_rss_mb: Summary::of(
            &series
                .peak_rss_kib
                .iter()
                .map(|kib| *kib as f64 * 1024.0 / 1e6)
                .collect::<Vec<_>>(),
        )
        .ok_or_else(missing)?,
    })
}

/// What a command prints, trimmed (`unknown` if it fails).
fn tool_version(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

/// What the figures were measured on.
fn environment(node_dir: Option<&Path>) -> Vec<(String, String)> {
    let command = tool_version;
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mut environment = vec![
        ("date".to_owned(), command("date", &["-u", "+%Y-%m-%d"])),
        (
            "machine".to_owned(),
            format!("{cores} × {cpu}, Linux {}", command("uname", &["-r"])),
        ),
        ("Rust".to_owned(), command("rustc", &["--version"])),
    ];
    if let Some(dir) = node_dir {
        let version = |package: &str| {
            std::fs::read_to_string(dir.join("node_modules").join(package).join("package.json"))
                .ok()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                .and_then(|value| value.get("version")?.as_str().map(str::to_owned))
                .unwrap_or_else(|| "unknown".into())
        };
        environment.push((
            "Node.js".to_owned(),
            format!(
                "{}, aws-lambda-ric {}, @aws-sdk/client-pinpoint-sms-voice-v2 {}",
                command("node", &["--version"]),
                version("aws-lambda-ric"),
                version("@aws-sdk/client-pinpoint-sms-voice-v2")
            ),
        ));
    }
    environment
}
