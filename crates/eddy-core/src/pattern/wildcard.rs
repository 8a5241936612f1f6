//! `wildcard` patterns: `*` matches any run of characters, `\*` and `\\`
//! are a literal star and backslash. Ruler validates the pattern as the
//! quoted string `"…"`, so reported positions count the opening quote.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Star,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Wildcard {
    parts: Vec<Part>,
}

impl Wildcard {
    /// Parses with ruler's current rules (EventBridge): consecutive stars
    /// and escapes of anything but `*` or `\` are errors.
    pub(super) fn strict(text: &str) -> Result<Wildcard, String> {
        Wildcard::parse(text, true)
    }

    /// The ruler generation SNS runs did not validate wildcards; there
    /// repeated stars act as one and a stray backslash is literal.
    pub(super) fn lenient(text: &str) -> Wildcard {
        Wildcard::parse(text, false).unwrap_or(Wildcard { parts: Vec::new() })
    }

    fn parse(text: &str, strict: bool) -> Result<Wildcard, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            // +1: ruler parses the value with its opening quote.
            let pos = at + 1;
            match c {
                '*' => {
                    if strict && chars.peek().is_some_and(|(_, n)| *n == '*') {
                        return Err(format!("Consecutive wildcard characters at pos {pos}"));
                    }
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    if parts.last() != Some(&Part::Star) {
                        parts.push(Part::Star);
                    }
                }
                '\\' => match chars.peek() {
                    Some(&(_, n @ ('*' | '\\'))) => {
                        lit.push(n);
                        chars.next();
                    }
                    _ if strict => return Err(format!("Invalid escape character at pos {pos}")),
                    _ => lit.push('\\'),
                },
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Wildcard { parts })
    }

    /// Anchored glob match over the whole value.
    pub(super) fn matches(&self, value: &str) -> bool {
        let mut rest = value;
        let mut parts = self.parts.as_slice();
        // Leading literal must be a prefix.
        if let Some((Part::Lit(first), tail)) = parts.split_first() {
            let Some(r) = rest.strip_prefix(first.as_str()) else { return false };
            rest = r;
            parts = tail;
        }
        // Trailing literal must be a suffix (unless it was also the first).
        let mut last: Option<&str> = None;
        if let Some((Part::Lit(end), head)) = parts.split_last() {
            last = Some(end);
            parts = head;
        }
        if let Some(end) = last {
            let Some(r) = rest.strip_suffix(end) else { return false };
            rest = r;
        }
        if parts.is_empty() {
            // No star at all: the literal(s) had to cover the whole value.
            return rest.is_empty();
        }
        // Stars around middle literals: take each literal at its first
        // occurrence, which is optimal for `*`-only globs.
        for part in parts {
            if let Part::Lit(lit) = part {
                match rest.find(lit.as_str()) {
                    Some(i) => rest = &rest[i + lit.len()..],
                    None => return false,
                }
            }
        }
        true
    }
}
