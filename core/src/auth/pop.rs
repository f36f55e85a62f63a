//! The ASAPI gateway signature: Alibaba's POP RPC-style scheme, `SignatureVersion` 1.0, with
//! HMAC-SHA1 or HMAC-SHA256 (docs/asapi.md §2 and §3, from the Apsara Stack developer guide).
//!
//! 1. Take every parameter except `Signature`: the common ones (`Format`, `Version`,
//!    `AccessKeyId`, `SignatureMethod`, `Timestamp`, `SignatureVersion`, `SignatureNonce`,
//!    `Product`, `Action`, `RegionId`) and the API's own.
//! 2. Sort them by (unencoded) name, percent-encode name and value ([`percent_encode`]), join
//!    as `name=value` with `&`: the canonicalized query string.
//! 3. `StringToSign = METHOD + "&" + "%2F" + "&" + percent_encode(canonicalized)`.
//! 4. `Signature = Base64(HMAC(key = secret + "&", StringToSign))`.
//!
//! Everything is a pure function of its inputs; the clock and the nonce only enter through
//! [`PopRequest::sign_now`], and [`PopRequest::sign`] takes both explicitly.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{hmac_sha1_base64, hmac_sha256_base64, java_string_cmp, sorted_pairs, Credentials, Param};

/// Parameter names of the common request parameters.
pub mod names {
    pub const ACTION: &str = "Action";
    pub const PRODUCT: &str = "Product";
    pub const VERSION: &str = "Version";
    pub const REGION_ID: &str = "RegionId";
    pub const ACCESS_KEY_ID: &str = "AccessKeyId";
    pub const SIGNATURE: &str = "Signature";
    pub const SIGNATURE_METHOD: &str = "SignatureMethod";
    pub const SIGNATURE_VERSION: &str = "SignatureVersion";
    pub const SIGNATURE_NONCE: &str = "SignatureNonce";
    pub const TIMESTAMP: &str = "Timestamp";
    pub const FORMAT: &str = "Format";
    /// Not in the guide; Alibaba's SDKs send it with STS credentials (docs/asapi.md §2).
    pub const SECURITY_TOKEN: &str = "SecurityToken";
}

/// The only `SignatureVersion` whose algorithm the guide documents (docs/asapi.md §2).
pub const SIGNATURE_VERSION: &str = "1.0";
/// The only response format the gateway offers.
pub const FORMAT_JSON: &str = "JSON";

/// HTTP method of the call; it is the first element of the string to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HttpMethod {
    #[default]
    Get,
    Post,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }
}

/// HMAC algorithm; its name is also sent (and signed) as `SignatureMethod`.
///
/// The default is HMAC-SHA1, the method of the guide's worked examples (docs/asapi.md §3.4);
/// the ASAPI Java SDK defaults to HMAC-SHA256 and the gateway accepts both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SignatureMethod {
    #[default]
    HmacSha1,
    HmacSha256,
}

impl SignatureMethod {
    /// The `SignatureMethod` parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureMethod::HmacSha1 => "HMAC-SHA1",
            SignatureMethod::HmacSha256 => "HMAC-SHA256",
        }
    }
}

/// Percent-encodes `s` as docs/asapi.md §3.1 defines: UTF-8 bytes; `A-Z a-z 0-9 - _ . ~` are
/// kept, every other byte becomes `%XY` with upper-case hex. So space is `%20` (not `+`), `*` is
/// `%2A`, `+` is `%2B`, `/` is `%2F`, and `~` stays. This is what the guide's Java recipe produces
/// (`URLEncoder.encode`, then `+`→`%20`, `*`→`%2A`, `%7E`→`~`), and what RFC 3986 calls
/// encoding everything but the unreserved set.
pub fn percent_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0x0f)] as char);
        }
    }
    out
}

