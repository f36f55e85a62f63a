//! How the admin and bench commands print a result on stdout: one JSON document with `--json`
//! (field names in snake_case, which only grow), else tables with aligned columns for people.
//! Tables carry no colour: stdout is often a file or a pipe, and the JSON form is for scripts.

use std::io::Write;

use crate::Failure;

/// Rows under a header, printed with each column as wide as its widest cell. Columns whose
/// cells are all numbers are aligned to the right, others to the left.
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

/// Space between two columns.
const GAP: &str = "  ";

impl Table {
    pub fn new(headers: &[&'static str]) -> Table {
        Table { headers: headers.to_vec(), rows: Vec::new() }
    }

    /// Adds a row; it must have one cell per header.
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.headers.len());
        self.rows.push(cells);
    }

    /// The table as lines of text, each ending in a line feed; trailing spaces are trimmed.
    pub fn render(&self) -> String {
        let columns = self.headers.len();
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                let cells = self.rows.iter().map(|r| r.get(c).map_or(0, |cell| cell.chars().count()));
                cells.chain([self.headers[c].len()]).max().unwrap_or(0)
            })
            .collect();
        let numeric: Vec<bool> = (0..columns)
            .map(|c| !self.rows.is_empty() && self.rows.iter().all(|r| r.get(c).is_some_and(|cell| is_number(cell))))
            .collect();
        let mut out = String::new();
        let header: Vec<String> = self.headers.iter().map(|h| (*h).to_owned()).collect();
        for cells in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (c, width) in widths.iter().enumerate() {
                let cell = cells.get(c).map_or("", String::as_str);
                let pad = " ".repeat(width.saturating_sub(cell.chars().count()));
                if c > 0 {
                    line.push_str(GAP);
                }
                if numeric[c] {
                    line.push_str(&pad);
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.push_str(&pad);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

fn is_number(cell: &str) -> bool {
    cell.parse::<f64>().is_ok()
}

/// Prints `json` (with `--json`) or the text `human` makes, on stdout.
pub fn print(json_wanted: bool, json: serde_json::Value, human: impl FnOnce() -> String) -> Result<(), Failure> {
    let text = if json_wanted {
        let mut text = serde_json::to_string_pretty(&json)
            .map_err(|e| Failure::Runtime(format!("cannot encode the result as JSON: {e}")))?;
        text.push('\n');
        text
    } else {
        human()
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::Runtime(format!("cannot write to stdout: {e}")))
}

/// A JSON array of `items`, each turned into JSON by `to_json`.
pub fn each<T>(items: &[T], to_json: impl Fn(&T) -> serde_json::Value) -> serde_json::Value {
    items.iter().map(to_json).collect()
}

/// Milliseconds since the epoch as UTC `YYYY-MM-DD HH:MM:SS.mmm`, `-` for 0 (never).
pub fn time_text(ms: i64) -> String {
    if ms <= 0 {
        return "-".to_owned();
    }
    let (days, in_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, milli) = (in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1000 % 60, in_day % 1000);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02}.{milli:03}")
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm,
/// <https://howardhinnant.github.io/date_algorithms.html#civil_from_days>).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day count since 1970-01-01 of a proleptic Gregorian date (the inverse of
/// [`civil_from_days`], same source).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_aligned_numbers_to_the_right() {
        let mut table = Table::new(&["NAME", "COUNT"]);
        table.row(vec!["a".into(), "5".into()]);
        table.row(vec!["longer".into(), "12345".into()]);
        assert_eq!(table.render(), "NAME    COUNT\na           5\nlonger  12345\n");
    }

    #[test]
    fn times_are_utc_dates() {
        assert_eq!(time_text(0), "-");
        assert_eq!(time_text(1_700_000_000_123), "2023-11-14 22:13:20.123");
        assert_eq!(days_from_civil(2023, 11, 14), 1_700_000_000 / 86_400);
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    }
}
