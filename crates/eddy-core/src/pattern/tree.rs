//! SNS reads a filter policy into a Jackson tree before validating it, and
//! hands the ruler the tree written back out compactly. Recorded AWS errors
//! show this: their columns and quoted source match the compact form even
//! when the caller sent spaces. This module does the same round trip, so
//! error locations match byte for byte.

use std::collections::HashMap;

use super::lexer::{Fault, Lexer, Source, Tok};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum JNode {
    Object(Vec<(String, JNode)>),
    Array(Vec<JNode>),
    Str(String),
    Int(String),
    Float(String),
    True,
    False,
    Null,
}

/// A container being filled while reading.
enum Open {
    Object { entries: Vec<(String, JNode)>, index: HashMap<String, usize>, key: String },
    Array(Vec<JNode>),
}

/// Reads one JSON value like `ObjectMapper.readTree`: duplicate keys keep
/// their first position and take the last value, and anything after the
/// root value is ignored. `Ok(None)` for empty input.
pub(super) fn parse(src: &str) -> Result<Option<JNode>, Fault> {
    let mut lx = Lexer::new(src, Source::Redacted);
    let mut stack: Vec<Open> = Vec::new();
    loop {
        let Some(tok) = lx.next_token()? else { return Ok(None) };
        let node = match tok {
            Tok::FieldName => {
                if let Some(Open::Object { key, .. }) = stack.last_mut() {
                    *key = lx.name().to_string();
                }
                continue;
            }
            Tok::StartObject => {
                stack.push(Open::Object { entries: Vec::new(), index: HashMap::new(), key: String::new() });
                continue;
            }
            Tok::StartArray => {
                stack.push(Open::Array(Vec::new()));
                continue;
            }
            Tok::EndObject | Tok::EndArray => match stack.pop() {
                Some(Open::Object { entries, .. }) => JNode::Object(entries),
                Some(Open::Array(items)) => JNode::Array(items),
                None => continue,
            },
            Tok::Str => JNode::Str(lx.text()?),
            Tok::Int => JNode::Int(lx.text()?),
            Tok::Float => JNode::Float(lx.text()?),
            Tok::True => JNode::True,
            Tok::False => JNode::False,
            Tok::Null => JNode::Null,
        };
        match stack.last_mut() {
            None => return Ok(Some(node)),
            Some(Open::Array(items)) => items.push(node),
            Some(Open::Object { entries, index, key }) => insert(entries, index, std::mem::take(key), node),
        }
    }
}

fn insert(entries: &mut Vec<(String, JNode)>, index: &mut HashMap<String, usize>, key: String, node: JNode) {
    match index.get(&key) {
        Some(&at) => entries[at].1 = node,
        None => {
            index.insert(key.clone(), entries.len());
            entries.push((key, node));
        }
    }
}

/// The tree as Jackson's default writer prints it: no spaces, integers
/// canonical, floats as Java's `Double.toString`.
pub(super) fn compact(node: &JNode) -> String {
    let mut out = String::new();
    write(node, &mut out);
    out
}

fn write(node: &JNode, out: &mut String) {
    match node {
        JNode::Object(entries) => {
            out.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(key, out);
                out.push(':');
                write(value, out);
            }
            out.push('}');
        }
        JNode::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        JNode::Str(s) => write_str(s, out),
        JNode::Int(text) => out.push_str(if text == "-0" { "0" } else { text }),
        JNode::Float(text) => out.push_str(&java_double(text.parse().unwrap_or(0.0))),
        JNode::True => out.push_str("true"),
        JNode::False => out.push_str("false"),
        JNode::Null => out.push_str("null"),
    }
}

/// Jackson's string escaping: quote, backslash, and control characters
/// (short forms where JSON has them, `\u00XX` otherwise).
fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Java's `Double.toString`, as Jackson writes a `DoubleNode`: shortest
/// round-trip digits, plain notation in [1e-3, 1e7), else `d.dddE±n`.
/// Non-finite values are written as quoted strings (Jackson's default).
pub(super) fn java_double(v: f64) -> String {
    if v.is_nan() {
        return "\"NaN\"".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "\"Infinity\"" } else { "\"-Infinity\"" }.to_string();
    }
    let sign = if v.is_sign_negative() { "-" } else { "" };
    if v == 0.0 {
        return format!("{sign}0.0");
    }
    let sci = format!("{:e}", v.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    let abs = v.abs();
    if (1e-3..1e7).contains(&abs) {
        format!("{sign}{}", plain_decimal(&digits, exp))
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exp}")
    }
}

/// `digits` is d1d2d3… meaning d1.d2d3… × 10^exp.
fn plain_decimal(digits: &str, exp: i32) -> String {
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("0.{zeros}{digits}");
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        format!("{digits}{}.0", "0".repeat(int_len - digits.len()))
    } else {
        format!("{}.{}", &digits[..int_len], &digits[int_len..])
    }
}
