//! The `relplan` binary: parse arguments, run, map the result to an exit code.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use clap::Parser;

/// mimalloc for Rust and, through symbol override, for libgit2's C allocations too:
/// reading a long history allocates and frees a buffer per object, and glibc's
/// malloc spent a quarter of a `plan` profile in its free lists (BENCHMARKS.md).
/// Blocks of a megabyte and up (a long range's per-commit vectors) are mapped on
/// their own and grow without copying (`memory`).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: relplan::memory::GrowInPlace<mimalloc::MiMalloc> =
    relplan::memory::GrowInPlace(mimalloc::MiMalloc);

fn main() -> ExitCode {
    relplan::memory::prefer_small_pages();
    let cli = relplan::cli::Cli::parse();
    // Tree diffs may run in a `relplan __changed-paths` helper process.
    if let Ok(exe) = std::env::current_exe() {
        relplan::git::helper::enable(exe);
    }
    match relplan::run(cli) {
        Ok(output) => {
            let mut stdout = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            // A closed pipe (relplan ... | head) is not an error.
            let code = match output.write_to(&mut stdout).and_then(|_| stdout.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot write output: {e}");
                    ExitCode::from(1)
                }
            };
            // The process ends here: freeing a long range's changes one allocation at
            // a time would only cost time (tens of milliseconds at 100,000 commits).
            std::mem::forget(output);
            code
        }
        Err(error) => {
            if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
                // An annotation on the workflow run, hint included.
                let text = match &error.hint {
                    Some(hint) => format!("{error}\n{hint}"),
                    None => error.to_string(),
                };
                eprintln!("{}", relplan::github::actions::annotation("error", &text));
            }
            eprintln!("error: {error}");
            if let Some(hint) = &error.hint {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(error.exit_code() as u8)
        }
    }
}
