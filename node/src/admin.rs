//! `Admin`: the core's administrative calls (create a topic, read queue offsets, read a stored
//! message back). Not part of the ONS API; tests, tools and benchmarks use it.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use rocketmq_ons::admin::Admin as CoreAdmin;

use crate::core_call::promise;
use crate::error;
use crate::js_thread::Start;
use crate::message::Received;

/// The next offset to be written in one queue.
#[napi(object)]
pub struct QueueOffset {
    pub broker_name: String,
    pub queue_id: i32,
    pub offset: i64,
}

/// Administrative calls against the cluster named by NAMESRV_ADDR (credentials when the
/// brokers check them). Shares connections with the other clients of the same settings.
#[napi]
pub struct Admin {
    inner: Arc<CoreAdmin>,
}

#[napi]
impl Admin {
    #[napi(constructor, ts_args_type = "properties: Record<string, string | number | boolean | null | undefined>")]
    pub fn new(env: &Env, properties: Object) -> Result<Self> {
        let props = crate::config::properties(env, &properties)?;
        let inner = napi::bindgen_prelude::within_runtime_if_available(|| CoreAdmin::new(&props))
            .map_err(|e| error::to_js(env, &e))?;
        Ok(Admin { inner: Arc::new(inner) })
    }

    /// Creates (or updates) `topic` with `queueNums` read and write queues on every master.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn create_topic<'env>(
        &self,
        env: &'env Env,
        topic: String,
        queue_nums: Option<u32>,
        order: Option<bool>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let inner = self.inner.clone();
        let fut = async move { inner.create_topic(&topic, queue_nums.unwrap_or(4), order.unwrap_or(false)).await };
        promise(env, Start::OnRuntime, fut, |_, ()| Ok(()))
    }

    #[napi(ts_return_type = "Promise<QueueOffset[]>")]
    pub fn max_offsets<'env>(&self, env: &'env Env, topic: String) -> Result<PromiseRaw<'env, Vec<QueueOffset>>> {
        let inner = self.inner.clone();
        promise(env, Start::OnRuntime, async move { inner.max_offsets(&topic).await }, |_, offsets| {
            Ok(offsets
                .into_iter()
                .map(|(broker_name, queue_id, offset)| QueueOffset { broker_name, queue_id, offset })
                .collect())
        })
    }

    /// Reads a message back by its offset message id (`SendResult.offsetMsgId`).
    #[napi(ts_return_type = "Promise<Message>")]
    pub fn view_message<'env>(
        &self,
        env: &'env Env,
        topic: String,
        offset_msg_id: String,
    ) -> Result<PromiseRaw<'env, Received>> {
        let inner = self.inner.clone();
        promise(env, Start::OnRuntime, async move { inner.view_message(&topic, &offset_msg_id).await }, |_, m| {
            Ok(Received(m))
        })
    }
}
