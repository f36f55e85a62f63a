//! `ons consume`: checks the topic's route, subscribes a consumer (plain or orderly) of the
//! group, prints each message as a line on stdout and commits it, and stops after `--count`
//! messages or at Ctrl-C. On a terminal it says what it waits for at start and how many
//! messages it printed at the end.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rocketmq_ons::config::{keys, Properties};
use rocketmq_ons::consumer::{
    Action, ConsumeContext, ConsumeOrderContext, Consumer, MessageListener, MessageOrderListener, MessageSelector,
    OrderAction, OrderConsumer,
};
use rocketmq_ons::message::Message;

use crate::args::{ConsumeArgs, StartFrom};
use crate::cluster::{check_route, client_properties, RouteCheck};
use crate::records::{message_json, message_line};
use crate::report::Reporter;
use crate::{Failure, Interrupt};

pub async fn run(args: ConsumeArgs, reporter: Reporter, interrupt: Interrupt) -> Result<(), Failure> {
    let props = consumer_properties(&args)?;
    let namesrv = args.cluster.namesrv.as_str();
    let filter = match &args.sql {
        Some(sql) => format!("SQL {sql:?}"),
        None => format!("tags {:?}", args.expr),
    };
    let route = tokio::select! {
        route = check_route(&props, &args.topic, namesrv) => route?,
        () = interrupt.pressed() => return Err(Failure::Interrupted),
    };
    let queues = match route {
        RouteCheck::Routed { queues, stored: Ok(stored) } => format!("{queues} queues, {stored} messages stored"),
        RouteCheck::Routed { queues, stored: Err(why) } => {
            reporter.warn(&format!("the brokers of topic {} did not answer ({why}); consuming anyway", args.topic));
            format!("{queues} queues")
        }
        RouteCheck::Missing => {
            reporter.warn(&format!("topic {} has no route on {namesrv}; waiting for it to be created", args.topic));
            "no route yet".to_owned()
        }
    };
    let printer = Arc::new(Printer {
        json: args.json,
        hold_past_count: !args.orderly,
        count: args.count,
        state: Mutex::new(PrinterState { printed: 0, stdout_error: None }),
        done: tokio::sync::Notify::new(),
    });
    if args.count == Some(0) {
        return Ok(());
    }
    reporter.note(&format!(
        "consuming topic {} ({queues}) as group {}, {filter}, a new group from {}, via name server {namesrv}; {}",
        args.topic,
        args.group,
        match args.from {
            StartFrom::Last => "the last message".to_owned(),
            StartFrom::First => "the first message".to_owned(),
            StartFrom::Timestamp(ms) => format!("epoch ms {ms}"),
        },
        match args.count {
            Some(n) => format!("stopping after {n} messages or at Ctrl-C"),
            None => "Ctrl-C to stop".to_owned(),
        }
    ));

    let selector = match &args.sql {
        Some(sql) => MessageSelector::by_sql(sql.as_str()),
        None => MessageSelector::by_tag(args.expr.as_str()),
    };
    let wait = async {
        tokio::select! {
            _ = printer.done.notified() => Ok(()),
            () = interrupt.pressed() => Err(Failure::Interrupted),
        }
    };
    // The two consumer kinds differ only in their listener's types and results.
    macro_rules! consume_with {
        ($consumer:expr, $listener:ident, $context:ident, $shown:expr, $not_shown:expr) => {{
            let consumer = $consumer.map_err(|e| Failure::Runtime(e.to_string()))?;
            let p = printer.clone();
            let listener: Arc<dyn $listener> =
                Arc::new(move |m: &Message, _: &$context| if p.print(m) { $shown } else { $not_shown });
            consumer
                .subscribe_with_selector(&args.topic, &selector, listener)
                .map_err(|e| Failure::Runtime(e.to_string()))?;
            consumer.start().map_err(|e| Failure::Runtime(e.to_string()))?;
            let outcome = wait.await;
            consumer.shutdown().await;
            outcome
        }};
    }
    let outcome = if args.orderly {
        consume_with!(
            OrderConsumer::new(&props),
            MessageOrderListener,
            ConsumeOrderContext,
            OrderAction::Success,
            OrderAction::Suspend
        )
    } else {
        consume_with!(
            Consumer::new(&props),
            MessageListener,
            ConsumeContext,
            Action::CommitMessage,
            Action::ReconsumeLater
        )
    };
    let state = printer.state.lock();
    let noun = if state.printed == 1 { "message" } else { "messages" };
    reporter.note(&format!("consumed {} {noun} of topic {}", state.printed, args.topic));
    match &state.stdout_error {
        Some(e) => Err(Failure::Runtime(format!("cannot write to stdout: {e}"))),
        None => outcome,
    }
}

fn consumer_properties(args: &ConsumeArgs) -> Result<Properties, Failure> {
    let mut props = client_properties(&args.cluster, &args.group)?;
    if args.broadcast {
        props.set(keys::MESSAGE_MODEL, "BROADCASTING");
    }
    match args.from {
        StartFrom::Last => props.set(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_LAST_OFFSET"),
        StartFrom::First => props.set(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_FIRST_OFFSET"),
        StartFrom::Timestamp(ms) => {
            props.set(keys::CONSUME_FROM_WHERE, "CONSUME_FROM_TIMESTAMP").set(keys::CONSUME_TIMESTAMP, ms.to_string())
        }
    };
    if let Some(name) = &args.instance {
        props.set(keys::INSTANCE_NAME, name.as_str());
    }
    if let Some(threads) = args.threads {
        props.set(keys::CONSUME_THREAD_NUMS, threads.to_string());
    }
    if let Some(dir) = &args.offset_dir {
        props.set(keys::OFFSET_STORE_DIR, dir.to_string_lossy());
    }
    Ok(props)
}

/// Prints consumed messages until `count` of them were printed; deliveries past the count are
/// never acknowledged, so the group gets them again after this process is gone.
struct Printer {
    json: bool,
    /// Deliveries past the count: held in their listener call until the process exits (a
    /// concurrent consumer, for which failing a message would send it to the retry topic), or
    /// refused at once (an orderly consumer suspends the queue, which keeps its order, and its
    /// shutdown need not wait for a listener call that never returns).
    hold_past_count: bool,
    count: Option<u64>,
    state: Mutex<PrinterState>,
    /// Notified when the count is reached or stdout failed.
    done: tokio::sync::Notify,
}

struct PrinterState {
    printed: u64,
    stdout_error: Option<String>,
}

impl Printer {
    /// Prints `m`; false if it was not shown (so it must not be acknowledged).
    fn print(&self, m: &Message) -> bool {
        let mut state = self.state.lock();
        let finished = self.count.is_some_and(|c| state.printed >= c) || state.stdout_error.is_some();
        if finished {
            drop(state);
            if !self.hold_past_count {
                return false;
            }
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        let line = if self.json { message_json(m).to_string() } else { message_line(m) };
        let mut out = std::io::stdout().lock();
        if let Err(e) = writeln!(out, "{line}").and_then(|_| out.flush()) {
            // Nobody reads our output any more: do not acknowledge what was not shown.
            state.stdout_error = Some(e.to_string());
            self.done.notify_one();
            return false;
        }
        state.printed += 1;
        if self.count == Some(state.printed) {
            self.done.notify_one();
        }
        true
    }
}
