//! `Admin`: the core's administrative calls (`ons::admin::Admin`, docs/admin.md), each as a
//! sync method, which releases the GIL while it waits, and as `<name>_async`, which returns an
//! awaitable of the same result (as `send_async` and `shutdown_async` do). Arguments are
//! translated here (a negative count or an unknown reset position raises
//! `InvalidArgumentError` before anything is sent); every other check is the core's. Results
//! are the classes of [`crate::admin_types`].

use std::collections::BTreeMap;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyString};
use pyo3::IntoPyObjectExt;
use rocketmq_ons::admin::{Admin, QueueOffset, ResetPosition, SubscriptionGroupConfig, TopicConfig};
use rocketmq_ons::{Error, ErrorKind, MessageQueue};

use crate::admin_types::{
    to_list, PyBrokerSubscriptionGroups, PyClusterBroker, PyConsumeMessageDirectlyResult, PyConsumeStats,
    PyConsumerConnections, PyConsumerRunningInfo, PyMessageTrack, PyQueueOffset, PySubscriptionGroupConfig,
    PyTopicRouteInfo, PyTopicStats,
};
use crate::completion::{self, Start};
use crate::errors::to_py_err;
use crate::message::PyMessage;
use crate::props;
use crate::runtime::{block_on, runtime, BoundHandle};

/// An `InvalidArgumentError` naming the argument.
fn invalid_argument(message: String) -> PyErr {
    to_py_err(Error::new(ErrorKind::InvalidArgument, message))
}

/// A count argument (queues) as the core's unsigned type: a negative one is an error naming it.
fn count(name: &str, value: i64) -> PyResult<u32> {
    u32::try_from(value).map_err(|_| invalid_argument(format!("{name} must be 0 to {}, not {value}", u32::MAX)))
}

/// `to` of `reset_offsets`: `ResetPosition.EARLIEST` / `LATEST` (or their values), a time in
/// milliseconds since the epoch, or a `datetime` (its `timestamp()`).
fn reset_position(to: &Bound<'_, PyAny>) -> PyResult<ResetPosition> {
    if let Ok(name) = to.cast::<PyString>() {
        return match &*name.to_cow()? {
            "EARLIEST" => Ok(ResetPosition::Earliest),
            "LATEST" => Ok(ResetPosition::Latest),
            other => Err(invalid_argument(format!(
                "reset position {other:?} is neither ResetPosition.EARLIEST nor ResetPosition.LATEST"
            ))),
        };
    }
    // bool is an int in Python; True is no point in time.
    if to.is_instance_of::<PyInt>() && !to.is_instance_of::<pyo3::types::PyBool>() {
        return Ok(ResetPosition::Timestamp(to.extract()?));
    }
    if to.hasattr("timestamp")? && to.hasattr("tzinfo")? {
        let seconds: f64 = to.call_method0("timestamp")?.extract()?;
        return Ok(ResetPosition::Timestamp((seconds * 1000.0).round() as i64));
    }
    Err(PyTypeError::new_err(format!(
        "reset_offsets: `to` must be a ResetPosition, milliseconds since the epoch (int) or a datetime, not {}",
        to.get_type()
    )))
}

pub(crate) fn messages(found: Vec<rocketmq_ons::Message>) -> Vec<PyMessage> {
    found.into_iter().map(|inner| PyMessage { inner }).collect()
}