/// The canonicalized query string: parameters other than `Signature`, sorted by their
/// unencoded names in Java `String` order (the guide's Java sample sorts the raw keys with
/// `Arrays.sort`; docs/asapi.md §3.2), each as `percent_encode(name)=percent_encode(value)`,
/// joined with `&`.
pub fn canonicalized_query_string<I>(params: I) -> String
where
    I: IntoIterator,
    I::Item: Param,
{
    let mut out = String::new();
    for param in sorted_pairs(params) {
        let name = param.name();
        if name == names::SIGNATURE {
            continue;
        }
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&percent_encode(name));
        out.push('=');
        out.push_str(&percent_encode(param.value()));
    }
    out
}

/// `METHOD&%2F&` + `percent_encode(canonicalized_query_string(params))`.
pub fn string_to_sign<I>(method: HttpMethod, params: I) -> String
where
    I: IntoIterator,
    I::Item: Param,
{
    format!("{}&{}&{}", method.as_str(), percent_encode("/"), percent_encode(&canonicalized_query_string(params)))
}

/// Signs an already built string to sign: Base64(HMAC(secret + "&", string_to_sign)).
pub fn sign_string(signature_method: SignatureMethod, secret: &str, string_to_sign: &str) -> String {
    // The key is the secret plus '&': the slot after it is reserved for a token secret that
    // this scheme never uses.
    let key = format!("{secret}&");
    match signature_method {
        SignatureMethod::HmacSha1 => hmac_sha1_base64(key.as_bytes(), string_to_sign.as_bytes()),
        SignatureMethod::HmacSha256 => hmac_sha256_base64(key.as_bytes(), string_to_sign.as_bytes()),
    }
}

/// The `Signature` of a call with these parameters. `params` must already contain every
/// common parameter, including `SignatureMethod` with the value of `signature_method`.
pub fn signature<I>(method: HttpMethod, signature_method: SignatureMethod, secret: &str, params: I) -> String
where
    I: IntoIterator,
    I::Item: Param,
{
    sign_string(signature_method, secret, &string_to_sign(method, params))
}

/// Formats `t` as the `Timestamp` parameter: UTC, ISO 8601, `yyyy-MM-ddTHH:mm:ssZ`, whole
/// seconds. Times before 1970 are clamped to the epoch.
pub fn format_timestamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Proleptic Gregorian date of the day `days` after 1970-01-01.
///
/// Shifts the calendar to start on 0000-03-01 so the leap day is the last day of a year, then
/// splits into 400-year eras (146 097 days each), years within the era and a March-based month.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    const DAYS_0000_03_01_TO_EPOCH: u64 = 719_468;
    let z = days + DAYS_0000_03_01_TO_EPOCH;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = era * 400 + yoe + u64::from(month <= 2);
    (year, month, day)
}

/// A fresh `SignatureNonce`: a random (version 4) UUID in its usual lower-case form, the shape
/// of the guide's example nonce (docs/asapi.md §3.4).
pub fn new_nonce() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// One ASAPI call before signing: which API, how it is sent, and its own parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PopRequest {
    pub method: HttpMethod,
    pub signature_method: SignatureMethod,
    pub product: String,
    pub action: String,
    pub version: String,
    pub region_id: String,
    /// The API's own parameters. One with the name of a common parameter is ignored.
    pub params: BTreeMap<String, String>,
}

