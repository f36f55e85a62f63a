//! Reaching the cluster: the client properties every command shares (name server, group,
//! header format, ACL credentials), the check of a topic's route before consuming, and the
//! translation of connection failures into words a user can act on.

use std::path::Path;

use rocketmq_ons::admin::Admin;
use rocketmq_ons::config::{keys, Properties};
use rocketmq_ons::{Error, ErrorKind};

use crate::args::ClusterArgs;
use crate::Failure;

/// The remoting code a server answers a request it does not know with (Java
/// `ResponseCode.REQUEST_CODE_NOT_SUPPORTED`); a broker answers a route lookup with it.
const REQUEST_CODE_NOT_SUPPORTED: i32 = 3;

/// Properties of a client of `group` on the cluster `cluster` describes.
pub fn client_properties(cluster: &ClusterArgs, group: &str) -> Result<Properties, Failure> {
    let mut props = Properties::new()
        .with(keys::NAMESRV_ADDR, cluster.namesrv.as_str())
        .with(keys::GROUP_ID, group)
        .with(keys::HEADER_FORMAT, cluster.header_format.property_value());
    if let Some((access_key, secret_key)) = credentials(cluster, |name| std::env::var(name).ok())? {
        props.set(keys::ACCESS_KEY, access_key).set(keys::SECRET_KEY, secret_key);
    }
    Ok(props)
}

