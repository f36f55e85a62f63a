//! A lenient JSON parser for what RocketMQ servers emit through fastjson
//! (docs/remoting-protocol.md §4.3): standard JSON plus unquoted object keys (`{0:"addr"}`) and
//! objects or arrays used as keys (`{{"brokerName":"b","queueId":0,"topic":"T"}:12}`, every
//! `Map<MessageQueue, …>`).
//!
//! The result is a [`serde_json::Value`]; a key that was itself an object or array becomes its
//! canonical compact JSON text (keys sorted, no spaces), so a `MessageQueue` key reads
//! `{"brokerName":"b","queueId":0,"topic":"T"}` whatever the input spacing or key order, and can
//! be parsed back with `serde_json`. Bare keys are kept as written (`0` → `"0"`).
//!
//! Also tolerated, because fastjson's own parser accepts them: single-quoted strings, `\'` and
//! `\xHH` escapes, lone surrogate escapes (→ U+FFFD), raw control characters inside strings,
//! a trailing comma before `}` or `]`, and a leading UTF-8 BOM. Nesting deeper than
//! [`MAX_DEPTH`] is an error, so hostile input cannot exhaust the stack.

use serde_json::{Map, Number, Value};

use crate::error::{Error, Result};

/// Maximum nesting of arrays and objects (keys included).
pub const MAX_DEPTH: usize = 128;

/// Parses a (possibly non-standard) JSON document.
pub fn parse(input: &[u8]) -> Result<Value> {
    let text = std::str::from_utf8(input).map_err(|e| Error::protocol(format!("JSON body is not UTF-8: {e}")))?;
    parse_str(text)
}

/// Parses a (possibly non-standard) JSON document from text.
pub fn parse_str(input: &str) -> Result<Value> {
    let input = input.strip_prefix('\u{FEFF}').unwrap_or(input);
    let mut p = Parser { s: input, b: input.as_bytes(), pos: 0 };
    let value = p.value(0)?;
    p.skip_ws();
    if p.pos != p.b.len() {
        return Err(p.err("unexpected data after the JSON value"));
    }
    Ok(value)
}

