//! A small JSON reader for the output of `cargo metadata`: a value tree and the few
//! accessors `link.rs` needs. Written here rather than taken from serde_json, which
//! would cost every clean build of a user's build script about 15 s of compilation
//! (serde_core, serde_json, memchr, itoa, zmij, measured with one job).

use std::collections::BTreeMap;

/// A JSON value. Numbers are kept as their text: nothing here reads one.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

static NULL: Json = Json::Null;

impl Json {
    /// The value of `key` in an object; `Null` when there is none or this is no object.
    pub(crate) fn get(&self, key: &str) -> &Json {
        match self {
            Json::Object(map) => map.get(key).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub(crate) fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    pub(crate) fn as_object(&self) -> Option<&BTreeMap<String, Json>> {
        match self {
            Json::Object(map) => Some(map),
            _ => None,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }
}

/// Parses `text`, which must hold one JSON value (and whitespace).
pub(crate) fn parse(text: &str) -> Result<Json, String> {
    let mut parser = Parser {
        chars: text.char_indices().peekable(),
    };
    let value = parser.value()?;
    parser.skip_whitespace();
    match parser.chars.next() {
        None => Ok(value),
        Some((at, c)) => Err(format!("unexpected {c:?} at byte {at} after the value")),
    }
}

struct Parser<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
}

impl Parser<'_> {
    fn skip_whitespace(&mut self) {
        while self
            .chars
            .peek()
            .is_some_and(|(_, c)| matches!(c, ' ' | '\t' | '\n' | '\r'))
        {
            self.chars.next();
        }
    }

    fn next(&mut self) -> Result<(usize, char), String> {
        self.chars
            .next()
            .ok_or_else(|| "unexpected end of the output".to_owned())
    }

    fn expect(&mut self, expected: char) -> Result<(), String> {
        match self.next()? {
            (_, c) if c == expected => Ok(()),
            (at, c) => Err(format!("expected {expected:?} at byte {at}, found {c:?}")),
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.skip_whitespace();
        let (at, c) = *self
            .chars
            .peek()
            .ok_or_else(|| "unexpected end of the output".to_owned())?;
        match c {
            '{' => self.object(),
            '[' => self.array(),
            '"' => self.string().map(Json::String),
            't' => self.word("true", Json::Bool(true)),
            'f' => self.word("false", Json::Bool(false)),
            'n' => self.word("null", Json::Null),
            '-' | '0'..='9' => {
                let mut number = String::new();
                while let Some(&(_, c)) = self.chars.peek() {
                    if !matches!(c, '-' | '+' | '.' | 'e' | 'E' | '0'..='9') {
                        break;
                    }
                    number.push(c);
                    self.chars.next();
                }
                Ok(Json::Number(number))
            }
            _ => Err(format!("unexpected {c:?} at byte {at}")),
        }
    }

    fn word(&mut self, word: &str, value: Json) -> Result<Json, String> {
        for expected in word.chars() {
            self.expect(expected)?;
        }
        Ok(value)
    }

    fn object(&mut self) -> Result<Json, String> {
        self.expect('{')?;
        let mut map = BTreeMap::new();
        self.skip_whitespace();
        if self.chars.peek().is_some_and(|(_, c)| *c == '}') {
            self.chars.next();
            return Ok(Json::Object(map));
        }
        loop {
            self.skip_whitespace();
            let key = self.string()?;
            self.skip_whitespace();
            self.expect(':')?;
            let value = self.value()?;
            map.insert(key, value);
            self.skip_whitespace();
            match self.next()? {
                (_, ',') => {}
                (_, '}') => return Ok(Json::Object(map)),
                (at, c) => return Err(format!("expected ',' or '}}' at byte {at}, found {c:?}")),
            }
        }
    }

    fn array(&mut self) -> Result<Json, String> {
        self.expect('[')?;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.chars.peek().is_some_and(|(_, c)| *c == ']') {
            self.chars.next();
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_whitespace();
            match self.next()? {
                (_, ',') => {}
                (_, ']') => return Ok(Json::Array(items)),
                (at, c) => return Err(format!("expected ',' or ']' at byte {at}, found {c:?}")),
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect('"')?;
        let mut out = String::new();
        loop {
            match self.next()? {
                (_, '"') => return Ok(out),
                (_, '\\') => match self.next()? {
                    (_, '"') => out.push('"'),
                    (_, '\\') => out.push('\\'),
                    (_, '/') => out.push('/'),
                    (_, 'b') => out.push('\u{8}'),
                    (_, 'f') => out.push('\u{c}'),
                    (_, 'n') => out.push('\n'),
                    (_, 'r') => out.push('\r'),
                    (_, 't') => out.push('\t'),
                    (at, 'u') => {
                        let first = self.hex4()?;
                        let code = if (0xD800..0xDC00).contains(&first) {
                            self.expect('\\')?;
                            self.expect('u')?;
                            let second = self.hex4()?;
                            0x10000
                                + ((first - 0xD800) << 10)
                                + (second.wrapping_sub(0xDC00) & 0x3FF)
                        } else {
                            first
                        };
                        out.push(
                            char::from_u32(code)
                                .ok_or_else(|| format!("a bad \\u escape at byte {at}"))?,
                        );
                    }
                    (at, c) => return Err(format!("a bad escape \\{c} at byte {at}")),
                },
                (_, c) => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut code = 0;
        for _ in 0..4 {
            let (at, c) = self.next()?;
            let digit = c
                .to_digit(16)
                .ok_or_else(|| format!("a bad \\u escape at byte {at}"))?;
            code = code * 16 + digit;
        }
        Ok(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_cargo_metadata_prints() {
        let value = parse(
            r#" {"packages": [{"name": "a-b", "rename": null, "optional": true,
                 "features": {}, "n": -1.5e3, "list": []}],
                 "path": "C:\\p\\\"q\"\u00e9\ud83d\ude00\/"} "#,
        )
        .unwrap();
        let package = &value.get("packages").as_array().unwrap()[0];
        assert_eq!(package.get("name").as_str(), Some("a-b"));
        assert!(package.get("rename").is_null());
        assert!(package.get("missing").is_null());
        assert_eq!(package.get("optional").as_bool(), Some(true));
        assert!(package.get("features").as_object().unwrap().is_empty());
        assert_eq!(package.get("n"), &Json::Number("-1.5e3".to_owned()));
        assert_eq!(package.get("list").as_array(), Some(&[][..]));
        assert_eq!(value.get("path").as_str(), Some("C:\\p\\\"q\"é😀/"));
    }

    #[test]
    fn rejects_what_is_not_json() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "nul",
            "\"\\x\"",
            "1 2",
            "{\"a\":1,}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }
}