impl PopRequest {
    /// A GET call signed with HMAC-SHA1 and no API parameters yet.
    pub fn new(
        product: impl Into<String>,
        action: impl Into<String>,
        version: impl Into<String>,
        region_id: impl Into<String>,
    ) -> Self {
        PopRequest {
            method: HttpMethod::Get,
            signature_method: SignatureMethod::HmacSha1,
            product: product.into(),
            action: action.into(),
            version: version.into(),
            region_id: region_id.into(),
            params: BTreeMap::new(),
        }
    }

    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.insert(name.into(), value.into());
        self
    }

    pub fn with_method(mut self, method: HttpMethod) -> Self {
        self.method = method;
        self
    }

    pub fn with_signature_method(mut self, signature_method: SignatureMethod) -> Self {
        self.signature_method = signature_method;
        self
    }

    /// Signs with the current time and a random nonce.
    pub fn sign_now(&self, credentials: &Credentials) -> SignedPopRequest {
        self.sign(credentials, SystemTime::now(), &new_nonce())
    }

    /// Signs with the given `Timestamp` and `SignatureNonce`. The gateway rejects a repeated
    /// nonce, so outside tests use [`PopRequest::sign_now`] or pass [`new_nonce`].
    ///
    /// With STS credentials the token is sent (and signed) as `SecurityToken`, as Alibaba's SDKs
    /// do; the guide itself does not mention STS (docs/asapi.md §2).
    pub fn sign(&self, credentials: &Credentials, timestamp: SystemTime, nonce: &str) -> SignedPopRequest {
        use names as n;
        const COMMON: [&str; 12] = [
            n::ACTION,
            n::PRODUCT,
            n::VERSION,
            n::REGION_ID,
            n::ACCESS_KEY_ID,
            n::SIGNATURE,
            n::SIGNATURE_METHOD,
            n::SIGNATURE_VERSION,
            n::SIGNATURE_NONCE,
            n::TIMESTAMP,
            n::FORMAT,
            n::SECURITY_TOKEN,
        ];
        let mut params: Vec<(String, String)> = self
            .params
            .iter()
            .filter(|(k, _)| !COMMON.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut common = |name: &str, value: &str| params.push((name.to_owned(), value.to_owned()));
        common(n::FORMAT, FORMAT_JSON);
        common(n::VERSION, &self.version);
        common(n::ACCESS_KEY_ID, &credentials.access_key);
        common(n::SIGNATURE_METHOD, self.signature_method.as_str());
        common(n::TIMESTAMP, &format_timestamp(timestamp));
        common(n::SIGNATURE_VERSION, SIGNATURE_VERSION);
        common(n::SIGNATURE_NONCE, nonce);
        common(n::PRODUCT, &self.product);
        common(n::ACTION, &self.action);
        common(n::REGION_ID, &self.region_id);
        if let Some(token) = &credentials.security_token {
            common(n::SECURITY_TOKEN, token);
        }
        params.sort_by(|(a, _), (b, _)| java_string_cmp(a, b));

        let string_to_sign = string_to_sign(self.method, &params);
        let signature = sign_string(self.signature_method, &credentials.secret_key, &string_to_sign);
        params.push((n::SIGNATURE.to_owned(), signature.clone()));
        SignedPopRequest { method: self.method, params, string_to_sign, signature }
    }
}

/// A signed ASAPI call: every parameter to send, `Signature` last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPopRequest {
    pub method: HttpMethod,
    /// All parameters sorted by name, then `Signature`.
    pub params: Vec<(String, String)>,
    /// Kept for diagnosing a rejected signature: the gateway's error names the string it
    /// expected.
    pub string_to_sign: String,
    pub signature: String,
}