/// The ACL credentials, if any: the access key from `--access-key` or `ONS_ACCESS_KEY`, the
/// secret from `--secret-key-file` (first line), `--secret-key` or `ONS_SECRET_KEY`. Options
/// win over the environment; one without the other is a usage error. `env` reads the
/// environment (a parameter for the tests).
fn credentials(
    cluster: &ClusterArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<(String, String)>, Failure> {
    let non_empty = |v: Option<String>| v.filter(|v| !v.is_empty());
    let access_key = non_empty(cluster.access_key.clone()).or_else(|| non_empty(env("ONS_ACCESS_KEY")));
    let secret_key = match (&cluster.secret_key, &cluster.secret_key_file) {
        (Some(secret), _) => Some(secret.clone()),
        (None, Some(path)) => Some(read_secret_file(path)?),
        (None, None) => non_empty(env("ONS_SECRET_KEY")),
    };
    match (access_key, secret_key) {
        (Some(access_key), Some(secret_key)) => Ok(Some((access_key, secret_key))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(Failure::Usage(
            "--access-key needs a secret key: --secret-key-file FILE, ONS_SECRET_KEY in the environment, or \
             --secret-key"
                .into(),
        )),
        (None, Some(_)) => {
            Err(Failure::Usage("a secret key needs an access key: --access-key or ONS_ACCESS_KEY".into()))
        }
    }
}

/// The first line of `path` without its line end. The file's content never appears in errors.
fn read_secret_file(path: &Path) -> Result<String, Failure> {
    let shown = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|e| Failure::Runtime(format!("--secret-key-file {shown}: {e}")))?;
    match text.lines().next() {
        Some(secret) if !secret.is_empty() => Ok(secret.to_owned()),
        _ => Err(Failure::Runtime(format!("--secret-key-file {shown}: the first line is empty"))),
    }
}

/// Where a topic's route check left things.
pub enum RouteCheck {
    /// The name server routes the topic to `queues` readable queues, which hold `stored`
    /// messages in all, or the brokers' error when they could not be asked.
    Routed { queues: i64, stored: Result<i64, String> },
    /// The name server knows no such topic (yet).
    Missing,
}

/// Java `PermName.PERM_READ`: the queues of a broker may be consumed.
const PERM_READ: i32 = 0x4;

/// Asks the name server for `topic`'s route (and its brokers for the queues' sizes), so that a
/// consumer that would wait in silence can say why first. A name server that cannot be reached
/// or is not a name server is a failure.
pub async fn check_route(props: &Properties, topic: &str, namesrv: &str) -> Result<RouteCheck, Failure> {
    let admin = Admin::new(props).map_err(|e| Failure::Runtime(e.to_string()))?;
    let route = match admin.topic_route(topic).await {
        Ok(route) => route,
        Err(e) if e.kind() == ErrorKind::TopicNotFound => return Ok(RouteCheck::Missing),
        // Only the name server was asked: whatever went wrong, went wrong there.
        Err(e) => return Err(Failure::Runtime(explain(&e, namesrv))),
    };
    let queues = route.queues.iter().filter(|q| q.perm & PERM_READ != 0).map(|q| i64::from(q.read_queue_nums)).sum();
    let stored = match admin.max_offsets(topic).await {
        Ok(offsets) => Ok(offsets.iter().map(|(_, _, offset)| offset).sum()),
        Err(e) => Err(explain(&e, namesrv)),
    };
    Ok(RouteCheck::Routed { queues, stored })
}

/// Whether `e` is a route lookup answered "request type 105 not supported": a broker's answer.
/// A producer's send error carries the lookup's error in its message only, without the code.
fn answered_route_lookup_as_broker(e: &Error) -> bool {
    let code_in_message = format!("route lookup: broker answered code {REQUEST_CODE_NOT_SUPPORTED}:");
    (e.response_code() == Some(REQUEST_CODE_NOT_SUPPORTED) && e.message().contains("route lookup"))
        || e.message().contains(&code_in_message)
}

/// `e` in words, with what to do about it when the cause is a wrong name server address.
/// The core tells a name server's failures only in its messages ("no name server of [...]
/// answered", "route lookup: ...", core/src/client/instance.rs); if that wording changes, the
/// error is shown as it is, and the tests/tests/cli.rs cluster tests fail.
pub fn explain(e: &Error, namesrv: &str) -> String {
    if answered_route_lookup_as_broker(e) {
        return format!(
            "{e}\n  {namesrv} does not look like a name server (a broker answers route lookups this way). Give the \
             name server's address with --namesrv or NAMESRV_ADDR: name servers listen on port 9876 by default"
        );
    }
    if matches!(e.kind(), ErrorKind::Network | ErrorKind::Timeout) && e.message().contains("no name server") {
        return format!(
            "cannot reach the name server at {namesrv}: {e}\n  Is a name server running there? Check --namesrv or \
             NAMESRV_ADDR (name servers listen on port 9876 by default)"
        );
    }
    if e.kind() == ErrorKind::Authentication {
        return format!(
            "{e}\n  Check the credentials: --access-key and --secret-key-file (or ONS_ACCESS_KEY, ONS_SECRET_KEY)"
        );
    }
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::HeaderFormat;

    fn cluster(access_key: Option<&str>, secret_key: Option<&str>, secret_key_file: Option<&str>) -> ClusterArgs {
        ClusterArgs {
            namesrv: "127.0.0.1:9876".into(),
            access_key: access_key.map(Into::into),
            secret_key: secret_key.map(Into::into),
            secret_key_file: secret_key_file.map(Into::into),
            header_format: HeaderFormat::Json,
        }
    }

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    fn secret_file(name: &str, content: &str) -> String {
        let path = std::env::temp_dir().join(format!("ons-cli-test-{}-{name}", std::process::id()));
        std::fs::write(&path, content).unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn pair(ak: &str, sk: &str) -> Option<(String, String)> {
        Some((ak.to_owned(), sk.to_owned()))
    }

    fn error_text(result: Result<Option<(String, String)>, Failure>) -> String {
        match result {
            Err(Failure::Usage(e) | Failure::Runtime(e)) => e,
            other => panic!("not an error: {other:?}"),
        }
    }

    #[test]
    fn credentials_from_options_file_and_environment() {
        let none = env_of(&[]);
        assert_eq!(credentials(&cluster(None, None, None), &none).unwrap(), None);
        assert_eq!(credentials(&cluster(Some("AK"), Some("SK"), None), &none).unwrap(), pair("AK", "SK"));
        // The environment, with ONS names; options win over it.
        let env = env_of(&[("ONS_ACCESS_KEY", "envAK"), ("ONS_SECRET_KEY", "envSK")]);
        assert_eq!(credentials(&cluster(None, None, None), &env).unwrap(), pair("envAK", "envSK"));
        assert_eq!(credentials(&cluster(Some("AK"), None, None), &env).unwrap(), pair("AK", "envSK"));
        assert_eq!(credentials(&cluster(None, Some("SK"), None), &env).unwrap(), pair("envAK", "SK"));
        // A file: its first line, without the line end (CRLF too).
        for (name, content) in [("lf", "fileSK\n"), ("crlf", "fileSK\r\nignored\n"), ("bare", "fileSK")] {
            let path = secret_file(name, content);
            let got = credentials(&cluster(Some("AK"), None, Some(&path)), &env);
            std::fs::remove_file(&path).unwrap();
            assert_eq!(got.unwrap(), pair("AK", "fileSK"), "{name}");
        }
    }

    #[test]
    fn incomplete_credentials_are_errors_without_the_secret() {
        let none = env_of(&[]);
        let e = error_text(credentials(&cluster(Some("AK"), None, None), &none));
        assert!(e.contains("--secret-key-file") && e.contains("ONS_SECRET_KEY"), "{e}");
        let e = error_text(credentials(&cluster(None, None, None), env_of(&[("ONS_SECRET_KEY", "hidden")])));
        assert!(e.contains("ONS_ACCESS_KEY") && !e.contains("hidden"), "{e}");
        let e = error_text(credentials(&cluster(Some("AK"), None, Some("/nonexistent/sk")), &none));
        assert!(e.starts_with("--secret-key-file /nonexistent/sk: "), "{e}");
        let path = secret_file("empty", "\nhidden\n");
        let e = error_text(credentials(&cluster(Some("AK"), None, Some(&path)), &none));
        std::fs::remove_file(&path).unwrap();
        assert!(e.ends_with("the first line is empty") && !e.contains("hidden"), "{e}");
    }

    #[test]
    fn wrong_name_server_addresses_are_explained() {
        let broker = Error::from_response(3, Some(" request type 105 not supported"), "route lookup");
        let text = explain(&broker, "127.0.0.1:10911");
        assert!(text.contains("does not look like a name server") && text.contains("9876"), "{text}");
        let send = Error::new(ErrorKind::Broker, format!("send to topic T failed after retries: {}", broker.message()));
        assert!(explain(&send, "127.0.0.1:10911").contains("does not look like a name server"));
        let unreachable = Error::new(ErrorKind::Network, "no name server of [127.0.0.1:1] answered: refused");
        let text = explain(&unreachable, "127.0.0.1:1");
        assert!(text.starts_with("cannot reach the name server at 127.0.0.1:1"), "{text}");
        let broker_down = Error::new(ErrorKind::Network, "connect to 127.0.0.1:10911: refused");
        assert_eq!(explain(&broker_down, "n:1"), broker_down.to_string());
    }
}
