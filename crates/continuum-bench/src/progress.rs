//! Progress bars on stderr, hidden when stderr is not a terminal (CI logs, redirections).

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

fn target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() }
}

/// A bar over the `total` time of a timed scenario; its message shows the requests counted so far.
pub fn timed(label: &str, total: Duration) -> ProgressBar {
    let millis = u64::try_from(total.as_millis()).unwrap_or(u64::MAX);
    let bar = ProgressBar::with_draw_target(Some(millis), target());
    bar.set_style(
        ProgressStyle::with_template("{prefix:>11} [{bar:30}] {elapsed:>4} {msg}")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar.set_prefix(label.to_owned());
    bar
}

/// A bar over `count` items (sessions to create).
pub fn counted(label: &str, count: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(count), target());
    bar.set_style(
        ProgressStyle::with_template("{prefix:>11} [{bar:30}] {pos}/{len} ({per_sec})")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar.set_prefix(label.to_owned());
    bar
}
