//! What the tool tells a person on stderr. Notes, progress and summaries appear only when stderr
//! is a terminal (a script reading stdout gets a quiet stderr); warnings and errors always do.
//! Colour only on a terminal and never with NO_COLOR set (<https://no-color.org>).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How stderr is used, decided once at start-up.
#[derive(Debug, Clone, Copy)]
pub struct Reporter {
    interactive: bool,
    colour: bool,
}

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";
/// Back to the line's start and erase it: a progress line is rewritten in place.
const CLEAR_LINE: &str = "\r\x1b[2K";

impl Reporter {
    pub fn for_stderr() -> Reporter {
        let interactive = std::io::stderr().is_terminal();
        Reporter { interactive, colour: interactive && colour_allowed(std::env::var_os("NO_COLOR")) }
    }

    /// Whether ANSI colours may be written to stderr (also decides the client log's colours).
    pub fn colour(self) -> bool {
        self.colour
    }

    /// Information for a person at a terminal: what the tool is doing or did.
    pub fn note(self, text: &str) {
        if self.interactive {
            self.line("", DIM, text);
        }
    }

    pub fn warn(self, text: &str) {
        self.line("warning: ", YELLOW, text);
    }

    pub fn error(self, text: &str) {
        self.line("error: ", RED, text);
    }

    fn line(self, label: &str, colour: &str, text: &str) {
        let line =
            if self.colour { format!("ons: {colour}{label}{text}{RESET}\n") } else { format!("ons: {label}{text}\n") };
        // Nothing useful can be done when stderr is gone.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// NO_COLOR set to anything but the empty string turns colours off.
fn colour_allowed(no_color: Option<std::ffi::OsString>) -> bool {
    match no_color {
        None => true,
        Some(value) => value.is_empty(),
    }
}

/// A line on the terminal rewritten as work goes on, at most a few times a second. Whoever
/// writes to stdout calls [`Progress::before_output`] first: stdout may be the same terminal.
pub struct Progress {
    reporter: Reporter,
    /// Output to stdout must not land in the middle of the line.
    stdout_shares_terminal: bool,
    shown: bool,
    last_drawn: Option<Instant>,
}

const REDRAW_EVERY: Duration = Duration::from_millis(100);

impl Progress {
    pub fn new(reporter: Reporter) -> Progress {
        let stdout_shares_terminal = reporter.interactive && std::io::stdout().is_terminal();
        Progress { reporter, stdout_shares_terminal, shown: false, last_drawn: None }
    }

    /// Shows `text()` if no line is shown or it was drawn a while ago (`text` is only called
    /// then).
    pub fn update(&mut self, text: impl FnOnce() -> String) {
        if !self.reporter.interactive || (self.shown && self.last_drawn.is_some_and(|t| t.elapsed() < REDRAW_EVERY)) {
            return;
        }
        let line = format!("{CLEAR_LINE}ons: {}", text());
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
        self.shown = true;
        self.last_drawn = Some(Instant::now());
    }

    /// Makes room for a line on stdout: erases the progress line if stdout is the same
    /// terminal (the next [`Progress::update`] draws it again below the output).
    pub fn before_output(&mut self) {
        if self.stdout_shares_terminal {
            self.clear();
        }
    }

    /// Erases the line, so the next output starts on a clean line.
    pub fn clear(&mut self) {
        if self.shown {
            let _ = std::io::stderr().lock().write_all(CLEAR_LINE.as_bytes());
            self.shown = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_with_any_value_turns_colours_off() {
        assert!(colour_allowed(None));
        assert!(colour_allowed(Some("".into())));
        assert!(!colour_allowed(Some("1".into())));
        assert!(!colour_allowed(Some("0".into())));
    }
}
