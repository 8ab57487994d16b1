//! A recursive-descent reader for Erlang term text (what `file:consult` reads): tuples,
//! lists, maps, binaries, strings, atoms, numbers and `%` comments.

/// An Erlang term, as far as `metadata.config` needs.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Binary(Vec<u8>),
    /// A `"..."` literal (in Erlang a list of characters).
    Str(String),
    Atom(String),
    Int(i64),
    Float(f64),
}

/// Nesting deeper than this is refused; real metadata is four levels deep. The reader recurses
/// once per level, so this also bounds its stack.
const MAX_DEPTH: usize = 32;

/// More terms than this are refused: a term takes some 40 bytes parsed for as little as two
/// sent (`[1,1,…]`), and real metadata (a list of files, some requirements) holds a few
/// thousand.
const MAX_TERMS: usize = 100_000;

/// A recursive-descent reader for Erlang term text.
pub(super) struct Parser {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    terms: usize,
}

impl Parser {
    pub(super) fn new(text: &str) -> Parser {
        Parser {
            chars: text.chars().collect(),
            pos: 0,
            line: 1,
            terms: 0,
        }
    }

    fn err<T>(&self, msg: impl std::fmt::Display) -> Result<T, String> {
        Err(format!("line {}: {msg}", self.line))
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        self.skip_ws();
        if self.eat(c) {
            Ok(())
        } else {
            self.err(format!("expected `{c}`, found {}", self.found()))
        }
    }

    fn found(&self) -> String {
        match self.peek() {
            Some(c) => format!("`{c}`"),
            None => "end of file".into(),
        }
    }

