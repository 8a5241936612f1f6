//! `numeric` expressions (ruler's `processNumericMatchExpression` and
//! `completeNumericRange`) and number generation for `anything-but`.

use super::{Compiler, TOO_MANY_ELEMENTS};
use crate::pattern::lexer::{Fault, Tok};
use crate::pattern::matcher::{comparable, Bound, Matcher, NumRange, SNS_NUMERIC_LIMIT};
use crate::pattern::Dialect;

impl Compiler<'_> {
    pub(super) fn numeric(&mut self) -> Result<Matcher, Fault> {
        if self.next()? != Some(Tok::StartArray) {
            return Err(self.barf("Value of numeric must be an array."));
        }
        let range = self.numeric_body()?;
        self.expect_end_object(TOO_MANY_ELEMENTS)?;
        Ok(Matcher::Numeric(range))
    }

    /// `processNumericMatchExpression`. Range construction errors are
    /// caught by ruler and rethrown at the position reached by then.
    fn numeric_body(&mut self) -> Result<NumRange, Fault> {
        if self.next()? != Some(Tok::Str) {
            let text = self.text()?;
            return Err(self.barf(format!("Invalid member in numeric match: {text}")));
        }
        let op = self.text()?;
        let tok = self.next()?;
        let range = match op.as_str() {
            "=" | "<" | "<=" => {
                let name = if op == "=" { "equals" } else { op.as_str() };
                let value = self.numeric_operand(tok, name)?;
                self.expect_end_array(TOO_MANY_ELEMENTS)?;
                match op.as_str() {
                    "=" => self.equals(&value),
                    _ => self.range(None, Some((&value, op == "<"))),
                }
            }
            ">" | ">=" => {
                let bottom = self.numeric_operand(tok, &op)?;
                match self.next()? {
                    Some(Tok::EndArray) => self.range(Some((&bottom, op == ">")), None),
                    tok => return self.range_top(tok, &bottom, op == ">"),
                }
            }
            _ => return Err(self.barf(format!("Unrecognized numeric range operator: {op}"))),
        };
        range.map_err(|m| self.barf(m))
    }

    fn numeric_operand(&mut self, tok: Option<Tok>, op_name: &str) -> Result<String, Fault> {
        if !tok.is_some_and(Tok::is_numeric) {
            return Err(self.barf(format!("Value of {op_name} must be numeric")));
        }
        self.text()
    }

    fn expect_end_array(&mut self, msg: &str) -> Result<(), Fault> {
        match self.next()? {
            Some(Tok::EndArray) => Ok(()),
            _ => Err(self.barf(msg)),
        }
    }

    /// `completeNumericRange`: `[">", a, "<", b]` and friends.
    fn range_top(&mut self, tok: Option<Tok>, bottom: &str, open_bottom: bool) -> Result<NumRange, Fault> {
        if tok != Some(Tok::Str) {
            let text = self.text()?;
            return Err(self.barf(format!("Bad value in numeric range: {text}")));
        }
        let op = self.text()?;
        if op != "<" && op != "<=" {
            return Err(self.barf(format!("Bad numeric range operator: {op}")));
        }
        let tok = self.next()?;
        let top = self.numeric_operand(tok, &op)?;
        self.expect_end_array("Too many terms in numeric range expression")?;
        self.range(Some((bottom, open_bottom)), Some((&top, op == "<"))).map_err(|m| self.barf(m))
    }

    /// Builds a range with the dialect's rules; `Err` is the text of the
    /// IllegalArgumentException ruler would throw.
    fn range(&self, lo: Option<(&str, bool)>, hi: Option<(&str, bool)>) -> Result<NumRange, String> {
        match self.dialect {
            Dialect::EventBridge => eb_range(lo, hi),
            Dialect::Sns => sns_range(lo, hi),
        }
    }

    /// `["=", v]`: the closed interval [v, v].
    fn equals(&self, text: &str) -> Result<NumRange, String> {
        let value = match self.dialect {
            Dialect::EventBridge => eb_bound(text)?,
            Dialect::Sns => sns_generate(text.parse().unwrap_or(f64::INFINITY))?,
        };
        let bound = Some(Bound { value, open: false });
        Ok(NumRange { lo: bound, hi: bound })
    }

    /// `ComparableNumber.generate` on the current number token; its
    /// IllegalArgumentException carries no location.
    pub(super) fn generate(&mut self) -> Result<f64, Fault> {
        let text = self.text()?;
        match self.dialect {
            Dialect::EventBridge => eb_bound(&text).map_err(Fault::plain),
            Dialect::Sns => {
                let v: f64 = text.parse().unwrap_or(f64::INFINITY);
                sns_generate(v).map_err(Fault::plain)
            }
        }
    }
}

/// Current ruler: bounds must be exact doubles, and a two-sided range
/// needs bottom < top.
fn eb_range(lo: Option<(&str, bool)>, hi: Option<(&str, bool)>) -> Result<NumRange, String> {
    let bound = |b: Option<(&str, bool)>| -> Result<Option<Bound>, String> {
        b.map(|(text, open)| eb_bound(text).map(|value| Bound { value, open })).transpose()
    };
    let (lo, hi) = (bound(lo)?, bound(hi)?);
    if let (Some(l), Some(h)) = (lo, hi) {
        if l.value >= h.value {
            return Err("Bottom must be less than top".to_string());
        }
    }
    Ok(NumRange { lo, hi })
}

fn eb_bound(text: &str) -> Result<f64, String> {
    comparable(Dialect::EventBridge, text).ok_or_else(|| format!("Cannot compare number : {text}"))
}

/// The SNS generation: ranges always have both ends, missing ones being
/// ±5e9 inclusive; bottom must be below top, then each end within ±5e9.
fn sns_range(lo: Option<(&str, bool)>, hi: Option<(&str, bool)>) -> Result<NumRange, String> {
    let value = |b: Option<(&str, bool)>, default: f64| match b {
        Some((text, open)) => Bound { value: text.parse().unwrap_or(f64::INFINITY), open },
        None => Bound { value: default, open: false },
    };
    let (l, h) = (value(lo, -SNS_NUMERIC_LIMIT), value(hi, SNS_NUMERIC_LIMIT));
    if l.value >= h.value {
        return Err("Bottom must be less than top".to_string());
    }
    sns_generate(l.value)?;
    sns_generate(h.value)?;
    Ok(NumRange { lo: Some(l), hi: Some(h) })
}

/// The SNS generation's `ComparableNumber.generate(double)`.
fn sns_generate(v: f64) -> Result<f64, String> {
    if !(-SNS_NUMERIC_LIMIT..=SNS_NUMERIC_LIMIT).contains(&v) {
        return Err("Value must be between -5.0E9 and 5.0E9, inclusive".to_string());
    }
    Ok(v)
}
