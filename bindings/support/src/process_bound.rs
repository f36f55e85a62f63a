//! Handles bound to the process that created them.
//!
//! After fork() a child inherits a binding's objects, but not the runtime threads their
//! connections and tasks live on: using one would hang, and so might dropping it. A
//! [`ProcessHome`] remembers where a handle was made and refuses use elsewhere with a clear
//! error; a [`ProcessBound`] value is also forgotten rather than dropped in another process.

use std::mem::ManuallyDrop;

use rocketmq_ons::{Error, ErrorKind};

/// The process a handle was created in, and what to call the handle in errors.
#[derive(Debug, Clone, Copy)]
pub struct ProcessHome {
    pid: u32,
    what: &'static str,
}

impl ProcessHome {
    /// This process; `what` names the handle in errors ("Producer", "admin handle").
    pub fn here(what: &'static str) -> Self {
        ProcessHome { pid: rocketmq_ons::current_process_id(), what }
    }

    /// Whether the calling process is this one.
    pub fn is_current(&self) -> bool {
        rocketmq_ons::current_process_id() == self.pid
    }

    /// Ok in the home process; a NotStarted error naming the fork in any other.
    pub fn check(&self) -> Result<(), Error> {
        let here = rocketmq_ons::current_process_id();
        if here == self.pid {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::NotStarted,
            format!(
                "this {} was created in process {} and cannot be used in the forked process {here}; \
                 create a new one after the fork (destroying the inherited one only forgets it)",
                self.what, self.pid
            ),
        ))
    }

    /// The name given at creation.
    pub fn what(&self) -> &'static str {
        self.what
    }
}

/// `T`, usable only in the process that created it, and never dropped in another.
pub struct ProcessBound<T> {
    home: ProcessHome,
    inner: ManuallyDrop<T>,
}

impl<T> ProcessBound<T> {
    pub fn new(what: &'static str, inner: T) -> Self {
        ProcessBound { home: ProcessHome::here(what), inner: ManuallyDrop::new(inner) }
    }

    /// The value, or a NotStarted error in a forked child.
    pub fn get(&self) -> Result<&T, Error> {
        self.home.check()?;
        Ok(&self.inner)
    }
}

impl<T> Drop for ProcessBound<T> {
    fn drop(&mut self) {
        if self.home.is_current() {
            // SAFETY: dropped exactly once, here; never touched again.
            unsafe { ManuallyDrop::drop(&mut self.inner) };
        }
        // In a forked child the value is forgotten: its destructor would talk to tasks and
        // locks of the parent's runtime, which has no threads here.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usable_at_home() {
        let bound = ProcessBound::new("thing", 7);
        assert_eq!(*bound.get().unwrap(), 7);
        let home = ProcessHome::here("thing");
        assert!(home.is_current());
        assert!(home.check().is_ok());
        assert_eq!(home.what(), "thing");
    }
}