/// Compact JSON text with object keys sorted: the form object keys are converted to.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                // Serializing a string to JSON cannot fail.
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, what: &str) -> Error {
        Error::protocol(format!("malformed JSON at byte {}: {what}", self.pos))
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(&format!("expected '{}'", char::from(c))))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value> {
        self.skip_ws();
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(q @ (b'"' | b'\'')) => self.string(q).map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => {
                let word = self.bare_token();
                match word {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "null" => Ok(Value::Null),
                    _ => Err(self.err("unexpected character")),
                }
            }
        }
    }

    /// A run of characters that may form a bare key, literal or number.
    fn bare_token(&mut self) -> &'a str {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$' | b'-' | b'+' | b'.'))
        {
            self.pos += 1;
        }
        // The token is ASCII, so both ends are character boundaries.
        &self.s[start..self.pos]
    }

    fn number(&mut self) -> Result<Value> {
        let start = self.pos;
        let text = self.bare_token();
        let number = if let Ok(i) = text.parse::<i64>() {
            Some(Number::from(i))
        } else if let Ok(u) = text.parse::<u64>() {
            Some(Number::from(u))
        } else if text.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E')) {
            text.parse::<f64>().ok().and_then(Number::from_f64)
        } else {
            None
        };
        match number {
            Some(n) => Ok(Value::Number(n)),
            None => {
                self.pos = start;
                Err(self.err(&format!("invalid number {text:?}")))
            }
        }
    }

    fn check_depth(&self, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            Err(self.err(&format!("nesting deeper than {MAX_DEPTH}")))
        } else {
            Ok(())
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value> {
        self.check_depth(depth)?;
        self.pos += 1; // '{'
        let mut map = Map::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(map));
                }
                None => return Err(self.err("unterminated object")),
                _ => {}
            }
            let key = self.key(depth)?;
            self.expect(b':')?;
            let value = self.value(depth)?;
            map.insert(key, value);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                _ => return Err(self.err("expected ',' or '}' in object")),
            }
        }
    }

    fn key(&mut self, depth: usize) -> Result<String> {
        match self.peek() {
            Some(q @ (b'"' | b'\'')) => self.string(q),
            // fastjson writes map keys that are objects as objects: use their canonical text.
            Some(b'{' | b'[') => Ok(canonical_json(&self.value(depth)?)),
            _ => {
                let word = self.bare_token();
                if word.is_empty() {
                    Err(self.err("expected an object key"))
                } else {
                    Ok(word.to_owned())
                }
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value> {
        self.check_depth(depth)?;
        self.pos += 1; // '['
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                None => return Err(self.err("unterminated array")),
                _ => {}
            }
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {}
                _ => return Err(self.err("expected ',' or ']' in array")),
            }
        }
    }

    fn hex(&mut self, digits: usize) -> Result<u32> {
        let text = self.b.get(self.pos..self.pos + digits).ok_or_else(|| self.err("truncated escape"))?;
        let mut v = 0u32;
        for &c in text {
            let d = char::from(c).to_digit(16).ok_or_else(|| self.err("invalid hex digit in escape"))?;
            v = v << 4 | d;
        }
        self.pos += digits;
        Ok(v)
    }

    fn string(&mut self, quote: u8) -> Result<String> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.pos;
            while matches!(self.peek(), Some(c) if c != quote && c != b'\\') {
                self.pos += 1;
            }
            // Stopped at an ASCII byte or the end, so the slice is on character boundaries.
            out.push_str(&self.s[start..self.pos]);
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(_) => {
                    self.pos += 1; // backslash
                    let esc = self.peek().ok_or_else(|| self.err("unterminated escape"))?;
                    self.pos += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\'' => out.push('\''),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'x' => {
                            let v = self.hex(2)?;
                            out.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
                        }
                        b'u' => {
                            let unit = self.hex(4)?;
                            out.push(self.utf16_escape(unit)?);
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.err("invalid escape"));
                        }
                    }
                }
            }
        }
    }

    /// The character for a `\uXXXX` escape, joining a high surrogate with a following
    /// `\uXXXX` low surrogate; an unpaired surrogate becomes U+FFFD.
    fn utf16_escape(&mut self, unit: u32) -> Result<char> {
        if (0xD800..0xDC00).contains(&unit) && self.b.get(self.pos..self.pos + 2) == Some(b"\\u") {
            let save = self.pos;
            self.pos += 2;
            let low = self.hex(4)?;
            if (0xDC00..0xE000).contains(&low) {
                let c = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
            }
            // Not a low surrogate: leave it to be read as its own escape.
            self.pos = save;
        }
        Ok(char::from_u32(unit).unwrap_or('\u{FFFD}'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn standard_json_is_unchanged() {
        let text = r#"{"a":[1,-2,3.5,1e3,true,false,null,"x\"y\u00e9\n"],"b":{},"c":[],"d":18446744073709551615}"#;
        assert_eq!(parse_str(text).unwrap(), serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn bare_numeric_keys() {
        let v = parse_str(r#"{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"}}"#).unwrap();
        assert_eq!(v, json!({"brokerAddrs": {"0": "127.0.0.1:10911", "1": "127.0.0.1:10921"}}));
        assert_eq!(parse_str("{-1:true}").unwrap(), json!({"-1": true}));
    }

    #[test]
    fn object_keys_become_canonical_text() {
        let v = parse_str(r#"{"offsetTable":{{"topic":"T","queueId":0,"brokerName":"b"}:12, { "brokerName" : "b","queueId":1,"topic":"T"} : 13}}"#)
            .unwrap();
        let table = v["offsetTable"].as_object().unwrap();
        assert_eq!(table[r#"{"brokerName":"b","queueId":0,"topic":"T"}"#], json!(12));
        assert_eq!(table[r#"{"brokerName":"b","queueId":1,"topic":"T"}"#], json!(13));
        // Nested object values as keys, and arrays as keys.
        let v = parse_str(r#"{{"a":{"z":1,"y":[2,{"q":"é"}]}}:[1],[1,"2"]:0}"#).unwrap();
        let o = v.as_object().unwrap();
        assert!(o.contains_key(r#"{"a":{"y":[2,{"q":"é"}],"z":1}}"#), "{o:?}");
        assert!(o.contains_key(r#"[1,"2"]"#));
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(parse_str(r#""\ud83d\ude00""#).unwrap(), json!("😀"));
        assert_eq!(parse_str(r#""\ud83dx""#).unwrap(), json!("\u{FFFD}x"));
        assert_eq!(parse_str(r#""\ude00\ud83d""#).unwrap(), json!("\u{FFFD}\u{FFFD}"));
        assert_eq!(parse_str(r#""\ud83d\u0041""#).unwrap(), json!("\u{FFFD}A"));
        assert_eq!(parse_str(r#"'it\'s \x41'"#).unwrap(), json!("it's A"));
        assert_eq!(parse_str("\"raw\u{1}ctl 中文\"").unwrap(), json!("raw\u{1}ctl 中文"));
        assert!(parse_str(r#""\q""#).is_err());
        assert!(parse_str(r#""\u12""#).is_err());
        assert!(parse_str(r#""abc"#).is_err());
        assert!(parse(b"\"\xff\"").is_err());
    }

    #[test]
    fn leniency_and_errors() {
        assert_eq!(parse_str("\u{FEFF} {\"a\":[1,2,],} ").unwrap(), json!({"a": [1, 2]}));
        for bad in
            ["", "{", "[1,", "{\"a\"}", "{\"a\":}", "{,}", "tru", "1 2", "{:1}", "-", "1.2.3", "nul", "[01x]", "NaN"]
        {
            assert!(parse_str(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn depth_is_limited() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse_str(&ok).is_ok());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse_str(&deep).is_err());
        let deep_keys = "{".repeat(100_000);
        assert!(parse_str(&deep_keys).is_err());
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            any::<u64>().prop_map(|u| json!(u)),
            (-1e300f64..1e300).prop_map(|f| json!(f)),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map(".{0,8}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn standard_json_round_trips(v in arb_json()) {
            prop_assert_eq!(parse_str(&v.to_string()).unwrap(), v.clone());
            prop_assert_eq!(parse_str(&serde_json::to_string_pretty(&v).unwrap()).unwrap(), v.clone());
            prop_assert_eq!(parse_str(&canonical_json(&v)).unwrap(), v);
        }

        #[test]
        fn object_keys_round_trip(k in arb_json(), v in arb_json()) {
            // `{<key as JSON>:v}` parses to a key whose text parses back to the key.
            let text = format!("{{{}:{}}}", k, v);
            let parsed = parse_str(&text).unwrap();
            let (key, value) = parsed.as_object().unwrap().iter().next().unwrap();
            prop_assert_eq!(value, &v);
            match &k {
                Value::String(s) => prop_assert_eq!(key, s),
                Value::Object(_) | Value::Array(_) => {
                    prop_assert_eq!(key, &canonical_json(&k));
                    // (serde_json's default float parsing is not correctly rounded, so read the
                    // key back with this parser.)
                    prop_assert_eq!(parse_str(key).unwrap(), k.clone());
                }
                // Bare scalars are kept as written.
                other => prop_assert_eq!(key, &other.to_string()),
            }
        }

        #[test]
        fn never_panics_on_bytes(buf in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&buf);
        }

        #[test]
        fn never_panics_on_json_like_text(s in r#"[\[\]{}:,"'\\ux0-9a-fA-F.eE+\- tnrul]{0,200}"#) {
            let _ = parse_str(&s);
        }
    }
}
