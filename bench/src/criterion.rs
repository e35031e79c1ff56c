//! The criterion benchmarks' latest figures (`target/criterion/*/new/`).

use std::path::Path;

use serde_json::Value;

/// One criterion benchmark's median and its 95 % confidence interval, in nanoseconds.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Figure {
    /// The benchmark's name.
    pub name: String,
    /// Median estimate.
    pub median_ns: f64,
    /// Lower bound of the interval.
    pub low_ns: f64,
    /// Upper bound of the interval.
    pub high_ns: f64,
}

/// Every benchmark under `dir`, by name; empty when criterion has not run.
pub(crate) fn read(dir: &Path) -> Vec<Figure> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut figures: Vec<Figure> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let new = entry.path().join("new");
            let read = |file: &str| -> Option<Value> {
                serde_json::from_str(&std::fs::read_to_string(new.join(file)).ok()?).ok()
            };
            let benchmark = read("benchmark.json")?;
            let estimates = read("estimates.json")?;
            let median = estimates.get("median")?;
            let interval = median.get("confidence_interval")?;
            Some(Figure {
                name: benchmark.get("full_id")?.as_str()?.to_owned(),
                median_ns: median.get("point_estimate")?.as_f64()?,
                low_ns: interval.get("lower_bound")?.as_f64()?,
                high_ns: interval.get("upper_bound")?.as_f64()?,
            })
        })
        .collect();
    figures.sort_by(|a, b| a.name.cmp(&b.name));
    figures
}
