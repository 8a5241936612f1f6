//! A JSON tokenizer that behaves like Jackson's streaming parser.
//!
//! AWS validates filter policies and event patterns with aws/event-ruler,
//! which walks Jackson tokens and reports errors with Jackson's message text
//! and Jackson's idea of where the parser stands ("line: 1, column: 10").
//! Reproducing those messages means reproducing the parser's position rules:
//!
//! - a string value is read lazily: after its token the parser stands just
//!   past the opening quote until the text is asked for;
//! - after a field name the parser has already started the value (Jackson
//!   reads one token ahead), so an error about a field sits past the value's
//!   first character;
//! - numbers and `true`/`false`/`null` are read whole;
//! - "Unexpected character" errors point at that character (Jackson 2.17+),
//!   other errors at the next unread character;
//! - columns count UTF-16 code units, as Java strings do.

/// Jackson's default `StreamReadConstraints.getMaxNestingDepth()`.
pub(super) const MAX_DEPTH: usize = 1000;

/// Jackson's default `ErrorReportConfiguration` limits.
const MAX_SNIPPET_UNITS: usize = 500;
const MAX_ERROR_TOKEN_UNITS: usize = 256;

const VALUE_LIST: &str = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok {
    StartObject,
    EndObject,
    StartArray,
    EndArray,
    FieldName,
    Str,
    Int,
    Float,
    True,
    False,
    Null,
}

impl Tok {
    pub(super) fn is_numeric(self) -> bool {
        matches!(self, Tok::Int | Tok::Float)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Loc {
    pub line: u32,
    pub col: u32,
}

/// An error as Jackson would render it: a message and zero or more
/// locations. Ruler catches and rethrows some errors inside `try` blocks,
/// and each rethrow appends the location once more, so AWS sometimes shows
/// two identical "at [Source: ...]" lines.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Fault {
    pub msg: String,
    pub locs: Vec<Loc>,
}

impl Fault {
    /// An error without a location (Java `IllegalArgumentException`s that
    /// escape the ruler, such as CIDR errors).
    pub(super) fn plain(msg: impl Into<String>) -> Fault {
        Fault { msg: msg.into(), locs: Vec::new() }
    }

    pub(super) fn at(msg: impl Into<String>, loc: Loc) -> Fault {
        Fault { msg: msg.into(), locs: vec![loc] }
    }

    /// The fault rethrown from a ruler `catch` block at `loc`.
    pub(super) fn again(mut self, loc: Loc) -> Fault {
        self.locs.push(loc);
        self
    }

    pub(super) fn render(&self, source: &Source<'_>) -> String {
        let mut out = self.msg.clone();
        for loc in &self.locs {
            out.push_str("\n at ");
            out.push_str(&source.at(*loc));
        }
        out
    }
}

/// How a location names its input: ruler parsers include the text, the
/// parser SNS uses to read the raw policy does not (Jackson 2.16+ default).
#[derive(Debug, Clone, Copy)]
pub(super) enum Source<'a> {
    Text(&'a str),
    Redacted,
}

impl Source<'_> {
    pub(super) fn at(&self, loc: Loc) -> String {
        format!("[Source: {}; line: {}, column: {}]", self.describe(), loc.line, loc.col)
    }

    fn describe(&self) -> String {
        let Source::Text(text) = self else {
            return "REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)".to_string();
        };
        let mut out = String::from("(String)\"");
        let mut units = 0;
        for c in text.chars() {
            units += c.len_utf16();
            if units > MAX_SNIPPET_UNITS {
                break;
            }
            push_snippet_char(&mut out, c);
        }
        out.push('"');
        let total: usize = text.chars().map(char::len_utf16).sum();
        if total > MAX_SNIPPET_UNITS {
            out.push_str(&format!("[truncated {} chars]", total - MAX_SNIPPET_UNITS));
        }
        out
    }
}

/// Jackson escapes control characters in snippets, except CR and LF.
fn push_snippet_char(out: &mut String, c: char) {
    if c.is_control() && c != '\r' && c != '\n' {
        out.push_str(&format!("\\u{:04X}", c as u32));
    } else {
        out.push(c);
    }
}

