//! Feedback on long runs, on stderr only: a progress bar for walks and diffs that take
//! longer than about half a second; one line per phase in CI (`CI=true`); nothing with
//! `--quiet` or when stderr is not a terminal. Never touches stdout, never decides
//! anything: commands report what they do, this module chooses how to show it.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown for this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing (`--quiet`, or stderr is not a terminal outside CI).
    Hidden,
    /// One line per finished phase (CI logs are not terminals).
    Lines,
    /// A live bar, drawn once a phase has run for `DELAY`.
    Bar,
}

/// A phase shorter than this shows no bar at all.
const DELAY: Duration = Duration::from_millis(500);

static MODE: OnceLock<Mode> = OnceLock::new();

/// The mode for these settings: pure, so it is tested without a terminal.
pub fn choose(quiet: bool, ci: Option<&str>, stderr_is_terminal: bool) -> Mode {
    let in_ci = ci.is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    if quiet {
        Mode::Hidden
    } else if in_ci {
        Mode::Lines
    } else if stderr_is_terminal {
        Mode::Bar
    } else {
        Mode::Hidden
    }
}

/// Sets the process-wide mode from `--quiet`, `CI` and stderr; the first call wins.
pub fn configure(quiet: bool) {
    let ci = std::env::var("CI").ok();
    let mode = choose(quiet, ci.as_deref(), std::io::stderr().is_terminal());
    let _ = MODE.set(mode);
}

fn mode() -> Mode {
    *MODE.get().unwrap_or(&Mode::Hidden)
}

/// One phase of work ("walking history", "reading changed paths").
pub struct Phase {
    name: &'static str,
    total: Option<u64>,
    done: u64,
    started: Instant,
    mode: Mode,
    bar: Option<ProgressBar>,
}

/// Starts a phase; `total` is the number of steps when known.
pub fn phase(name: &'static str, total: Option<u64>) -> Phase {
    Phase {
        name,
        total,
        done: 0,
        started: Instant::now(),
        mode: mode(),
        bar: None,
    }
}

impl Phase {
    /// Records `n` more steps done.
    pub fn inc(&mut self, n: u64) {
        self.set(self.done + n);
    }

    /// Records that `done` steps are done. Cheap: the clock is read every 256 steps.
    pub fn set(&mut self, done: u64) {
        let before = self.done;
        self.done = done;
        if self.mode != Mode::Bar || (before >> 8 == self.done >> 8 && self.bar.is_none()) {
            return;
        }
        match &self.bar {
            Some(bar) => bar.set_position(self.done),
            None if self.started.elapsed() >= DELAY => {
                let bar = match self.total {
                    Some(total) => {
                        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                            .with_style(
                                ProgressStyle::with_template(
                                    "{prefix} [{bar:30}] {pos}/{len} commits ({elapsed})",
                                )
                                .unwrap_or_else(|_| ProgressStyle::default_bar())
                                .progress_chars("=> "),
                            )
                    }
                    None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                        .with_style(
                            ProgressStyle::with_template("{prefix} {pos} commits ({elapsed})")
                                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                        ),
                };
                let bar = bar
                    .with_prefix(self.name)
                    .with_position(self.done)
                    .with_elapsed(self.started.elapsed());
                bar.tick();
                self.bar = Some(bar);
            }
            None => {}
        }
    }

    /// Ends the phase: clears the bar, or prints the phase's line in CI.
    pub fn finish(self) {
        self.finish_with(None);
    }

    /// `finish`, adding `detail` to the CI line (what the phase's time went to).
    pub fn finish_with(self, detail: Option<String>) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.mode == Mode::Lines {
            let line = line(self.name, self.done, self.started.elapsed());
            match detail {
                Some(detail) => eprintln!("{line} ({detail})"),
                None => eprintln!("{line}"),
            }
        }
    }
}

/// The CI line for a finished phase.
pub fn line(name: &str, done: u64, elapsed: Duration) -> String {
    format!(
        "relplan: {name}: {done} commits in {:.1}s",
        elapsed.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_wins_everywhere() {
        assert_eq!(choose(true, Some("true"), true), Mode::Hidden);
        assert_eq!(choose(true, None, true), Mode::Hidden);
    }

    #[test]
    fn ci_prints_lines_even_without_a_terminal() {
        assert_eq!(choose(false, Some("true"), false), Mode::Lines);
        assert_eq!(choose(false, Some("TRUE"), true), Mode::Lines);
        assert_eq!(choose(false, Some("false"), false), Mode::Hidden);
    }

    #[test]
    fn bar_only_on_a_terminal() {
        assert_eq!(choose(false, None, true), Mode::Bar);
        assert_eq!(choose(false, None, false), Mode::Hidden);
    }

    #[test]
    fn ci_line_names_phase_and_count() {
        assert_eq!(
            line("walking history", 1200, Duration::from_millis(1530)),
            "relplan: walking history: 1200 commits in 1.5s"
        );
    }
}
