//! The table the load prints: one row per app, with its rate divided by each reference app's.

use crate::client::Measured;

/// Prints a markdown table of `rows`, with a `vs <name>` column per name in `references` that is
/// one of the rows (a name not measured gets no column).
pub fn print(rows: &[(String, Measured)], references: &[String]) {
    let references: Vec<(&str, f64)> = references
        .iter()
        .filter_map(|name| rows.iter().find(|(row, _)| row == name).map(|(row, m)| (row.as_str(), m.rate)))
        .collect();
    let mut head = String::from("| app | req/s | p50 | p99 | errors |");
    let mut rule = String::from("|---|---:|---:|---:|---:|");
    for (name, _) in &references {
        head.push_str(&format!(" vs {name} |"));
        rule.push_str("---:|");
    }
    println!("{head}\n{rule}");
    for (name, m) in rows {
        let mut line = format!(
            "| {name} | {:.0} | {:.2} ms | {:.2} ms | {} |",
            m.rate,
            m.p50_us as f64 / 1000.0,
            m.p99_us as f64 / 1000.0,
            m.errors
        );
        for (_, rate) in &references {
            line.push_str(&if *rate > 0.0 {
                format!(" {:.2} |", m.rate / rate)
            } else {
                " – |".to_owned()
            });
        }
        println!("{line}");
    }
}