/// Jackson's `_getCharDesc`.
pub(super) fn char_desc(c: char) -> String {
    let code = c as u32;
    if c.is_control() {
        format!("(CTRL-CHAR, code {code})")
    } else if code > 255 {
        format!("'{c}' (code {code} / 0x{code:x})")
    } else {
        format!("'{c}' (code {code})")
    }
}

/// Approximates Java's `Character.isJavaIdentifierPart`, which decides how
/// much of a bad token Jackson quotes back.
fn ident_part(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

fn ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Array,
    Object,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Array => "Array",
            Kind::Object => "Object",
        }
    }
}

struct Frame {
    kind: Kind,
    /// Where the bracket is: line, that line's start, the bracket's offset.
    /// The column is computed only if an error needs it.
    start: (u32, usize, usize),
    entries: usize,
}

#[derive(Clone, Copy)]
enum StrCtx {
    Name,
    Value,
}

pub(super) struct Lexer<'a> {
    src: &'a str,
    source: Source<'a>,
    pos: usize,
    line: u32,
    line_start: usize,
    /// Start of the last significant character read, for errors about it.
    mark: usize,
    frames: Vec<Frame>,
    cur: Option<Tok>,
    /// The value token Jackson has already started after a field name.
    ahead: Option<Tok>,
    name: String,
    /// Offset just past the opening quote of a string not yet read.
    lazy: Option<usize>,
    text: String,
    num: (usize, usize),
}

