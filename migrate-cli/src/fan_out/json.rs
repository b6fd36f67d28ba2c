//! `--format json`: the summary of a fan-out as one JSON document for deploy tooling,
//! written field by field (the command needs no JSON library for this).

use std::fmt::Write as _;

/// A JSON object written field by field (the command needs no JSON library for this).
pub(crate) struct Json {
    text: String,
    empty: bool,
}

impl Json {
    pub(crate) fn object() -> Self {
        Json {
            text: "{".to_owned(),
            empty: true,
        }
    }

    fn key(&mut self, key: &str) {
        if !self.empty {
            self.text.push(',');
        }
        self.empty = false;
        self.text.push_str(&string(key));
        self.text.push(':');
    }

    pub(crate) fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        self.text.push_str(&string(value));
    }

    pub(crate) fn num(&mut self, key: &str, value: u64) {
        self.key(key);
        let _ = write!(self.text, "{value}");
    }

    pub(crate) fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.text.push_str(if value { "true" } else { "false" });
    }

    /// A value already written as JSON.
    pub(crate) fn raw(&mut self, key: &str, json: &str) {
        self.key(key);
        self.text.push_str(json);
    }

    pub(crate) fn finish(mut self) -> String {
        self.text.push('}');
        self.text
    }
}

/// A JSON array of values already written as JSON.
pub(crate) fn array(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(","))
}

/// A JSON string.
fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(string("a\"b\\c\nd\u{1}é"), "\"a\\\"b\\\\c\\nd\\u0001é\"");
        let mut doc = Json::object();
        doc.str("k", "v");
        doc.num("n", 3);
        doc.bool("b", false);
        doc.raw("a", &array(["1".to_owned(), "2".to_owned()].into_iter()));
        assert_eq!(doc.finish(), r#"{"k":"v","n":3,"b":false,"a":[1,2]}"#);
    }
}
