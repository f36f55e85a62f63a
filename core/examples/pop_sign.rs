//! Signs ASAPI (POP RPC-style) requests read as JSON lines on stdin and prints one JSON line per
//! request on stdout. It exists so that `tests/crosscheck/pop_signer_crosscheck.py` can compare
//! `rocketmq_ons::auth::pop` with Alibaba's own Python signer.
//!
//! Two kinds of input line:
//!
//! * `{"mode":"params","http_method":"GET","signature_method":"HMAC-SHA1","secret":"s",
//!   "params":{"k":"v",...}}` signs exactly the given parameters with the free functions and
//!   prints `{"string_to_sign":...,"signature":...}`.
//! * `{"mode":"request","http_method":"POST","signature_method":"HMAC-SHA256",
//!   "access_key":"a","secret":"s","security_token":null,"product":"ascm","action":"A",
//!   "version":"2019-05-10","region_id":"r","timestamp":1600159840,"nonce":"n",
//!   "params":{...}}` builds the call with `PopRequest::sign` (common parameters included) and
//!   prints `{"params":[[k,v],...],"string_to_sign":...,"signature":...,"query_string":...}`.
//!
//! Run: `cargo run -q -p rocketmq-ons --example pop_sign < requests.jsonl`

use std::io::{self, BufRead, Write};
use std::time::{Duration, UNIX_EPOCH};

use rocketmq_ons::auth::pop::{self, HttpMethod, PopRequest, SignatureMethod};
use rocketmq_ons::auth::Credentials;
use serde_json::{json, Map, Value};

fn main() {
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = line.expect("stdin is readable UTF-8");
        if line.trim().is_empty() {
            continue;
        }
        let answer = match handle(&line) {
            Ok(v) => v,
            Err(e) => json!({ "error": format!("line {}: {e}", n + 1) }),
        };
        writeln!(out, "{answer}").expect("stdout is writable");
    }
}

fn handle(line: &str) -> Result<Value, String> {
    let input: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let http_method = match str_field(&input, "http_method")? {
        "GET" => HttpMethod::Get,
        "POST" => HttpMethod::Post,
        other => return Err(format!("unknown http_method {other:?}")),
    };
    let signature_method = match str_field(&input, "signature_method")? {
        "HMAC-SHA1" => SignatureMethod::HmacSha1,
        "HMAC-SHA256" => SignatureMethod::HmacSha256,
        other => return Err(format!("unknown signature_method {other:?}")),
    };
    let secret = str_field(&input, "secret")?;
    let params = string_map(input.get("params"))?;

    match str_field(&input, "mode")? {
        "params" => {
            let sts = pop::string_to_sign(http_method, &params);
            let signature = pop::sign_string(signature_method, secret, &sts);
            Ok(json!({ "string_to_sign": sts, "signature": signature }))
        }
        "request" => {
            let mut credentials = Credentials::new(str_field(&input, "access_key")?, secret);
            if let Some(token) = input.get("security_token").and_then(Value::as_str) {
                credentials = credentials.with_security_token(token);
            }
            let mut request = PopRequest::new(
                str_field(&input, "product")?,
                str_field(&input, "action")?,
                str_field(&input, "version")?,
                str_field(&input, "region_id")?,
            )
            .with_method(http_method)
            .with_signature_method(signature_method);
            request.params = params.into_iter().collect();
            let timestamp =
                input.get("timestamp").and_then(Value::as_u64).ok_or("missing integer field \"timestamp\"")?;
            let signed =
                request.sign(&credentials, UNIX_EPOCH + Duration::from_secs(timestamp), str_field(&input, "nonce")?);
            Ok(json!({
                "params": signed.params,
                "string_to_sign": signed.string_to_sign,
                "signature": signed.signature,
                "query_string": signed.query_string(),
            }))
        }
        other => Err(format!("unknown mode {other:?}")),
    }
}

fn str_field<'a>(v: &'a Value, name: &str) -> Result<&'a str, String> {
    v.get(name).and_then(Value::as_str).ok_or_else(|| format!("missing string field {name:?}"))
}

fn string_map(v: Option<&Value>) -> Result<Vec<(String, String)>, String> {
    let empty = Map::new();
    let map = match v {
        None => &empty,
        Some(v) => v.as_object().ok_or("\"params\" must be an object")?,
    };
    map.iter()
        .map(|(k, v)| {
            v.as_str().map(|s| (k.clone(), s.to_owned())).ok_or_else(|| format!("parameter {k:?} must be a string"))
        })
        .collect()
}