impl<'a> Lexer<'a> {
    pub(super) fn new(src: &'a str, source: Source<'a>) -> Lexer<'a> {
        Lexer {
            src,
            source,
            pos: 0,
            line: 1,
            line_start: 0,
            mark: 0,
            frames: Vec::new(),
            cur: None,
            ahead: None,
            name: String::new(),
            lazy: None,
            text: String::new(),
            num: (0, 0),
        }
    }

    /// Where Jackson's `getCurrentLocation()` would be.
    pub(super) fn loc(&self) -> Loc {
        self.loc_at(self.pos)
    }

    fn loc_at(&self, at: usize) -> Loc {
        self.loc_on(self.line, self.line_start, at)
    }

    fn loc_on(&self, line: u32, line_start: usize, at: usize) -> Loc {
        let from = line_start.min(at);
        let col = self.src.get(from..at).map_or(0, |s| s.encode_utf16().count());
        Loc { line, col: col as u32 + 1 }
    }

    /// The location of a container's opening bracket.
    fn start_of(&self, frame: &Frame) -> String {
        let (line, line_start, at) = frame.start;
        self.source.at(self.loc_on(line, line_start, at))
    }

    /// The field name of the current (or just passed) `FieldName` token.
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// Jackson's `getText()` for the current token. Reading a lazy string
    /// moves the parser past it, exactly as Jackson does.
    pub(super) fn text(&mut self) -> Result<String, Fault> {
        let text = match self.cur {
            Some(Tok::Str) => {
                self.finish_string()?;
                return Ok(self.text.clone());
            }
            Some(Tok::FieldName) => return Ok(self.name.clone()),
            Some(Tok::Int | Tok::Float) => return Ok(self.src[self.num.0..self.num.1].to_string()),
            Some(Tok::True) => "true",
            Some(Tok::False) => "false",
            Some(Tok::Null) | None => "null",
            Some(Tok::StartObject) => "{",
            Some(Tok::EndObject) => "}",
            Some(Tok::StartArray) => "[",
            Some(Tok::EndArray) => "]",
        };
        Ok(text.to_string())
    }

    pub(super) fn next_token(&mut self) -> Result<Option<Tok>, Fault> {
        if self.cur == Some(Tok::FieldName) {
            self.cur = self.ahead.take();
            return Ok(self.cur);
        }
        self.finish_string()?;
        let Some(mut c) = self.skip_ws()? else { return self.end_of_input() };
        if c == ']' || c == '}' {
            return self.close(c);
        }
        if let Some(kind) = self.expect_comma() {
            if c != ',' {
                let comment = format!("was expecting comma to separate {} entries", kind.name());
                return Err(self.unexpected(c, &comment));
            }
            c = self.skip_ws()?.ok_or_else(|| self.eof(&format!(" within/between {} entries", kind.name())))?;
        }
        if let Some(frame) = self.frames.last_mut() {
            frame.entries += 1;
        }
        if self.frames.last().is_some_and(|f| f.kind == Kind::Object) {
            return self.field(c);
        }
        let tok = self.value(c)?;
        self.cur = Some(tok);
        Ok(self.cur)
    }

    fn expect_comma(&self) -> Option<Kind> {
        self.frames.last().filter(|f| f.entries > 0).map(|f| f.kind)
    }

    fn peek(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn bump(&mut self, c: char) {
        self.pos += c.len_utf8();
    }

    fn fault(&self, msg: impl Into<String>) -> Fault {
        Fault::at(msg, self.loc())
    }

    fn eof(&self, what: &str) -> Fault {
        self.fault(format!("Unexpected end-of-input{what}"))
    }

    /// Jackson's `_reportUnexpectedChar`, pointing at the offending char.
    fn unexpected(&self, c: char, comment: &str) -> Fault {
        Fault::at(format!("Unexpected character ({}): {comment}", char_desc(c)), self.loc_at(self.mark))
    }

    /// Skips whitespace the way Jackson's `_skipWSOrEnd` does and returns
    /// the next significant character, consumed, with `mark` at its start.
    fn skip_ws(&mut self) -> Result<Option<char>, Fault> {
        while let Some(c) = self.peek() {
            let at = self.pos;
            self.bump(c);
            match c {
                ' ' | '\t' => {}
                '\n' => self.new_line(),
                '\r' => {
                    if self.peek() == Some('\n') {
                        self.pos += 1;
                    }
                    self.new_line();
                }
                '/' => {
                    self.mark = at;
                    let comment = "maybe a (non-standard) comment? (not recognized as one since Feature 'ALLOW_COMMENTS' not enabled for parser)";
                    return Err(self.unexpected(c, comment));
                }
                c if (c as u32) < 0x20 => {
                    let msg = format!(
                        "Illegal character ({}): only regular white space (\\r, \\n, \\t) is allowed between tokens",
                        char_desc(c)
                    );
                    return Err(Fault::at(msg, self.loc_at(at)));
                }
                c => {
                    self.mark = at;
                    return Ok(Some(c));
                }
            }
        }
        Ok(None)
    }

    fn new_line(&mut self) {
        self.line += 1;
        self.line_start = self.pos;
    }

    fn end_of_input(&mut self) -> Result<Option<Tok>, Fault> {
        if let Some(frame) = self.frames.last() {
            let what =
                format!(": expected close marker for {} (start marker at {})", frame.kind.name(), self.start_of(frame));
            return Err(self.eof(&what));
        }
        self.cur = None;
        Ok(None)
    }

    fn close(&mut self, c: char) -> Result<Option<Tok>, Fault> {
        let want = match c {
            ']' => Kind::Array,
            _ => Kind::Object,
        };
        match self.frames.last() {
            Some(frame) if frame.kind == want => {
                self.frames.pop();
                self.cur = Some(if want == Kind::Array { Tok::EndArray } else { Tok::EndObject });
                Ok(self.cur)
            }
            Some(frame) => {
                let expected = if frame.kind == Kind::Array { ']' } else { '}' };
                let (name, start) = (frame.kind.name(), self.start_of(frame));
                Err(self.fault(format!(
                    "Unexpected close marker '{c}': expected '{expected}' (for {name} starting at {start})"
                )))
            }
            None => {
                let expected = if c == ']' { '}' } else { ']' };
                let start = self.source.at(Loc { line: 1, col: 0 });
                Err(self.fault(format!(
                    "Unexpected close marker '{c}': expected '{expected}' (for root starting at {start})"
                )))
            }
        }
    }

    /// Reads a field name, the colon, and starts the value (Jackson's
    /// read-ahead), returning `FieldName`.
    fn field(&mut self, c: char) -> Result<Option<Tok>, Fault> {
        if c != '"' {
            return Err(self.unexpected(c, "was expecting double-quote to start field name"));
        }
        self.name = self.read_string(StrCtx::Name)?;
        let between = " within/between Object entries";
        let c = self.skip_ws()?.ok_or_else(|| self.eof(between))?;
        if c != ':' {
            return Err(self.unexpected(c, "was expecting a colon to separate field name and value"));
        }
        let c = self.skip_ws()?.ok_or_else(|| self.eof(between))?;
        self.ahead = Some(self.value(c)?);
        self.cur = Some(Tok::FieldName);
        Ok(self.cur)
    }

    /// Starts a value whose first character `c` was just consumed.
    fn value(&mut self, c: char) -> Result<Tok, Fault> {
        match c {
            '"' => {
                self.lazy = Some(self.pos);
                Ok(Tok::Str)
            }
            '[' => self.open(Kind::Array).map(|_| Tok::StartArray),
            '{' => self.open(Kind::Object).map(|_| Tok::StartObject),
            't' => self.literal("true").map(|_| Tok::True),
            'f' => self.literal("false").map(|_| Tok::False),
            'n' => self.literal("null").map(|_| Tok::Null),
            '-' | '0'..='9' => self.number(c),
            _ => Err(self.odd_value(c)),
        }
    }

    fn open(&mut self, kind: Kind) -> Result<(), Fault> {
        if self.frames.len() >= MAX_DEPTH {
            return Err(Fault::plain(format!(
                "Document nesting depth ({}) exceeds the maximum allowed ({MAX_DEPTH}, from `StreamReadConstraints.getMaxNestingDepth()`)",
                self.frames.len() + 1
            )));
        }
        let start = (self.line, self.line_start, self.mark);
        self.frames.push(Frame { kind, start, entries: 0 });
        Ok(())
    }

    /// Matches the rest of `true`/`false`/`null` (first char consumed).
    fn literal(&mut self, word: &str) -> Result<(), Fault> {
        for (i, want) in word.char_indices().skip(1) {
            if self.peek() != Some(want) {
                return Err(self.invalid_token(&word[..i]));
            }
            self.bump(want);
        }
        match self.peek() {
            Some(c) if c >= '0' && c != ']' && c != '}' && ident_part(c) => Err(self.invalid_token(word)),
            _ => Ok(()),
        }
    }

    /// Jackson's `_reportInvalidToken`: quotes the token plus any identifier
    /// characters that follow it.
    fn invalid_token(&mut self, prefix: &str) -> Fault {
        let mut token = prefix.to_string();
        while let Some(c) = self.peek().filter(|c| ident_part(*c)) {
            self.bump(c);
            token.push(c);
            if token.encode_utf16().count() >= MAX_ERROR_TOKEN_UNITS {
                token.push_str("...");
                break;
            }
        }
        self.fault(format!("Unrecognized token '{token}': was expecting {VALUE_LIST}"))
    }

    fn odd_value(&mut self, c: char) -> Fault {
        for word in ["NaN", "Infinity"] {
            if word.starts_with(c) {
                return self.non_standard(word);
            }
        }
        if ident_start(c) {
            return self.invalid_token(&c.to_string());
        }
        self.unexpected(c, &format!("expected a valid value {VALUE_LIST}"))
    }

    fn non_standard(&mut self, word: &str) -> Fault {
        if let Err(fault) = self.literal(word) {
            return fault;
        }
        self.fault(format!("Non-standard token '{word}': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow"))
    }

    fn number(&mut self, first: char) -> Result<Tok, Fault> {
        let start = self.mark;
        let mut lead = first;
        if first == '-' {
            lead = self.digit_after("expected digit (0-9) to follow minus sign, for valid numeric value")?;
        }
        if lead == '0' && self.peek().is_some_and(|c| c.is_ascii_digit()) {
            return Err(self.fault("Invalid numeric value: Leading zeroes not allowed"));
        }
        self.digits();
        let mut float = false;
        if self.peek() == Some('.') {
            self.bump('.');
            self.digit_after("Decimal point not followed by a digit")?;
            self.digits();
            float = true;
        }
        if let Some(e @ ('e' | 'E')) = self.peek() {
            self.bump(e);
            if let Some(sign @ ('+' | '-')) = self.peek() {
                self.bump(sign);
            }
            self.digit_after("Exponent indicator not followed by a digit")?;
            self.digits();
            float = true;
        }
        self.num = (start, self.pos);
        self.verify_root_space()?;
        Ok(if float { Tok::Float } else { Tok::Int })
    }

    /// Consumes the digit that must follow a sign, point or exponent mark.
    fn digit_after(&mut self, comment: &str) -> Result<char, Fault> {
        match self.peek() {
            Some(d) if d.is_ascii_digit() => {
                self.bump(d);
                Ok(d)
            }
            Some(c) => {
                self.mark = self.pos;
                let msg = format!("Unexpected character ({}) in numeric value: {comment}", char_desc(c));
                Err(Fault::at(msg, self.loc()))
            }
            None => Err(self.eof(" in a Number value")),
        }
    }

    fn digits(&mut self) {
        while let Some(d) = self.peek().filter(char::is_ascii_digit) {
            self.bump(d);
        }
    }

    /// A root-level number must be followed by whitespace or the end.
    fn verify_root_space(&mut self) -> Result<(), Fault> {
        if !self.frames.is_empty() {
            return Ok(());
        }
        match self.peek() {
            None | Some(' ' | '\t' | '\r' | '\n') => Ok(()),
            Some(c) => {
                self.mark = self.pos;
                Err(self.unexpected(c, "Expected space separating root-level values"))
            }
        }
    }

    /// Reads the rest of a lazily started string value, if any.
    fn finish_string(&mut self) -> Result<(), Fault> {
        if self.lazy.take().is_some() {
            self.text = self.read_string(StrCtx::Value)?;
        }
        Ok(())
    }

    /// Reads up to and including the closing quote, decoding escapes.
    fn read_string(&mut self, ctx: StrCtx) -> Result<String, Fault> {
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.eof(match ctx {
                    StrCtx::Name => " in field name",
                    StrCtx::Value => ": was expecting closing quote for a string value",
                }));
            };
            let at = self.pos;
            self.bump(c);
            match c {
                '"' => return Ok(out),
                '\\' => self.escape(&mut out)?,
                c if (c as u32) < 0x20 => {
                    let what = match ctx {
                        StrCtx::Name => "name",
                        StrCtx::Value => "string value",
                    };
                    let msg = format!(
                        "Illegal unquoted character ({}): has to be escaped using backslash to be included in {what}",
                        char_desc(c)
                    );
                    return Err(Fault::at(msg, self.loc_at(at)));
                }
                c => out.push(c),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), Fault> {
        let c = self.peek().ok_or_else(|| self.eof(" in character escape sequence"))?;
        self.bump(c);
        let decoded = match c {
            'b' => '\u{8}',
            't' => '\t',
            'n' => '\n',
            'f' => '\u{c}',
            'r' => '\r',
            '"' | '/' | '\\' => c,
            'u' => return self.unicode_escape(out),
            _ => return Err(self.fault(format!("Unrecognized character escape {}", char_desc(c)))),
        };
        out.push(decoded);
        Ok(())
    }

    /// `\uXXXX`, joining surrogate pairs. A lone surrogate (legal in Java
    /// strings, impossible in Rust ones) becomes U+FFFD.
    fn unicode_escape(&mut self, out: &mut String) -> Result<(), Fault> {
        let unit = self.hex4()?;
        if (0xD800..0xDC00).contains(&unit) && self.src[self.pos..].starts_with("\\u") {
            let save = self.pos;
            self.pos += 2;
            let low = self.hex4()?;
            if (0xDC00..0xE000).contains(&low) {
                let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                return Ok(());
            }
            self.pos = save;
        }
        out.push(char::from_u32(unit).unwrap_or('\u{FFFD}'));
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, Fault> {
        let mut value = 0;
        for _ in 0..4 {
            let c = self.peek().ok_or_else(|| self.eof(" in character escape sequence"))?;
            let Some(d) = c.to_digit(16) else {
                self.mark = self.pos;
                return Err(self.unexpected(c, "expected a hex-digit for character escape sequence"));
            };
            self.bump(c);
            value = value * 16 + d;
        }
        Ok(value)
    }
}
