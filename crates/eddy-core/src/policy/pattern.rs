//! Wildcards (`*`, `?`), ARN patterns and policy variables.
//!
//! A pattern is compiled to [`Tok`]s so that a `*` written in the policy is a
//! wildcard while a `*` that came from `${*}` or from a variable's value is a
//! literal character.

use super::context::Lookup;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok {
    Char(char),
    /// `*`: any run of characters, empty included.
    Star,
    /// `?`: exactly one character.
    One,
}

/// `text` with `*` and `?` as wildcards.
pub(super) fn wild(text: &str) -> Vec<Tok> {
    text.chars()
        .map(|c| match c {
            '*' => Tok::Star,
            '?' => Tok::One,
            c => Tok::Char(c),
        })
        .collect()
}

fn literal(text: &str) -> impl Iterator<Item = Tok> + '_ {
    text.chars().map(Tok::Char)
}

/// Glob match in linear space; backtracks only to the last `*`, so it stays
/// O(pattern × value) on hostile input.
pub(super) fn glob(pat: &[Tok], value: &str) -> bool {
    let value: Vec<char> = value.chars().collect();
    let (mut p, mut v) = (0, 0);
    let mut resume: Option<(usize, usize)> = None;
    while v < value.len() {
        match pat.get(p) {
            Some(Tok::Star) => {
                resume = Some((p, v));
                p += 1;
            }
            Some(Tok::One) => (p, v) = (p + 1, v + 1),
            Some(Tok::Char(c)) if *c == value[v] => (p, v) = (p + 1, v + 1),
            _ => match resume {
                Some((sp, sv)) => {
                    resume = Some((sp, sv + 1));
                    (p, v) = (sp + 1, sv + 1);
                }
                None => return false,
            },
        }
    }
    pat[p.min(pat.len())..].iter().all(|t| *t == Tok::Star)
}

/// ARN matching as IAM does it for `Resource` and the `Arn*` operators: each
/// colon-separated segment is matched on its own, so a `*` in the region
/// cannot swallow the account; the pattern's last segment takes the rest of
/// the ARN, colons included (`arn:aws:sqs:*` covers every queue, and
/// `…:queue/*` every resource path).
pub(super) fn arn_match(pat: &[Tok], value: &str) -> bool {
    let segments: Vec<&[Tok]> = pat.splitn(6, |t| *t == Tok::Char(':')).collect();
    let parts: Vec<&str> = value.splitn(segments.len(), ':').collect();
    segments.len() == parts.len() && segments.iter().zip(&parts).all(|(p, v)| glob(p, v))
}

/// A policy string that may hold `${…}` variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Template(Vec<Piece>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// `${key}` or `${key, 'default'}`; `key` lower-cased for lookup.
    Var {
        key: String,
        default: Option<String>,
    },
    /// `${*}`, `${?}`, `${$}`: the character itself, never a wildcard.
    Escaped(char),
}

impl Template {
    /// Text taken as written (policy language 2008-10-17, or an operator that
    /// takes no variables).
    pub(super) fn plain(text: &str) -> Template {
        Template(vec![Piece::Text(text.to_string())])
    }

    /// Text with `${…}` variables; an unterminated `${` stays text.
    pub(super) fn with_variables(text: &str) -> Template {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start + 2..].find('}') else { break };
            push_text(&mut pieces, &rest[..start]);
            let inner = &rest[start + 2..start + 2 + len];
            pieces.push(variable(inner).unwrap_or_else(|| Piece::Text(format!("${{{inner}}}"))));
            rest = &rest[start + 3 + len..];
        }
        push_text(&mut pieces, rest);
        Template(pieces)
    }

    /// Tokens for matching; `None` when a variable has no value and no
    /// default. `wildcards` says whether the policy's own `*`/`?` are
    /// wildcards (the `…Like`, `Arn…` operators and `Resource`) or text.
    pub(super) fn resolve(&self, lookup: &Lookup, wildcards: bool) -> Option<Vec<Tok>> {
        let mut out = Vec::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(t) if wildcards => out.extend(wild(t)),
                Piece::Text(t) => out.extend(literal(t)),
                Piece::Escaped(c) => out.push(Tok::Char(*c)),
                Piece::Var { key, default } => {
                    let value = lookup.single(key).or(default.as_deref())?;
                    out.extend(literal(value));
                }
            }
        }
        Some(out)
    }

    /// The resolved text, for operators that compare whole values.
    pub(super) fn resolve_text(&self, lookup: &Lookup) -> Option<String> {
        let toks = self.resolve(lookup, false)?;
        Some(toks.iter().map(|t| if let Tok::Char(c) = t { *c } else { '*' }).collect())
    }
}

fn push_text(pieces: &mut Vec<Piece>, text: &str) {
    if !text.is_empty() {
        pieces.push(Piece::Text(text.to_string()));
    }
}

/// The inside of `${…}`: `*`, `?`, `$`, `key` or `key, 'default'`.
fn variable(inner: &str) -> Option<Piece> {
    match inner.trim() {
        "*" => return Some(Piece::Escaped('*')),
        "?" => return Some(Piece::Escaped('?')),
        "$" => return Some(Piece::Escaped('$')),
        _ => {}
    }
    let (key, default) = match inner.split_once(',') {
        None => (inner.trim(), None),
        Some((key, default)) => {
            let quoted = default.trim().strip_prefix('\'')?.strip_suffix('\'')?;
            (key.trim(), Some(quoted.to_string()))
        }
    };
    if key.is_empty() {
        return None;
    }
    Some(Piece::Var { key: key.to_ascii_lowercase(), default })
}
