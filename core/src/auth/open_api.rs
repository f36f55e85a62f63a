//! The RocketMQ Open API `_signature` (the console's HTTP management API; docs/open-api.md §4,
//! from the Apsara Stack developer guide) and its common parameters (§3).
//!
//! Rule: take every request parameter except `_signature` (common and API-specific alike),
//! sort by name, concatenate the values only, HMAC-SHA1 with the secret key, standard padded
//! Base64. Unlike the ASAPI signature there is no percent-encoding, no method and no `&` on the
//! key; the caller URL-encodes the final parameters (the guide warns that `+`, `=` and `/` in the
//! signature must travel as `%2B`, `%3D`, `%2F`).

use std::time::{SystemTime, UNIX_EPOCH};

use super::{hmac_sha1_base64, java_string_cmp, sorted_pairs, Credentials, Param};

/// The signature parameter; never part of the signed string.
pub const SIGNATURE: &str = "_signature";
/// The access key parameter.
pub const ACCESS_KEY: &str = "_accesskey";
/// Current time in milliseconds; the server uses it against CSRF and caching.
pub const PREVENT_CACHE: &str = "__preventCache";
/// The region parameter (omitted only by the region-list API).
pub const REGION_ID: &str = "_regionId";
/// The calling platform, `onsConsole` in every example of the guide (docs/open-api.md §3).
pub const PLATFORM: &str = "_platform";
/// `_regionId` for dedicated (private) deployments, per docs/open-api.md §3.
pub const DEFAULT_REGION_ID: &str = "mq-private";
/// `_platform` used by the guide's examples.
pub const DEFAULT_PLATFORM: &str = "onsConsole";

/// The string that is signed: the values of all parameters except `_signature`, in Java order of
/// their names, concatenated without separators.
pub fn string_to_sign<I>(params: I) -> String
where
    I: IntoIterator,
    I::Item: Param,
{
    let mut out = String::new();
    for param in sorted_pairs(params) {
        if param.name() != SIGNATURE {
            out.push_str(param.value());
        }
    }
    out
}

/// The `_signature` value for `params` (any `_signature` among them is ignored).
pub fn signature<I>(params: I, secret_key: &str) -> String
where
    I: IntoIterator,
    I::Item: Param,
{
    hmac_sha1_base64(secret_key.as_bytes(), string_to_sign(params).as_bytes())
}

/// The common parameters other than the access key, time stamp and signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommonParams {
    /// `_regionId`; `None` leaves it out (the region-list API takes none).
    pub region_id: Option<String>,
    /// `_platform`; `None` leaves it out.
    pub platform: Option<String>,
}

impl Default for CommonParams {
    fn default() -> Self {
        CommonParams { region_id: Some(DEFAULT_REGION_ID.to_owned()), platform: Some(DEFAULT_PLATFORM.to_owned()) }
    }
}

/// Builds the full, signed parameter list of one call: the API's own `params`, the common
/// parameters (`_accesskey`, `__preventCache` = `prevent_cache_ms`, `_regionId`, `_platform`)
/// and `_signature` last. The others are sorted by name.
///
/// A parameter in `params` that has the name of a common parameter (or `_signature`) is
/// dropped: the common value is what gets signed and sent. The security token of STS
/// credentials is not used; the guide defines no parameter for it (docs/open-api.md §3).
pub fn signed_params<I>(
    credentials: &Credentials,
    common: &CommonParams,
    params: I,
    prevent_cache_ms: u64,
) -> Vec<(String, String)>
where
    I: IntoIterator,
    I::Item: Param,
{
    const RESERVED: [&str; 5] = [SIGNATURE, ACCESS_KEY, PREVENT_CACHE, REGION_ID, PLATFORM];
    let mut all: Vec<(String, String)> = params
        .into_iter()
        .map(|p| (p.name().to_owned(), p.value().to_owned()))
        .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
        .collect();
    all.push((ACCESS_KEY.to_owned(), credentials.access_key.clone()));
    all.push((PREVENT_CACHE.to_owned(), prevent_cache_ms.to_string()));
    if let Some(region) = &common.region_id {
        all.push((REGION_ID.to_owned(), region.clone()));
    }
    if let Some(platform) = &common.platform {
        all.push((PLATFORM.to_owned(), platform.clone()));
    }
    all.sort_by(|(a, _), (b, _)| java_string_cmp(a, b));
    let sig = signature(&all, &credentials.secret_key);
    all.push((SIGNATURE.to_owned(), sig));
    all
}

