//! Compiles a pattern the way aws/event-ruler's `JsonRuleCompiler` does:
//! token by token, with ruler's checks in ruler's order, so the first error
//! AWS would report is the one reported here, at the same position.
//!
//! The result is a list of branches (one per `$or` alternative, expanded),
//! each a conjunction of fields; a field is a dotted path and the values it
//! accepts.
//!
//! Two dialects exist because SNS runs an older ruler than EventBridge:
//! recorded SNS errors (2024) show `anything-but` accepting only `prefix`
//! ("Unsupported anything-but pattern: suffix") and the ±5e9 number range,
//! while EventBridge accepts `anything-but` with `suffix`,
//! `equals-ignore-case` and `wildcard`, `prefix`/`suffix` with
//! `equals-ignore-case`, and any double.

mod anything_but;
mod numeric;

use std::sync::Arc;

use super::ip;
use super::lexer::{Fault, Lexer, Loc, Source, Tok};
use super::matcher::{comparable, Literal, Matcher};
use super::wildcard::Wildcard;
use super::Dialect;

/// Ruler's `RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP`.
const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

const ONLY_ONE_KEY: &str = "Only one key allowed in match expression";
const TOO_MANY_ELEMENTS: &str = "Too many elements in numeric expression";

/// One field of a branch: a dotted path and what its values may be.
#[derive(Debug)]
pub(super) struct Field {
    pub path: String,
    /// The first key of the path as written (SNS counts these).
    pub top: String,
    /// How many objects deep the values sit (SNS weighs complexity by it).
    pub depth: u32,
    /// How many alternatives the policy listed.
    pub count: u32,
    pub values: Vec<Matcher>,
    /// `{"exists": true}` was among the alternatives.
    pub present: bool,
    /// `{"exists": false}` was among the alternatives.
    pub absent: bool,
}

pub(super) type Branch = Vec<Arc<Field>>;

#[derive(Debug)]
pub(super) struct Compiled {
    pub branches: Vec<Branch>,
    /// `$or` expansion exceeded the branch cap; the caller reports the
    /// policy as too complex (after any earlier error, as ruler would).
    pub overflow: bool,
}

pub(super) fn compile(src: &str, source: Source<'_>, dialect: Dialect, max_branches: usize) -> Result<Compiled, Fault> {
    let mut c = Compiler { lx: Lexer::new(src, source), dialect, max_branches, overflow: false };
    if c.next()? != Some(Tok::StartObject) {
        return Err(c.barf("Filter is not an object"));
    }
    let mut rules = Vec::new();
    c.object(&mut rules, &mut Vec::new(), false)?;
    rules.iter_mut().for_each(keep_last_per_path);
    Ok(Compiled { branches: rules, overflow: c.overflow })
}

/// Ruler's rules are maps keyed by path, so a later field with the same
/// path (a repeated key, or `"a.b"` next to `{"a": {"b": …}}`) replaces
/// the earlier one. Done once at the end to keep compilation linear.
fn keep_last_per_path(branch: &mut Branch) {
    let mut seen = std::collections::HashSet::new();
    let mut kept: Branch = branch.drain(..).rev().filter(|f| seen.insert(f.path.clone())).collect();
    kept.reverse();
    *branch = kept;
}

struct Compiler<'a> {
    lx: Lexer<'a>,
    dialect: Dialect,
    max_branches: usize,
    overflow: bool,
}

/// The affix of `prefix`/`suffix` expressions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Affix {
    Prefix,
    Suffix,
}

impl Affix {
    fn name(self) -> &'static str {
        match self {
            Affix::Prefix => "prefix",
            Affix::Suffix => "suffix",
        }
    }
}