/// The `#[pymethods]` of `Admin`: `$extra` as written, and for each operation a sync method
/// `$name` and an async one `$name_async` with the same arguments and documentation. Both run
/// `$prepare` first, with the GIL (argument translation, which may raise), then `$call` on the
/// runtime with `$admin` the core handle; `$call` gives `ons::Result<$out>`.
macro_rules! admin_methods {
    (
        { $($extra:tt)* }
        $(
            $(#[$attr:meta])*
            fn $name:ident / $name_async:ident ($($arg:ident: $ty:ty),* $(,)?) -> $out:ty
            { $($prepare:tt)* }
            => |$admin:ident| $call:expr;
        )*
    ) => {
        #[pymethods]
        impl PyAdmin {
            $($extra)*

            $(
                $(#[$attr])*
                fn $name(&self, py: Python<'_>, $($arg: $ty),*) -> PyResult<$out> {
                    $($prepare)*
                    let $admin = self.inner.get()?.clone();
                    block_on(py, async move { $call })?.map_err(to_py_err)
                }

                $(#[$attr])*
                fn $name_async(&self, py: Python<'_>, $($arg: $ty),*) -> PyResult<Py<PyAny>> {
                    $($prepare)*
                    let $admin = self.inner.get()?.clone();
                    completion::spawn_future(py, Start::OnRuntime, async move { $call }, |py, outcome: rocketmq_ons::Result<$out>| {
                        outcome.map_err(to_py_err)?.into_py_any(py)
                    })
                }
            )*
        }
    };
}

/// Administrative calls (docs/admin.md); `<name>_async` of every method is its awaitable form.
#[pyclass(module = "rocketmq_ons", name = "Admin", frozen)]
pub(crate) struct PyAdmin {
    inner: BoundHandle<Admin>,
}

admin_methods! {
    {
        /// Needs NAMESRV_ADDR (and credentials when the brokers check them).
        #[new]
        #[pyo3(signature = (properties = None, **options))]
        fn new(
            py: Python<'_>,
            properties: Option<&Bound<'_, PyAny>>,
            options: Option<&Bound<'_, PyDict>>,
        ) -> PyResult<Self> {
            let props = props::collect(properties, options)?;
            let _entered = runtime(py)?.enter();
            let admin = Admin::new(&props).map_err(to_py_err)?;
            Ok(PyAdmin { inner: BoundHandle::new("Admin", admin.into()) })
        }
    }

    /// Every broker the name servers know, with its version and runtime figures (`mqadmin
    /// clusterList`).
    fn cluster_list / cluster_list_async() -> Vec<PyClusterBroker> {}
    => |admin| admin.cluster_list().await.map(to_list);

    /// The runtime figures of the broker at `addr` (`mqadmin brokerStatus`).
    fn broker_runtime_info / broker_runtime_info_async(addr: String) -> BTreeMap<String, String> {}
    => |admin| admin.broker_runtime_info(&addr).await;

    /// Creates or updates `topic` on every master of `cluster` (`mqadmin updateTopic -c`) and
    /// returns their broker names. `write_queue_nums` defaults to `read_queue_nums`; `perm` is
    /// a `Perm` (READ | WRITE by default).
    #[pyo3(signature = (cluster, topic, read_queue_nums = 8, write_queue_nums = None, perm = None, order = false))]
    // The Python signature: the topic config's fields as keyword arguments, as mqadmin's options.
    #[allow(clippy::too_many_arguments)]
    fn update_topic / update_topic_async(
        cluster: String,
        topic: String,
        read_queue_nums: i64,
        write_queue_nums: Option<i64>,
        perm: Option<i32>,
        order: bool,
    ) -> Vec<String> {
        let mut config = TopicConfig::new(topic, count("read_queue_nums", read_queue_nums)?);
        config.write_queue_nums = count("write_queue_nums", write_queue_nums.unwrap_or(read_queue_nums))?;
        config.perm = perm.unwrap_or(config.perm);
        config.order = order;
    }
    => |admin| admin.update_topic(&cluster, &config).await;

    /// Creates (or updates) `topic` with `queue_nums` read and write queues on every master
    /// that hosts TBW102 (the brokers that allow auto-creation).
    #[pyo3(signature = (topic, queue_nums = 8, order = false))]
    fn create_topic / create_topic_async(topic: String, queue_nums: i64, order: bool) -> () {
        let queue_nums = count("queue_nums", queue_nums)?;
    }
    => |admin| admin.create_topic(&topic, queue_nums, order).await;

    /// Deletes `topic` from every master of `cluster`, then from every name server (`mqadmin
    /// deleteTopic -c`).
    fn delete_topic / delete_topic_async(cluster: String, topic: String) -> () {}
    => |admin| admin.delete_topic(&cluster, &topic).await;

    /// Every topic the name servers know, sorted, system topics included (`mqadmin topicList`).
    fn list_topics / list_topics_async() -> Vec<String> {}
    => |admin| admin.list_topics().await;

    /// The route of `topic` (`mqadmin topicRoute`); TopicNotFoundError when it has none.
    fn topic_route / topic_route_async(topic: String) -> PyTopicRouteInfo {}
    => |admin| admin.topic_route(&topic).await.map(Into::into);

    /// The offsets of every queue of `topic` (`mqadmin topicStatus`).
    fn topic_stats / topic_stats_async(topic: String) -> PyTopicStats {}
    => |admin| admin.topic_stats(&topic).await.map(Into::into);

    /// Creates the group, or replaces its config, on every master of `cluster` (`mqadmin
    /// updateSubGroup -c`); returns their broker names.
    fn update_subscription_group / update_subscription_group_async(
        cluster: String,
        config: PyRef<'_, PySubscriptionGroupConfig>,
    ) -> Vec<String> {
        let config = SubscriptionGroupConfig::from(&*config);
    }
    => |admin| admin.update_subscription_group(&cluster, &config).await;

    /// Deletes the group's config (with `clean_offset`, its offsets too) from every master of
    /// `cluster` (`mqadmin deleteSubGroup -c`); returns their broker names.
    #[pyo3(signature = (cluster, group, clean_offset = false))]
    fn delete_subscription_group / delete_subscription_group_async(
        cluster: String,
        group: String,
        clean_offset: bool,
    ) -> Vec<String> {}
    => |admin| admin.delete_subscription_group(&cluster, &group, clean_offset).await;

    /// The subscription groups of every master of `cluster`, by broker.
    fn list_subscription_groups / list_subscription_groups_async(cluster: String) -> Vec<PyBrokerSubscriptionGroups> {}
    => |admin| admin.list_subscription_groups(&cluster).await.map(to_list);

    /// The group's online members and subscriptions (`mqadmin consumerConnection`); no member
    /// online gives no clients, not an error.
    fn consumer_connections / consumer_connections_async(group: String) -> PyConsumerConnections {}
    => |admin| admin.consumer_connections(&group).await.map(Into::into);

    /// What client `client_id` of `group` reports about itself (`mqadmin consumerStatus -i`).
    fn consumer_running_info / consumer_running_info_async(group: String, client_id: String) -> PyConsumerRunningInfo {}
    => |admin| admin.consumer_running_info(&group, &client_id).await.map(Into::into);

    /// The group's progress on every queue of `topic`, or of every topic it has offsets for
    /// (`mqadmin consumerProgress`).
    #[pyo3(signature = (group, topic = None))]
    fn consume_stats / consume_stats_async(group: String, topic: Option<String>) -> PyConsumeStats {}
    => |admin| admin.consume_stats(&group, topic.as_deref()).await.map(Into::into);

    /// Moves `group`'s offsets on every queue of `topic` to `to`: `ResetPosition.EARLIEST`,
    /// `ResetPosition.LATEST`, a time (ms since the epoch, or a datetime: a naive one is local
    /// time, as `datetime.timestamp()` reads it); returns each queue's new offset. Running
    /// consumers of the group jump there (`mqadmin resetOffsetByTime`).
    fn reset_offsets / reset_offsets_async(group: String, topic: String, to: &Bound<'_, PyAny>) -> Vec<PyQueueOffset> {
        let position = reset_position(to)?;
    }
    => |admin| admin.reset_offsets(&group, &topic, position).await.map(to_list);

    /// One message by either kind of id (offset message id or unique key, `mqadmin
    /// queryMsgById`); None when there is no such message.
    fn message_by_id / message_by_id_async(topic: String, msg_id: String) -> Option<PyMessage> {}
    => |admin| admin.message_by_id(&topic, &msg_id).await.map(|m| m.map(|inner| PyMessage { inner }));

    /// The stored message with this offset message id (`SendResult.offset_msg_id`).
    fn view_message / view_message_async(topic: String, offset_msg_id: String) -> PyMessage {}
    => |admin| admin.view_message(&topic, &offset_msg_id).await.map(|inner| PyMessage { inner });

    /// The messages of `topic` with key `key` stored between `begin_ms` and `end_ms` (ms since
    /// the epoch), at most `max_per_broker` from each broker, by store time (`mqadmin
    /// queryMsgByKey`).
    #[pyo3(signature = (topic, key, begin_ms, end_ms, max_per_broker = 64))]
    fn query_messages / query_messages_async(
        topic: String,
        key: String,
        begin_ms: i64,
        end_ms: i64,
        max_per_broker: i32,
    ) -> Vec<PyMessage> {}
    => |admin| admin.query_messages(&topic, &key, begin_ms, end_ms, max_per_broker).await.map(messages);

    /// The messages of queue `queue_id` of `topic` on `broker_name` from offset `begin` up to,
    /// not including, `end`, without consuming them (at most 2048 offsets a call).
    fn read_queue / read_queue_async(
        topic: String,
        broker_name: String,
        queue_id: i32,
        begin: i64,
        end: i64,
    ) -> Vec<PyMessage> {}
    => |admin| admin.read_queue(&topic, &broker_name, queue_id, begin, end).await.map(messages);

    /// The next offset to be written in every queue of `topic`.
    fn max_offsets / max_offsets_async(topic: String) -> Vec<PyQueueOffset> {}
    => |admin| admin.max_offsets(&topic).await.map(|offsets| {
        offsets
            .into_iter()
            .map(|(broker_name, queue_id, offset)| {
                QueueOffset { queue: MessageQueue::new(topic.as_str(), broker_name, queue_id), offset }.into()
            })
            .collect()
    });

    /// Has client `client_id` of `group` run its listener on message `msg_id` of `topic` and
    /// says how that went; nothing else happens to the message (`mqadmin queryMsgById -d`).
    fn consume_message_directly / consume_message_directly_async(
        group: String,
        client_id: String,
        topic: String,
        msg_id: String,
    ) -> PyConsumeMessageDirectlyResult {}
    => |admin| admin.consume_message_directly(&group, &client_id, &topic, &msg_id).await.map(Into::into);

    /// For message `msg_id` of `topic`, the state of every group that consumes the topic,
    /// sorted by group (`mqadmin queryMsgById`'s message track).
    fn message_track / message_track_async(topic: String, msg_id: String) -> Vec<PyMessageTrack> {}
    => |admin| admin.message_track(&topic, &msg_id).await.map(to_list);

    /// The groups the brokers of `topic` know to consume it, sorted.
    fn groups_of_topic / groups_of_topic_async(topic: String) -> Vec<String> {}
    => |admin| admin.groups_of_topic(&topic).await;
}