/// [`signed_params`] with `__preventCache` taken from the system clock.
pub fn signed_params_now<I>(credentials: &Credentials, common: &CommonParams, params: I) -> Vec<(String, String)>
where
    I: IntoIterator,
    I::Item: Param,
{
    // A clock before 1970 is a broken host; 0 still yields a well-formed (if rejected) request.
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    signed_params(credentials, common, params, now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The guide's /json/topic/create example (docs/open-api.md §4). Its printed signature is masked
    // ("8DqV%2BrOBzOd0M2SNj3Acuqn****%3D") so it cannot be compared; this value was computed with
    // Python's hmac module and with the guide's own openssl pipeline.
    const TOPIC_CREATE_SIGNATURE: &str = "xC98URUblzkvvF49QPmT5gp8h0w=";

    #[test]
    fn guide_topic_create_example() {
        let params = [
            ("_accesskey", "ACCESSKEY_XXX"),
            ("__preventCache", "1498029701000"),
            ("_platform", "onsConsole"),
            ("_regionId", "mq-private"),
            ("topic", "TOPIC_XXX"),
        ];
        assert_eq!(string_to_sign(params), "1498029701000ACCESSKEY_XXXonsConsolemq-privateTOPIC_XXX");
        assert_eq!(signature(params, "SECRETKEY_XXX"), TOPIC_CREATE_SIGNATURE);
    }

    #[test]
    fn guide_key_value_example() {
        // The guide sorts Key_2, Key_1, Key_3 and writes the result as "Value1Value2Value3",
        // dropping the underscores of its own values; the rule gives this.
        let params = [("Key_2", "Value_2"), ("Key_1", "Value_1"), ("Key_3", "Value_3")];
        assert_eq!(string_to_sign(params), "Value_1Value_2Value_3");
        assert_eq!(signature(params, "SECRETKEY_XXX"), "PVJRmZ1QWHdAz3R0/7DalMNkSGg=");
    }

    #[test]
    fn signature_param_is_not_signed() {
        let with = [("b", "2"), ("_signature", "zzz"), ("a", "1")];
        assert_eq!(string_to_sign(with), "12");
    }

    #[test]
    fn signed_params_reproduce_the_guide_example() {
        let creds = Credentials::new("ACCESSKEY_XXX", "SECRETKEY_XXX");
        let signed = signed_params(
            &creds,
            &CommonParams::default(),
            [("topic", "TOPIC_XXX"), ("_regionId", "ignored")],
            1498029701000,
        );
        let expect: Vec<(String, String)> = [
            ("__preventCache", "1498029701000"),
            ("_accesskey", "ACCESSKEY_XXX"),
            ("_platform", "onsConsole"),
            ("_regionId", "mq-private"),
            ("topic", "TOPIC_XXX"),
            ("_signature", TOPIC_CREATE_SIGNATURE),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(signed, expect);
    }

    #[test]
    fn region_and_platform_can_be_left_out() {
        let creds = Credentials::new("ak", "sk");
        let common = CommonParams { region_id: None, platform: None };
        let signed = signed_params(&creds, &common, Vec::<(String, String)>::new(), 7);
        let names: Vec<&str> = signed.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["__preventCache", "_accesskey", "_signature"]);
        assert_eq!(signed[2].1, signature([("a", "7ak")], "sk"));
    }

    #[test]
    fn now_variant_uses_current_millis() {
        let creds = Credentials::new("ak", "sk");
        let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        let signed = signed_params_now(&creds, &CommonParams::default(), [("topic", "T")]);
        let ts: u64 = signed[0].1.parse().unwrap();
        assert_eq!(signed[0].0, PREVENT_CACHE);
        assert!(ts >= before && ts < before + 60_000);
        let sig = &signed.last().unwrap().1;
        assert_eq!(sig, &signature(&signed[..signed.len() - 1], "sk"));
    }
}