impl Compiler<'_> {
    fn next(&mut self) -> Result<Option<Tok>, Fault> {
        self.lx.next_token()
    }

    fn text(&mut self) -> Result<String, Fault> {
        self.lx.text()
    }

    fn loc(&self) -> Loc {
        self.lx.loc()
    }

    /// Ruler's `barf`: a parse error at the parser's current location.
    fn barf(&self, msg: impl Into<String>) -> Fault {
        Fault::at(msg, self.loc())
    }

    fn expect_end_object(&mut self, msg: &str) -> Result<(), Fault> {
        match self.next()? {
            Some(Tok::EndObject) => Ok(()),
            _ => Err(self.barf(msg)),
        }
    }

    /// `parseObject` / `parseObjectInsideOrRelationship`.
    fn object(&mut self, rules: &mut Vec<Branch>, path: &mut Vec<String>, in_or: bool) -> Result<(), Fault> {
        let mut any = false;
        while self.next()? != Some(Tok::EndObject) {
            any = true;
            let name = self.lx.name().to_string();
            if name == "$or" {
                self.or(rules, path)?;
                continue;
            }
            if in_or && RESERVED_IN_OR.contains(&name.as_str()) {
                return Err(self.barf(format!("{name} is Ruler reserved fieldName which cannot be used inside $or.")));
            }
            match self.next()? {
                Some(Tok::StartObject) => {
                    path.push(name);
                    self.object(rules, path, in_or)?;
                    path.pop();
                }
                Some(Tok::StartArray) => self.values(rules, path, name)?,
                _ => return Err(self.barf(format!("\"{name}\" must be an object or an array"))),
            }
        }
        if !any {
            return Err(self.barf("Empty objects are not allowed"));
        }
        Ok(())
    }

    /// `parseIntoOrRelationship`: every alternative starts from a copy of
    /// the branches so far, and the results replace them.
    fn or(&mut self, rules: &mut Vec<Branch>, path: &mut Vec<String>) -> Result<(), Fault> {
        let before = std::mem::take(rules);
        if self.next()? != Some(Tok::StartArray) {
            return Err(self.barf("It must be an Array followed with $or."));
        }
        let mut alternatives = 0;
        loop {
            match self.next()? {
                Some(Tok::EndArray) => break,
                Some(Tok::StartObject) => {
                    alternatives += 1;
                    let mut fork = if before.is_empty() { vec![Vec::new()] } else { before.clone() };
                    self.object(&mut fork, path, true)?;
                    self.extend_capped(rules, fork);
                }
                _ => return Err(self.barf("Only JSON object is allowed in array of $or relationship.")),
            }
        }
        if alternatives < 2 {
            return Err(self.barf("There must have at least 2 Objects in $or relationship."));
        }
        Ok(())
    }

    /// Keeps `$or` expansion bounded; past the cap the policy is rejected
    /// anyway, so dropping branches changes no answer.
    fn extend_capped(&mut self, rules: &mut Vec<Branch>, fork: Vec<Branch>) {
        let room = self.max_branches.saturating_sub(rules.len());
        if fork.len() > room {
            self.overflow = true;
        }
        rules.extend(fork.into_iter().take(room));
    }

    /// `writeRules`: the array of alternatives for one field.
    fn values(&mut self, rules: &mut Vec<Branch>, path: &[String], name: String) -> Result<(), Fault> {
        let mut matchers = Vec::new();
        loop {
            let matcher = match self.next()? {
                Some(Tok::EndArray) => break,
                Some(Tok::StartObject) => self.expression()?,
                Some(Tok::Str) => exact_or_ip(self.text()?),
                Some(Tok::Int | Tok::Float) => {
                    let text = self.text()?;
                    Matcher::Number { num: comparable(self.dialect, &text), text }
                }
                Some(Tok::True) => Matcher::Literal(Literal::True),
                Some(Tok::False) => Matcher::Literal(Literal::False),
                Some(Tok::Null) => Matcher::Literal(Literal::Null),
                _ => return Err(self.barf("Match value must be String, number, true, false, or null")),
            };
            matchers.push(matcher);
        }
        if matchers.is_empty() {
            return Err(self.barf("Empty arrays are not allowed"));
        }
        let field = Arc::new(new_field(path, name, matchers));
        if rules.is_empty() {
            rules.push(Vec::new());
        }
        for branch in rules.iter_mut() {
            branch.push(field.clone());
        }
        Ok(())
    }

    /// `processMatchExpression`: one `{"operator": operand}` object.
    fn expression(&mut self) -> Result<Matcher, Fault> {
        if self.next()? != Some(Tok::FieldName) {
            return Err(self.barf("Match expression name not found"));
        }
        let op = self.lx.name().to_string();
        match op.as_str() {
            "exactly" => self.string_operand("exact match pattern must be a string").map(Matcher::Exact),
            "prefix" => self.affix(Affix::Prefix),
            "suffix" => self.affix(Affix::Suffix),
            "numeric" => self.numeric(),
            "anything-but" => self.anything_but(),
            "exists" => self.exists(),
            "cidr" => self.cidr(),
            "equals-ignore-case" => {
                self.string_operand("equals-ignore-case match pattern must be a string").map(Matcher::EqualsIgnoreCase)
            }
            "wildcard" => self.wildcard(),
            _ => Err(self.barf(format!("Unrecognized match type {op}"))),
        }
    }

    /// A string operand followed by the end of the expression object.
    fn string_operand(&mut self, wrong_type: &str) -> Result<String, Fault> {
        if self.next()? != Some(Tok::Str) {
            return Err(self.barf(wrong_type));
        }
        let text = self.text()?;
        self.expect_end_object(ONLY_ONE_KEY)?;
        Ok(text)
    }

    fn affix(&mut self, affix: Affix) -> Result<Matcher, Fault> {
        let tok = self.next()?;
        if tok == Some(Tok::StartObject) && self.dialect == Dialect::EventBridge {
            return self.affix_ignore_case(affix);
        }
        if tok != Some(Tok::Str) {
            return Err(self.barf(format!("{} match pattern must be a string", affix.name())));
        }
        let text = self.text()?;
        self.expect_end_object(ONLY_ONE_KEY)?;
        Ok(match affix {
            Affix::Prefix => Matcher::Prefix(text),
            Affix::Suffix => Matcher::Suffix(text),
        })
    }

    /// `{"prefix": {"equals-ignore-case": "…"}}` and the suffix form.
    fn affix_ignore_case(&mut self, affix: Affix) -> Result<Matcher, Fault> {
        let (label, lower) = match affix {
            Affix::Prefix => ("Prefix", "prefix"),
            Affix::Suffix => ("Suffix", "suffix"),
        };
        if self.next()? != Some(Tok::FieldName) {
            return Err(self.barf(format!("{label} expression name not found")));
        }
        let op = self.lx.name().to_string();
        if op != "equals-ignore-case" {
            return Err(self.barf(format!("Unsupported {lower} pattern: {op}")));
        }
        let text = self.string_operand("equals-ignore-case match pattern must be a string")?;
        self.expect_end_object(ONLY_ONE_KEY)?;
        Ok(match affix {
            Affix::Prefix => Matcher::PrefixIgnoreCase(text),
            Affix::Suffix => Matcher::SuffixIgnoreCase(text),
        })
    }

    fn exists(&mut self) -> Result<Matcher, Fault> {
        let exists = match self.next()? {
            Some(Tok::True) => true,
            Some(Tok::False) => false,
            _ => return Err(self.barf("exists match pattern must be either true or false.")),
        };
        self.expect_end_object(ONLY_ONE_KEY)?;
        Ok(Matcher::Exists(exists))
    }

    fn cidr(&mut self) -> Result<Matcher, Fault> {
        // Ruler's message for a non-string CIDR really does say "prefix".
        if self.next()? != Some(Tok::Str) {
            return Err(self.barf("prefix match pattern must be a string"));
        }
        let text = self.text()?;
        // CIDR errors are IllegalArgumentExceptions: no location.
        let range = ip::cidr(&text).map_err(Fault::plain)?;
        self.expect_end_object(ONLY_ONE_KEY)?;
        Ok(Matcher::Cidr(range))
    }

    fn wildcard(&mut self) -> Result<Matcher, Fault> {
        if self.next()? != Some(Tok::Str) {
            return Err(self.barf("wildcard match pattern must be a string"));
        }
        let text = self.text()?;
        let pattern = self.wildcard_pattern(&text)?;
        self.expect_end_object(ONLY_ONE_KEY)?;
        Ok(Matcher::Wildcard(pattern))
    }

    fn wildcard_pattern(&self, text: &str) -> Result<Wildcard, Fault> {
        match self.dialect {
            Dialect::EventBridge => Wildcard::strict(text).map_err(|m| self.barf(m)),
            Dialect::Sns => Ok(Wildcard::lenient(text)),
        }
    }
}

/// A pattern string that spells an IP address becomes an address match
/// (ruler's `CIDR.ipToRangeIfPossible`); other strings match exactly.
fn exact_or_ip(text: String) -> Matcher {
    match ip::parse(&text) {
        Ok(bytes) => Matcher::Ip(bytes),
        Err(_) => Matcher::Exact(text),
    }
}

fn new_field(path: &[String], name: String, alternatives: Vec<Matcher>) -> Field {
    let full = if path.is_empty() { name.clone() } else { format!("{}.{name}", path.join(".")) };
    let top = path.first().cloned().unwrap_or(name);
    let count = alternatives.len() as u32;
    let mut field = Field {
        path: full,
        top,
        depth: path.len() as u32 + 1,
        count,
        values: Vec::new(),
        present: false,
        absent: false,
    };
    for m in alternatives {
        match m {
            Matcher::Exists(true) => field.present = true,
            Matcher::Exists(false) => field.absent = true,
            m => field.values.push(m),
        }
    }
    field
}
