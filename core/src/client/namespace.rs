//! Namespaces (ONS instance ids): `NS%name` on the wire, plain names for users. Wrapping is
//! idempotent and leaves system resources alone; retry and DLQ names keep their prefix outside.

use std::borrow::Cow;

const RETRY_PREFIX: &str = "%RETRY%";
const DLQ_PREFIX: &str = "%DLQ%";
const SEPARATOR: char = '%';

fn is_system(name: &str) -> bool {
    matches!(
        name,
        "TBW102"
            | "SCHEDULE_TOPIC_XXXX"
            | "DEFAULT_PRODUCER"
            | "DEFAULT_CONSUMER"
            | "TOOLS_CONSUMER"
            | "CLIENT_INNER_PRODUCER"
    ) || name.starts_with("RMQ_SYS_")
        || name.starts_with("rmq_sys_")
        || name.starts_with("CID_RMQ_SYS_")
}

/// Splits a `%RETRY%`/`%DLQ%` prefix (or none) from the rest of the name.
fn split_prefix(name: &str) -> (&'static str, &str) {
    if let Some(rest) = name.strip_prefix(RETRY_PREFIX) {
        (RETRY_PREFIX, rest)
    } else if let Some(rest) = name.strip_prefix(DLQ_PREFIX) {
        (DLQ_PREFIX, rest)
    } else {
        ("", name)
    }
}

/// `name` as sent on the wire under `namespace`.
pub fn wrap(namespace: Option<&str>, name: &str) -> String {
    wrap_borrowed(namespace, name).into_owned()
}

/// [`wrap`], borrowing `name` when it stays as it is (a consumer looks every message's listener
/// up by its wrapped topic, and without a namespace that is the topic itself).
pub fn wrap_borrowed<'a>(namespace: Option<&str>, name: &'a str) -> Cow<'a, str> {
    let Some(ns) = namespace.filter(|n| !n.is_empty()) else { return Cow::Borrowed(name) };
    let (prefix, bare) = split_prefix(name);
    if is_system(bare) || bare.strip_prefix(ns).is_some_and(|rest| rest.starts_with(SEPARATOR)) {
        return Cow::Borrowed(name);
    }
    Cow::Owned(format!("{prefix}{ns}{SEPARATOR}{bare}"))
}

/// `name` as shown to users: the namespace removed, a retry/DLQ prefix kept.
pub fn unwrap(namespace: Option<&str>, name: &str) -> String {
    unwrap_borrowed(namespace, name).unwrap_or_else(|| name.to_owned())
}

/// [`unwrap`] of a name the caller owns: the same string back when there is no namespace to
/// take off (a consumer unwraps every message's topic).
pub fn unwrap_owned(namespace: Option<&str>, name: String) -> String {
    unwrap_borrowed(namespace, &name).unwrap_or(name)
}

/// The unwrapped name when it differs from `name`.
fn unwrap_borrowed(namespace: Option<&str>, name: &str) -> Option<String> {
    let ns = namespace.filter(|n| !n.is_empty())?;
    let (prefix, bare) = split_prefix(name);
    bare.strip_prefix(ns).and_then(|r| r.strip_prefix(SEPARATOR)).map(|plain| format!("{prefix}{plain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_unwraps() {
        let ns = Some("MQ_INST_1_x");
        assert_eq!(wrap(ns, "T"), "MQ_INST_1_x%T");
        assert_eq!(wrap(ns, "MQ_INST_1_x%T"), "MQ_INST_1_x%T");
        assert_eq!(wrap(ns, "%RETRY%G"), "%RETRY%MQ_INST_1_x%G");
        assert_eq!(wrap(ns, "%DLQ%G"), "%DLQ%MQ_INST_1_x%G");
        assert_eq!(wrap(ns, "TBW102"), "TBW102");
        assert_eq!(wrap(None, "T"), "T");
        for name in ["T", "MQ_INST_1_x%T", "%RETRY%G", "%DLQ%MQ_INST_1_x%G", "TBW102", "MQ_INST_1_xT"] {
            for namespace in [ns, None, Some("")] {
                let borrowed = wrap_borrowed(namespace, name);
                assert_eq!(matches!(borrowed, Cow::Borrowed(_)), borrowed == name, "{namespace:?} {name}");
            }
        }
        assert_eq!(wrap(ns, "MQ_INST_1_xT"), "MQ_INST_1_x%MQ_INST_1_xT");
        assert_eq!(unwrap(ns, "MQ_INST_1_x%T"), "T");
        assert_eq!(unwrap(ns, "%RETRY%MQ_INST_1_x%G"), "%RETRY%G");
        assert_eq!(unwrap(ns, "other%T"), "other%T");
        for name in ["MQ_INST_1_x%T", "%RETRY%MQ_INST_1_x%G", "other%T", "T"] {
            for namespace in [ns, None, Some("")] {
                assert_eq!(unwrap_owned(namespace, name.to_owned()), unwrap(namespace, name), "{namespace:?} {name}");
            }
        }
        assert_eq!(unwrap(None, "MQ_INST_1_x%T"), "MQ_INST_1_x%T");
    }
}
