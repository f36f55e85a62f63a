//! `ons_admin_t`: core's administrative calls (create a topic, read stored messages back) for
//! tools and tests.

use std::ffi::c_char;

use ons::admin::Admin;
use ons::Message;

use crate::args;
use crate::error::{guard, invalid_argument, Result};
use crate::message::OnsMessage;
use crate::properties::{core_properties, OnsProperties};
use ons_binding_support::ProcessBound;

use crate::runtime::{block_on, runtime};

/// A handle for administrative calls. Thread-safe. Shares connections with every producer and
/// consumer of the same cluster settings in the process.
pub struct OnsAdmin(ProcessBound<Admin>);

impl OnsAdmin {
    fn live(&self) -> Result<&Admin> {
        self.0.get()
    }
}

/// Creates an admin handle (NAMESRV_ADDR required; credentials when the cluster checks them).
/// Release it with ons_admin_destroy.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_new(properties: *const OnsProperties, out: *mut *mut OnsAdmin) -> i32 {
    guard("ons_admin_new", || {
        let out = args::out_ptr(out, "out")?;
        let props = core_properties(properties)?;
        let _context = runtime()?.enter();
        *out = Box::into_raw(Box::new(OnsAdmin(ProcessBound::new("admin handle", Admin::new(&props)?))));
        Ok(())
    })
}

/// Frees an admin handle. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_destroy(admin: *mut OnsAdmin) -> i32 {
    guard("ons_admin_destroy", || {
        if !admin.is_null() {
            // Inherited across fork(), the admin inside is forgotten rather than dropped.
            drop(Box::from_raw(admin));
        }
        Ok(())
    })
}

/// Creates (or updates) `topic` with `queue_nums` read and write queues on every master
/// broker of the cluster; `order` non-zero marks it as an ordered topic.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_create_topic(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    queue_nums: u32,
    order: i32,
) -> i32 {
    guard("ons_admin_create_topic", || {
        let a = args::obj(admin, "admin")?.live()?;
        let topic = args::string(topic, "topic")?;
        if queue_nums == 0 {
            return Err(invalid_argument("queue_nums is 0; a topic needs at least one queue"));
        }
        block_on(a.create_topic(topic, queue_nums, order != 0))?
    })
}

/// Reads a stored message back by its offset message id (ons_send_result_offset_msg_id),
/// body decompressed, exactly as stored. `*out` is a new message (free with
/// ons_message_free).
#[no_mangle]
pub unsafe extern "C" fn ons_admin_view_message(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    offset_msg_id: *const c_char,
    out: *mut *mut OnsMessage,
) -> i32 {
    guard("ons_admin_view_message", || {
        let out = args::out_ptr(out, "out")?;
        let a = args::obj(admin, "admin")?.live()?;
        let topic = args::string(topic, "topic")?;
        let id = args::string(offset_msg_id, "offset_msg_id")?;
        let msg = block_on(a.view_message(topic, id))??;
        *out = Box::into_raw(Box::new(OnsMessage::owned(msg)));
        Ok(())
    })
}

fn message_array(found: Vec<Message>, out: &mut *mut *mut OnsMessage, count: &mut usize) {
    let array: Box<[*mut OnsMessage]> =
        found.into_iter().map(|m| Box::into_raw(Box::new(OnsMessage::owned(m)))).collect();
    *count = array.len();
    *out = Box::into_raw(array).cast();
}

unsafe fn query(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    key: *const c_char,
    by_msg_id: bool,
    out: *mut *mut *mut OnsMessage,
    count: *mut usize,
) -> Result<()> {
    let out = args::out_ptr(out, "out")?;
    let count = args::out(count, "count")?;
    let a = args::obj(admin, "admin")?.live()?;
    let topic = args::string(topic, "topic")?;
    let key = args::string(key, if by_msg_id { "msg_id" } else { "key" })?;
    let found =
        if by_msg_id { block_on(a.query_by_msg_id(topic, key))?? } else { block_on(a.query_by_key(topic, key))?? };
    message_array(found, out, count);
    Ok(())
}

/// Finds the messages of `topic` with message id `msg_id` (ons_send_result_message_id) on
/// every broker. `*out` is a new array of `*count` new messages (possibly 0); free it with
/// ons_message_array_free.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_query_by_msg_id(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    msg_id: *const c_char,
    out: *mut *mut *mut OnsMessage,
    count: *mut usize,
) -> i32 {
    guard("ons_admin_query_by_msg_id", || query(admin, topic, msg_id, true, out, count))
}

/// Finds the messages of `topic` with business key `key`; as ons_admin_query_by_msg_id.
#[no_mangle]
pub unsafe extern "C" fn ons_admin_query_by_key(
    admin: *mut OnsAdmin,
    topic: *const c_char,
    key: *const c_char,
    out: *mut *mut *mut OnsMessage,
    count: *mut usize,
) -> i32 {
    guard("ons_admin_query_by_key", || query(admin, topic, key, false, out, count))
}

/// Frees an array returned by an ons_admin_query_* call and every message in it. `count` must
/// be the count that call returned. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn ons_message_array_free(messages: *mut *mut OnsMessage, count: usize) -> i32 {
    guard("ons_message_array_free", || {
        if messages.is_null() {
            return Ok(());
        }
        let array: Box<[*mut OnsMessage]> = Box::from_raw(std::ptr::slice_from_raw_parts_mut(messages, count));
        for m in array.iter() {
            if !m.is_null() {
                drop(Box::from_raw(*m));
            }
        }
        Ok(())
    })
}
