//! `anything-but` in all its forms (ruler's `anything-but` branch of
//! `processMatchExpression` and the helpers it calls).

use super::{Compiler, ONLY_ONE_KEY, TOO_MANY_ELEMENTS};
use crate::pattern::lexer::{Fault, Tok};
use crate::pattern::matcher::{AnythingBut, Matcher};
use crate::pattern::wildcard::Wildcard;
use crate::pattern::Dialect;

/// The forms of `anything-but` with an object operand (EventBridge).
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetKind {
    IgnoreCase,
    Prefix,
    Suffix,
    Wildcard,
}

impl SetKind {
    fn wrong_type(self) -> &'static str {
        match self {
            SetKind::IgnoreCase => {
                "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
            }
            SetKind::Wildcard => "wildcard match pattern must be a string",
            SetKind::Prefix | SetKind::Suffix => "prefix/suffix match pattern must be a string",
        }
    }
}

impl Compiler<'_> {
    /// `anything-but` in all its forms.
    pub(super) fn anything_but(&mut self) -> Result<Matcher, Fault> {
        let mut tok = self.next()?;
        let mut kind = None;
        if tok == Some(Tok::StartObject) {
            if self.next()? != Some(Tok::FieldName) {
                return Err(self.barf("Anything-But expression name not found"));
            }
            let op = self.lx.name().to_string();
            if self.dialect == Dialect::Sns {
                return self.sns_anything_but_prefix(&op);
            }
            kind = Some(match op.as_str() {
                "equals-ignore-case" => SetKind::IgnoreCase,
                "prefix" => SetKind::Prefix,
                "suffix" => SetKind::Suffix,
                "wildcard" => SetKind::Wildcard,
                _ => return Err(self.barf(format!("Unsupported anything-but pattern: {op}"))),
            });
            tok = self.next()?;
        }
        if !matches!(tok, Some(Tok::StartArray | Tok::Str | Tok::Int | Tok::Float)) {
            return Err(self.barf("Value of anything-but must be an array or single string/number value."));
        }
        let set = match (kind, tok == Some(Tok::StartArray)) {
            (None, true) => self.anything_but_list()?,
            (None, false) => self.anything_but_single(tok)?,
            (Some(kind), true) => self.anything_but_set_list(kind)?,
            (Some(kind), false) => self.anything_but_set_single(tok, kind)?,
        };
        self.expect_end_object(TOO_MANY_ELEMENTS)?;
        if kind.is_some() {
            self.expect_end_object(TOO_MANY_ELEMENTS)?;
        }
        Ok(Matcher::AnythingBut(set))
    }

    /// The SNS generation knew a single object form: `{"prefix": "…"}`.
    fn sns_anything_but_prefix(&mut self, op: &str) -> Result<Matcher, Fault> {
        if op != "prefix" {
            return Err(self.barf(format!("Unsupported anything-but pattern: {op}")));
        }
        if self.next()? != Some(Tok::Str) {
            return Err(self.barf("prefix match pattern must be a string"));
        }
        let text = self.text()?;
        if text.is_empty() {
            return Err(self.barf("Null prefix not allowed"));
        }
        self.expect_end_object(ONLY_ONE_KEY)?;
        self.expect_end_object(ONLY_ONE_KEY)?;
        Ok(Matcher::AnythingBut(AnythingBut::Prefixes(vec![text])))
    }

    /// `processAnythingButListMatchExpression`. Ruler runs the loop in a
    /// try block that rethrows, so errors inside it gain a second location.
    fn anything_but_list(&mut self) -> Result<AnythingBut, Fault> {
        let (strings, numbers) = self.anything_but_items().map_err(|f| f.again(self.loc()))?;
        if strings.is_empty() == numbers.is_empty() {
            return Err(self.barf(
                "Inside anything but list, either all values are number or string, mixed type is not supported",
            ));
        }
        Ok(if numbers.is_empty() { AnythingBut::Strings(strings) } else { AnythingBut::Numbers(numbers) })
    }

    fn anything_but_items(&mut self) -> Result<(Vec<String>, Vec<f64>), Fault> {
        let (mut strings, mut numbers) = (Vec::new(), Vec::new());
        loop {
            match self.next()? {
                Some(Tok::EndArray) => return Ok((strings, numbers)),
                Some(Tok::Str) => strings.push(self.text()?),
                Some(Tok::Int | Tok::Float) => numbers.push(self.generate()?),
                _ => return Err(self.barf("Inside anything but list, start|null|boolean is not supported.")),
            }
        }
    }

    /// A single string or number; a bad number escapes ruler uncaught.
    fn anything_but_single(&mut self, tok: Option<Tok>) -> Result<AnythingBut, Fault> {
        Ok(match tok {
            Some(Tok::Str) => AnythingBut::Strings(vec![self.text()?]),
            _ => AnythingBut::Numbers(vec![self.generate()?]),
        })
    }

    /// `processAnythingButValuesSetMatchExpression` (rethrowing loop, then
    /// wildcard validation outside it).
    fn anything_but_set_list(&mut self, kind: SetKind) -> Result<AnythingBut, Fault> {
        let texts = self.set_items(kind).map_err(|f| f.again(self.loc()))?;
        self.set_from(kind, texts)
    }

    fn set_items(&mut self, kind: SetKind) -> Result<Vec<String>, Fault> {
        let mut texts = Vec::new();
        loop {
            match self.next()? {
                Some(Tok::EndArray) => return Ok(texts),
                Some(Tok::Str) => texts.push(self.set_text(kind)?),
                _ => return Err(self.barf(kind.wrong_type())),
            }
        }
    }

    fn anything_but_set_single(&mut self, tok: Option<Tok>, kind: SetKind) -> Result<AnythingBut, Fault> {
        if tok != Some(Tok::Str) {
            return Err(self.barf(kind.wrong_type()));
        }
        let text = self.set_text(kind)?;
        self.set_from(kind, vec![text])
    }

    fn set_text(&mut self, kind: SetKind) -> Result<String, Fault> {
        let text = self.text()?;
        if text.is_empty() && matches!(kind, SetKind::Prefix | SetKind::Suffix) {
            return Err(self.barf("Null prefix/suffix not allowed"));
        }
        Ok(text)
    }

    fn set_from(&self, kind: SetKind, texts: Vec<String>) -> Result<AnythingBut, Fault> {
        Ok(match kind {
            SetKind::IgnoreCase => AnythingBut::IgnoreCase(texts),
            SetKind::Prefix => AnythingBut::Prefixes(texts),
            SetKind::Suffix => AnythingBut::Suffixes(texts),
            SetKind::Wildcard => AnythingBut::Wildcards(
                texts.iter().map(|t| Wildcard::strict(t).map_err(|m| self.barf(m))).collect::<Result<_, _>>()?,
            ),
        })
    }
}