    /// Whitespace as Erlang's scanner sees it (control characters, space, and U+0080–U+00A0),
    /// and `%` comments.
    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c <= ' ' || ('\u{80}'..='\u{a0}').contains(&c) {
                self.bump();
            } else if c == '%' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.bump();
                }
            } else {
                break;
            }
        }
    }

    /// Every `Term.` in the text, each with the line it starts on.
    pub(super) fn terms(&mut self) -> Result<Vec<(usize, Value)>, String> {
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            if self.peek().is_none() {
                return Ok(out);
            }
            let line = self.line;
            let term = self.term(0)?;
            self.expect('.')?;
            // A full stop is a `.` followed by whitespace, a comment or the end.
            if let Some(c) = self.peek()
                && !(c <= ' ' || c == '%' || ('\u{80}'..='\u{a0}').contains(&c))
            {
                return self.err(format!("expected whitespace after `.`, found `{c}`"));
            }
            out.push((line, term));
        }
    }

    fn term(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return self.err(format!("terms nested more than {MAX_DEPTH} deep"));
        }
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return self.err(format!("more than {MAX_TERMS} terms"));
        }
        self.skip_ws();
        let Some(c) = self.peek() else {
            return self.err("unexpected end of file");
        };
        match c {
            '{' => {
                self.bump();
                Ok(Value::Tuple(self.sequence('}', depth)?))
            }
            '[' => {
                self.bump();
                Ok(Value::List(self.sequence(']', depth)?))
            }
            '#' if self.peek_at(1) == Some('{') => {
                self.pos += 2;
                self.map(depth)
            }
            '<' if self.peek_at(1) == Some('<') => {
                self.pos += 2;
                self.binary()
            }
            '"' => Ok(Value::Str(self.strings()?)),
            '\'' => {
                self.bump();
                Ok(Value::Atom(self.quoted('\'')?))
            }
            '$' => {
                self.bump();
                let c = self.char_literal()?;
                Ok(Value::Int(i64::from(u32::from(c))))
            }
            '0'..='9' | '-' | '+' => self.number(),
            'a'..='z' | 'ß'..='ÿ' if c != '÷' => {
                let mut name = String::new();
                while let Some(c) = self.peek().filter(|&c| is_name_char(c)) {
                    name.push(c);
                    self.bump();
                }
                Ok(Value::Atom(name))
            }
            'A'..='Z' | '_' => self.err("variables are not allowed in metadata.config"),
            other => self.err(format!("unexpected `{other}`")),
        }
    }

    /// Comma-separated terms up to `close`.
    fn sequence(&mut self, close: char, depth: usize) -> Result<Vec<Value>, String> {
        let mut items = Vec::new();
        self.skip_ws();
        if self.eat(close) {
            return Ok(items);
        }
        loop {
            items.push(self.term(depth + 1)?);
            self.skip_ws();
            if self.eat(',') {
                continue;
            }
            if self.eat(close) {
                return Ok(items);
            }
            if close == ']' && self.peek() == Some('|') {
                return self.err("improper lists (`[H | T]`) are not supported");
            }
            return self.err(format!("expected `,` or `{close}`, found {}", self.found()));
        }
    }

    fn map(&mut self, depth: usize) -> Result<Value, String> {
        let mut entries = Vec::new();
        self.skip_ws();
        if self.eat('}') {
            return Ok(Value::Map(entries));
        }
        loop {
            let key = self.term(depth + 1)?;
            self.skip_ws();
            if !(self.eat('=') && self.eat('>')) {
                return self.err(format!("expected `=>` in a map, found {}", self.found()));
            }
            let value = self.term(depth + 1)?;
            entries.push((key, value));
            self.skip_ws();
            if self.eat(',') {
                continue;
            }
            if self.eat('}') {
                return Ok(Value::Map(entries));
            }
            return self.err(format!("expected `,` or `}}`, found {}", self.found()));
        }
    }

    /// The segments of `<<...>>` after the opening `<<`: strings (optionally `/utf8`) and bytes.
    fn binary(&mut self) -> Result<Value, String> {
        let mut bytes = Vec::new();
        self.skip_ws();
        if self.eat('>') {
            return match self.eat('>') {
                true => Ok(Value::Binary(bytes)),
                false => self.err("expected `>>`"),
            };
        }
        loop {
            self.skip_ws();
            match self.peek() {
                Some('"') => {
                    let s = self.strings()?;
                    self.skip_ws();
                    if self.eat('/') {
                        self.skip_ws();
                        let mut spec = String::new();
                        while let Some(c) = self.peek().filter(|&c| is_name_char(c)) {
                            spec.push(c);
                            self.bump();
                        }
                        if spec != "utf8" {
                            return self.err(format!("unsupported binary segment type `{spec}`"));
                        }
                        bytes.extend_from_slice(s.as_bytes());
                    } else if s.chars().all(|c| u32::from(c) <= 0xff) {
                        // Without /utf8 each character is one byte (its Latin-1 code).
                        bytes.extend(s.chars().map(|c| u32::from(c) as u8));
                    } else {
                        // Erlang would truncate these characters; keep the text instead.
                        bytes.extend_from_slice(s.as_bytes());
                    }
                }
                Some(_) => match self.term(MAX_DEPTH)? {
                    Value::Int(b) if (0..=255).contains(&b) => bytes.push(b as u8),
                    _ => return self.err("a binary segment must be a string or a byte"),
                },
                None => return self.err("unexpected end of file in a binary"),
            }
            self.skip_ws();
            if self.eat(',') {
                continue;
            }
            if self.eat('>') && self.eat('>') {
                return Ok(Value::Binary(bytes));
            }
            return self.err(format!("expected `,` or `>>`, found {}", self.found()));
        }
    }

    /// One or more adjacent `"..."` literals, which Erlang joins into one.
    fn strings(&mut self) -> Result<String, String> {
        let mut s = String::new();
        loop {
            self.bump();
            s.push_str(&self.quoted('"')?);
            self.skip_ws();
            if self.peek() != Some('"') {
                return Ok(s);
            }
        }
    }

    /// The rest of a quoted string or atom after its opening quote.
    fn quoted(&mut self, quote: char) -> Result<String, String> {
        let mut s = String::new();
        loop {
            match self.bump() {
                None => return self.err(format!("unterminated {quote}...{quote}")),
                Some(c) if c == quote => return Ok(s),
                Some('\\') => s.push(self.escape()?),
                Some(c) => s.push(c),
            }
        }
    }

    /// The character after `$`.
    fn char_literal(&mut self) -> Result<char, String> {
        match self.bump() {
            Some('\\') => self.escape(),
            Some(c) => Ok(c),
            None => self.err("unexpected end of file after `$`"),
        }
    }

    /// An escape sequence after the backslash, as the Erlang reference manual lists them.
    fn escape(&mut self) -> Result<char, String> {
        let Some(c) = self.bump() else {
            return self.err("unexpected end of file in an escape");
        };
        let code = match c {
            'b' => 8,
            'd' => 127,
            'e' => 27,
            'f' => 12,
            'n' => 10,
            'r' => 13,
            's' => 32,
            't' => 9,
            'v' => 11,
            '^' => match self.bump() {
                Some(c) => u32::from(c) & 31,
                None => return self.err("unexpected end of file in an escape"),
            },
            '0'..='7' => {
                let mut code = c.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            code = code * 8 + d;
                            self.bump();
                        }
                        None => break,
                    }
                }
                code
            }
            'x' => {
                let mut digits = String::new();
                if self.eat('{') {
                    while let Some(c) = self.bump() {
                        if c == '}' {
                            break;
                        }
                        digits.push(c);
                    }
                } else {
                    for _ in 0..2 {
                        digits.extend(self.bump());
                    }
                }
                match u32::from_str_radix(&digits, 16) {
                    Ok(code) => code,
                    Err(_) => return self.err(format!("bad escape `\\x{digits}`")),
                }
            }
            other => u32::from(other),
        };
        match char::from_u32(code) {
            Some(c) => Ok(c),
            None => self.err(format!("escape names no character ({code})")),
        }
    }

    /// Integers (`42`, `-7`, `16#ff`, `1_000`) and floats (`1.5`, `2.0e-3`).
    fn number(&mut self) -> Result<Value, String> {
        let negative = match self.peek() {
            Some('-') => {
                self.bump();
                true
            }
            Some('+') => {
                self.bump();
                false
            }
            _ => false,
        };
        self.skip_ws();
        let digits = self.digits(|c| c.is_ascii_digit());
        if digits.is_empty() {
            return self.err(format!("expected a number, found {}", self.found()));
        }
        let sign = if negative { "-" } else { "" };
        if self.peek() == Some('#') {
            self.bump();
            let radix = digits.parse::<u32>().ok().filter(|r| (2..=36).contains(r));
            let Some(radix) = radix else {
                return self.err(format!("bad radix {digits}"));
            };
            let value = self.digits(|c| c.is_digit(radix));
            return i64::from_str_radix(&format!("{sign}{value}"), radix)
                .map(Value::Int)
                .map_err(|_| format!("line {}: bad number {digits}#{value}", self.line));
        }
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
            let mut float = format!("{sign}{digits}.{}", self.digits(|c| c.is_ascii_digit()));
            if matches!(self.peek(), Some('e' | 'E')) {
                self.bump();
                float.push('e');
                if let Some(s @ ('-' | '+')) = self.peek() {
                    float.push(s);
                    self.bump();
                }
                float.push_str(&self.digits(|c| c.is_ascii_digit()));
            }
            return float
                .parse()
                .map(Value::Float)
                .map_err(|_| format!("line {}: bad float {float}", self.line));
        }
        match format!("{sign}{digits}").parse() {
            Ok(n) => Ok(Value::Int(n)),
            Err(_) => self.err(format!("number {sign}{digits} is too large")),
        }
    }

    /// Digits matching `is_digit`, with `_` separators dropped.
    fn digits(&mut self, is_digit: impl Fn(char) -> bool) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if is_digit(c) {
                out.push(c);
            } else if c != '_' || !self.peek_at(1).is_some_and(&is_digit) {
                break;
            }
            self.bump();
        }
        out
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || c == '_'
        || c == '@'
        || (('À'..='ÿ').contains(&c) && c != '×' && c != '÷')
}