impl SignedPopRequest {
    /// All parameters, `Signature` included, percent-encoded and joined with `&`: the URL query
    /// of a GET, or the `application/x-www-form-urlencoded` body of a POST.
    pub fn query_string(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.params {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(&percent_encode(name));
            out.push('=');
            out.push_str(&percent_encode(value));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    // docs/asapi.md §3.4, GetOrganizationList with AccessKeyId=testid, AccessKeySecret=testsecret.
    const SEED_CANONICAL: &str = "AccessKeyId=testid&Action=GetOrganizationList&Format=JSON&Id=1&Product=ascm&RegionId=cn-region-test&SignatureMethod=HMAC-SHA1&SignatureNonce=43967c6e-e3ad-44fa-b06b-fcf3db5f39d2&SignatureVersion=1.0&Timestamp=2020-09-15T08%3A50%3A40Z&Version=2019-05-10";
    const SEED_STRING_TO_SIGN: &str = "GET&%2F&AccessKeyId%3Dtestid%26Action%3DGetOrganizationList%26Format%3DJSON%26Id%3D1%26Product%3Dascm%26RegionId%3Dcn-region-test%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D43967c6e-e3ad-44fa-b06b-fcf3db5f39d2%26SignatureVersion%3D1.0%26Timestamp%3D2020-09-15T08%253A50%253A40Z%26Version%3D2019-05-10";
    // The guide prints two different signatures for this string ("OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    // and "hvqv9Ll5RE6kQ4YsQXFaf9VuRIY="); neither is its HMAC. These were computed with Python's
    // hmac module and `openssl dgst -hmac 'testsecret&'`.
    const SEED_SHA1: &str = "SESmLeA1gWPMIq+zlI/WQY95/60=";
    const SEED_SHA256: &str = "kw0y2roVRcg6huyNe0/u3pMHBc+JLs0zBIukERe2qxA=";
    const SEED_NONCE: &str = "43967c6e-e3ad-44fa-b06b-fcf3db5f39d2";
    const SEED_TIME: u64 = 1_600_159_840; // 2020-09-15T08:50:40Z

    fn seed_request() -> PopRequest {
        PopRequest::new("ascm", "GetOrganizationList", "2019-05-10", "cn-region-test").param("Id", "1")
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn guide_get_organization_list() {
        let creds = Credentials::new("testid", "testsecret");
        let signed = seed_request().sign(&creds, at(SEED_TIME), SEED_NONCE);
        assert_eq!(canonicalized_query_string(&signed.params), SEED_CANONICAL);
        assert_eq!(signed.string_to_sign, SEED_STRING_TO_SIGN);
        assert_eq!(signed.signature, SEED_SHA1);
        assert_eq!(signed.query_string(), format!("{SEED_CANONICAL}&Signature=SESmLeA1gWPMIq%2BzlI%2FWQY95%2F60%3D"));
    }

    #[test]
    fn guide_example_with_sha256() {
        let creds = Credentials::new("testid", "testsecret");
        let signed =
            seed_request().with_signature_method(SignatureMethod::HmacSha256).sign(&creds, at(SEED_TIME), SEED_NONCE);
        assert_eq!(signed.string_to_sign, SEED_STRING_TO_SIGN.replace("HMAC-SHA1", "HMAC-SHA256"));
        assert_eq!(signed.signature, SEED_SHA256);
    }

    #[test]
    fn guide_java_sample_parameters() {
        // The parameter map of the guide's Java sample (docs/asapi.md §3.2), signed by the free
        // functions.
        let params = [
            ("Product", "ascm"),
            ("Action", "GetOrganizationList"),
            ("Version", "2019-05-10"),
            ("AccessKeyId", "testid"),
            ("RegionId", "cn-region-test"),
            ("Timestamp", "2020-09-15T08:50:40Z"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", SEED_NONCE),
            ("Format", "JSON"),
            ("Id", "1"),
        ];
        assert_eq!(canonicalized_query_string(params), SEED_CANONICAL);
        assert_eq!(string_to_sign(HttpMethod::Get, params), SEED_STRING_TO_SIGN);
        assert_eq!(signature(HttpMethod::Get, SignatureMethod::HmacSha1, "testsecret", params), SEED_SHA1);
        // A Signature parameter is never part of what is signed.
        let mut with_sig = params.to_vec();
        with_sig.push(("Signature", "x"));
        assert_eq!(string_to_sign(HttpMethod::Get, with_sig), SEED_STRING_TO_SIGN);
    }

    #[test]
    fn post_changes_only_the_method() {
        let creds = Credentials::new("testid", "testsecret");
        let signed = seed_request().with_method(HttpMethod::Post).sign(&creds, at(SEED_TIME), SEED_NONCE);
        assert_eq!(signed.string_to_sign, SEED_STRING_TO_SIGN.replacen("GET&", "POST&", 1));
        assert_eq!(signed.method, HttpMethod::Post);
    }

    #[test]
    fn percent_encoding_rules() {
        assert_eq!(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(percent_encode(" "), "%20");
        assert_eq!(percent_encode("*"), "%2A");
        assert_eq!(percent_encode("+"), "%2B");
        assert_eq!(percent_encode("/"), "%2F");
        assert_eq!(percent_encode("\""), "%22"); // the guide's own example (docs/asapi.md §3.1)
        assert_eq!(percent_encode("%7E"), "%257E");
        assert_eq!(percent_encode("="), "%3D");
        assert_eq!(percent_encode("&"), "%26");
        assert_eq!(percent_encode(":"), "%3A");
        assert_eq!(percent_encode("'!()"), "%27%21%28%29");
        assert_eq!(percent_encode("中"), "%E4%B8%AD");
        assert_eq!(percent_encode("\u{1F600}"), "%F0%9F%98%80");
        assert_eq!(percent_encode(""), "");
    }

    #[test]
    fn names_sort_unencoded_in_java_order() {
        // Encoded, "a%7B" would sort before "aA"; the guide sorts the raw names
        // (docs/asapi.md §3.2).
        let params = [("a{", "1"), ("aA", "2"), ("B", "3")];
        assert_eq!(canonicalized_query_string(params), "B=3&aA=2&a%7B=1");
        // Empty values are kept as "name=".
        assert_eq!(canonicalized_query_string([("k", ""), ("j", " ")]), "j=%20&k=");
    }

    #[test]
    fn common_params_win_and_token_is_sent() {
        let creds = Credentials::new("testid", "testsecret").with_security_token("sts+tok");
        let signed =
            seed_request().param("Format", "XML").param("Signature", "forged").sign(&creds, at(SEED_TIME), SEED_NONCE);
        let get = |name: &str| -> Vec<&str> {
            signed.params.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
        };
        assert_eq!(get("Format"), ["JSON"]);
        assert_eq!(get("SecurityToken"), ["sts+tok"]);
        assert_eq!(get("Signature"), [signed.signature.as_str()]);
        assert!(signed.string_to_sign.contains("%26SecurityToken%3Dsts%252Btok%26"));
    }

    #[test]
    fn timestamps() {
        assert_eq!(format_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(format_timestamp(at(SEED_TIME)), "2020-09-15T08:50:40Z");
        assert_eq!(format_timestamp(at(951_868_799)), "2000-02-29T23:59:59Z");
        assert_eq!(format_timestamp(at(4_102_444_799)), "2099-12-31T23:59:59Z");
        assert_eq!(format_timestamp(at(SEED_TIME) + Duration::from_millis(999)), "2020-09-15T08:50:40Z");
        assert_eq!(format_timestamp(UNIX_EPOCH - Duration::from_secs(1)), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn calendar_matches_day_by_day_count() {
        // Walk every day from 1970 to 2500 with the plain leap-year rule.
        let mut days = 0u64;
        for year in 1970u64..2500 {
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
            let lengths = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
            for (m, len) in lengths.iter().enumerate() {
                for d in 1..=*len {
                    assert_eq!(civil_from_days(days), (year, m as u64 + 1, d));
                    days += 1;
                }
            }
        }
    }

    #[test]
    fn nonce_is_a_fresh_v4_uuid() {
        let a = new_nonce();
        let b = new_nonce();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
        assert!(parts[2].starts_with('4'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert!(a.bytes().all(|c| c == b'-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }

    #[test]
    fn sign_now_is_self_consistent() {
        let creds = Credentials::new("ak", "sk");
        let signed = seed_request().sign_now(&creds);
        let unsigned = &signed.params[..signed.params.len() - 1];
        assert_eq!(signature(HttpMethod::Get, SignatureMethod::HmacSha1, "sk", unsigned), signed.signature);
    }

    #[test]
    fn method_names() {
        assert_eq!(SignatureMethod::HmacSha1.as_str(), "HMAC-SHA1");
        assert_eq!(SignatureMethod::HmacSha256.as_str(), "HMAC-SHA256");
        assert_eq!(HttpMethod::Get.as_str(), "GET");
        assert_eq!(HttpMethod::Post.as_str(), "POST");
    }
}
