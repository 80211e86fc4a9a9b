//! The comparison as SVG bar charts (plotters' SVG backend), for BENCHMARKS.md.

use std::path::Path;

use plotters::prelude::*;

use super::StrategySummary;
use super::table::fault_kinds;

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw {path}: {message}")]
pub struct ChartError {
    /// The chart's file.
    pub path: String,
    /// What plotters said (its error type borrows the backend, so it is kept as text).
    pub message: String,
}

/// Draws `faults.svg` (seconds without any success, per fault and strategy) and `cost.svg`
/// (validate throughput, bytes per request and memory per session, per strategy) into `dir`.
pub fn draw(summaries: &[StrategySummary], dir: &Path) -> Result<(), ChartError> {
    let kinds = fault_kinds(summaries);
    let labels: Vec<String> = kinds.iter().map(|kind| kind.name().to_owned()).collect();
    let series: Vec<(String, Vec<f64>)> = summaries
        .iter()
        .map(|summary| {
            let values = kinds
                .iter()
                .map(|kind| {
                    summary
                        .faults
                        .iter()
                        .find(|fault| fault.fault == *kind)
                        .map_or(0.0, |fault| fault.unavailable_secs)
                })
                .collect();
            (summary.strategy.to_owned(), values)
        })
        .collect();
    bars(&dir.join("faults.svg"), "Longest time without any success, per fault (s)", &labels, &series)?;

    let names: Vec<String> = summaries.iter().map(|summary| summary.strategy.to_owned()).collect();
    let one = |values: Vec<f64>, name: &str| vec![(name.to_owned(), values)];
    bars(
        &dir.join("validate.svg"),
        "Validate throughput without faults (req/s)",
        &names,
        &one(summaries.iter().map(|s| s.resources.validate.per_sec).collect(), "validate"),
    )?;
    bars(
        &dir.join("memory.svg"),
        "Memory per session per node (bytes of RSS)",
        &names,
        &one(summaries.iter().map(|s| s.resources.memory_per_session).collect(), "memory"),
    )?;
    let backend = vec![
        (
            "validate".to_owned(),
            summaries.iter().map(|s| s.resources.validate.backend_bytes_per_request).collect(),
        ),
        (
            "patch".to_owned(),
            summaries
                .iter()
                .map(|s| s.resources.patch.map_or(0.0, |p| p.backend_bytes_per_request))
                .collect(),
        ),
    ];
    bars(&dir.join("backend-bytes.svg"), "Bytes between nodes or to the store per request", &names, &backend)
}

/// A grouped bar chart: one group per label, one bar per series.
fn bars(
    path: &Path,
    title: &str,
    labels: &[String],
    series: &[(String, Vec<f64>)],
) -> Result<(), ChartError> {
    let error = |message: String| ChartError { path: path.display().to_string(), message };
    let top =
        series.iter().flat_map(|(_, values)| values.iter().copied()).fold(0.0f64, f64::max).max(1e-9) * 1.15;
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| error(e.to_string()))?;
    let groups = labels.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..groups as f64, 0f64..top)
        .map_err(|e| error(e.to_string()))?;
    let label_of = |x: &f64| {
        let index = x.floor() as usize;
        let centred = (x - index as f64 - 0.5).abs() < 1e-6;
        if centred { labels.get(index).cloned().unwrap_or_default() } else { String::new() }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(groups * 2 + 1)
        .x_label_formatter(&label_of)
        .draw()
        .map_err(|e| error(e.to_string()))?;
    let width = 0.8 / series.len().max(1) as f64;
    for (index, (name, values)) in series.iter().enumerate() {
        let color = Palette99::pick(index).to_rgba();
        let rectangles = values.iter().enumerate().map(move |(group, value)| {
            let left = group as f64 + 0.1 + index as f64 * width;
            Rectangle::new([(left, 0.0), (left + width * 0.9, *value)], color.filled())
        });
        let drawn = chart.draw_series(rectangles).map_err(|e| error(e.to_string()))?;
        if series.len() > 1 {
            drawn
                .label(name.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
        }
    }
    if series.len() > 1 {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| error(e.to_string()))?;
    }
    root.present().map_err(|e| error(e.to_string()))
}
