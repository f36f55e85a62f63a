//! The administrative commands: `cluster`, `topic`, `group`, `consumer`, `offset` and `message`,
//! each subcommand one `rocketmq_ons::admin::Admin` operation (docs/admin.md) with its result
//! printed as a table or, with `--json`, one JSON document (`crate::table`).
//!
//! * `args`: their command line;
//! * `topics`: the cluster listing and the topic commands;
//! * `groups`: the group, consumer and offset commands;
//! * `messages`: the message commands.
//!
//! The checks the core leaves to its callers are made here, so that a name that does not exist
//! is a failure naming it rather than an empty result: a group must have a config, consumers
//! online or offsets; a topic must have a route.

pub mod args;
mod groups;
mod messages;
mod topics;

use rocketmq_ons::admin::Admin;
use rocketmq_ons::{Error, ErrorKind, MessageQueue};

use crate::cluster::{client_properties, explain};
use crate::{Failure, Interrupt};
use args::{ClusterCommand, Common, ConsumerCommand, GroupCommand, MessageCommand, OffsetCommand, TopicCommand};

/// An admin command as parsed.
#[derive(Debug)]
pub enum AdminCommand {
    Cluster(ClusterCommand),
    Topic(TopicCommand),
    Group(GroupCommand),
    Consumer(ConsumerCommand),
    Offset(OffsetCommand),
    Message(MessageCommand),
}

impl AdminCommand {
    /// The subcommand's name, for usage errors.
    pub fn name(&self) -> &'static str {
        match self {
            AdminCommand::Cluster(_) => "cluster",
            AdminCommand::Topic(_) => "topic",
            AdminCommand::Group(_) => "group",
            AdminCommand::Consumer(_) => "consumer",
            AdminCommand::Offset(_) => "offset",
            AdminCommand::Message(_) => "message",
        }
    }
}

/// Runs `command` until it ends or Ctrl-C.
pub async fn run(command: AdminCommand, interrupt: Interrupt) -> Result<(), Failure> {
    let work = async {
        match command {
            AdminCommand::Cluster(ClusterCommand::List(common)) => topics::cluster_list(common).await,
            AdminCommand::Topic(c) => topics::run(c).await,
            AdminCommand::Group(c) => groups::run_group(c).await,
            AdminCommand::Consumer(c) => groups::run_consumer(c).await,
            AdminCommand::Offset(c) => groups::run_offset(c).await,
            AdminCommand::Message(c) => messages::run(c).await,
        }
    };
    tokio::select! {
        result = work => result,
        () = interrupt.pressed() => Err(Failure::Interrupted),
    }
}

/// A connected admin and the name server address, for error messages.
struct Session {
    admin: Admin,
    namesrv: String,
}

/// The group the admin client announces (it produces and consumes nothing).
const ADMIN_GROUP: &str = "GID_ons_cli_admin";

impl Session {
    fn open(common: &Common) -> Result<Session, Failure> {
        let props = client_properties(&common.cluster, ADMIN_GROUP)?;
        let admin = Admin::new(&props).map_err(|e| Failure::Runtime(e.to_string()))?;
        Ok(Session { admin, namesrv: common.cluster.namesrv.clone() })
    }

    /// `e` as a runtime failure, explained when the cause is the connection.
    fn failure(&self, e: &Error) -> Failure {
        Failure::Runtime(explain(e, &self.namesrv))
    }

    /// Fails unless the name servers route `topic`: "topic T does not exist".
    async fn require_topic(&self, topic: &str) -> Result<rocketmq_ons::admin::TopicRouteInfo, Failure> {
        match self.admin.topic_route(topic).await {
            Ok(route) => Ok(route),
            Err(e) if e.kind() == ErrorKind::TopicNotFound => Err(Failure::Runtime(format!(
                "topic {topic} does not exist: the name server at {} has no route for it",
                self.namesrv
            ))),
            Err(e) => Err(self.failure(&e)),
        }
    }
}

/// A queue in JSON output.
fn queue_json(queue: &MessageQueue) -> serde_json::Value {
    serde_json::json!({ "topic": queue.topic, "broker_name": queue.broker_name, "queue_id": queue.queue_id })
}

/// The first cells of a queue's row: topic, broker, queue id.
fn queue_cells(queue: &MessageQueue) -> Vec<String> {
    vec![queue.topic.clone(), queue.broker_name.clone(), queue.queue_id.to_string()]
}
