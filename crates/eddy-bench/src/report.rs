//! Figures as they are measured, and the final table.

/// Whether a figure meets its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Met,
    NotMet,
    /// Informational: no target.
    Info,
    /// Not measured (phase skipped or failed).
    Skipped,
}

impl Outcome {
    pub fn from_check(ok: bool) -> Self {
        if ok {
            Self::Met
        } else {
            Self::NotMet
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Met => "met",
            Self::NotMet => "NOT MET",
            Self::Info => "",
            Self::Skipped => "skipped",
        }
    }
}

struct Row {
    figure: String,
    value: String,
    target: String,
    outcome: Outcome,
}

/// Collects rows, printing each as it arrives so a long run shows progress.
#[derive(Default)]
pub struct Report {
    rows: Vec<Row>,
}

impl Report {
    /// A figure with a target.
    pub fn check(&mut self, figure: &str, value: String, target: &str, ok: bool) {
        self.push(figure, value, target, Outcome::from_check(ok));
    }

    /// A figure without a target.
    pub fn info(&mut self, figure: &str, value: String) {
        self.push(figure, value, "", Outcome::Info);
    }

    /// A figure that could not be measured, and why.
    pub fn skipped(&mut self, figure: &str, why: String, target: &str) {
        self.push(figure, why, target, Outcome::Skipped);
    }

    fn push(&mut self, figure: &str, value: String, target: &str, outcome: Outcome) {
        let mark = match outcome {
            Outcome::Info => String::new(),
            _ => format!("   [target {target}: {}]", outcome.label()),
        };
        println!("  {figure}: {value}{mark}");
        self.rows.push(Row { figure: figure.to_string(), value, target: target.to_string(), outcome });
    }

    pub fn print_table(&self) {
        let headers = ["figure", "value", "target", "result"];
        let cells: Vec<[&str; 4]> =
            self.rows.iter().map(|r| [&*r.figure, clip(&r.value), &*r.target, r.outcome.label()]).collect();
        let mut widths = headers.map(|h| h.chars().count());
        for row in &cells {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        println!();
        print_line(&headers, &widths);
        let rule = widths.map(|w| "-".repeat(w));
        print_line(&rule.each_ref().map(|s| s.as_str()), &widths);
        for row in &cells {
            print_line(row, &widths);
        }
        let missed = self.count(Outcome::NotMet);
        let met = self.count(Outcome::Met);
        let skipped = self.count(Outcome::Skipped);
        println!("\n{met} targets met, {missed} not met, {skipped} skipped.");
    }

    fn count(&self, outcome: Outcome) -> usize {
        self.rows.iter().filter(|r| r.outcome == outcome).count()
    }
}

/// Long values (mostly error chains, printed whole when they happened)
/// would stretch the table past any terminal.
fn clip(value: &str) -> &str {
    const MAX_CHARS: usize = 72;
    match value.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => &value[..end],
        None => value,
    }
}

fn print_line(cells: &[&str; 4], widths: &[usize; 4]) {
    // `{:<w$}` pads by chars, which keeps "µs" columns aligned.
    let line: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
    println!("{}", line.join("  ").trim_end());
}
