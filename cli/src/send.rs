//! `ons send`: builds the message from the options, sends it `--count` times with the chosen
//! producer and mode, prints each result as a JSON line on stdout, and on a terminal shows
//! progress and a summary on stderr. Ctrl-C stops after the send in flight.

use std::io::{Read, Write};
use std::time::Instant;

use rocketmq_ons::message::{Message, SendResult};
use rocketmq_ons::producer::{OrderProducer, Producer};

use crate::args::{SendArgs, SendMode};
use crate::cluster::{client_properties, explain};
use crate::records::send_result_json;
use crate::report::{Progress, Reporter};
use crate::{Failure, Interrupt};

pub async fn run(args: SendArgs, reporter: Reporter, interrupt: Interrupt) -> Result<(), Failure> {
    let message = build_message(&args)?;
    let props = client_properties(&args.cluster, &args.group)?;
    let namesrv = args.cluster.namesrv.as_str();
    let producer = match &args.sharding_key {
        Some(key) => AnyProducer::Ordered(OrderProducer::new(&props).map_err(runtime)?, key.clone()),
        None => AnyProducer::Plain(Producer::new(&props).map_err(runtime)?, args.mode),
    };
    producer.start().map_err(runtime)?;

    let mut tally = Tally { wanted: args.count, sent: 0, failed: 0, started: Instant::now() };
    let mut progress = Progress::new(reporter);
    let mut stdout = std::io::stdout().lock();
    let outcome = tokio::select! {
        outcome = async {
            while tally.sent < tally.wanted {
                match producer.send(&message).await {
                    Ok(result) => {
                        if let Some(result) = result {
                            progress.before_output();
                            writeln!(stdout, "{}", send_result_json(&result))
                                .and_then(|_| stdout.flush())
                                .map_err(|e| Failure::Runtime(format!("cannot write to stdout: {e}")))?;
                        }
                        tally.sent += 1;
                        progress.update(|| tally.progress_text());
                    }
                    Err(e) => {
                        tally.failed += 1;
                        return Err(Failure::Runtime(explain(&e, namesrv)));
                    }
                }
            }
            Ok(())
        } => outcome,
        () = interrupt.pressed() => Err(Failure::Interrupted),
    };
    progress.clear();
    drop(stdout);
    producer.shutdown().await;
    reporter.note(&tally.summary(&args.topic, args.mode, args.sharding_key.is_some()));
    outcome
}

fn runtime(e: rocketmq_ons::Error) -> Failure {
    Failure::Runtime(e.to_string())
}

/// The message every send of this run sends. Bad values are usage errors, an unreadable
/// `--body-file` a runtime failure.
fn build_message(args: &SendArgs) -> Result<Message, Failure> {
    let body = match (&args.body, &args.body_file) {
        (Some(text), _) => text.as_bytes().to_vec(),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut body = Vec::new();
            std::io::stdin()
                .read_to_end(&mut body)
                .map_err(|e| Failure::Runtime(format!("--body-file -: cannot read standard input: {e}")))?;
            body
        }
        (None, Some(path)) => {
            std::fs::read(path).map_err(|e| Failure::Runtime(format!("--body-file {}: {e}", path.display())))?
        }
        // clap requires one of the two.
        (None, None) => return Err(Failure::Usage("one of --body and --body-file is required".into())),
    };
    let mut message = Message::new(args.topic.as_str(), args.tag.as_deref(), body);
    message.key = args.key.clone();
    for (key, value) in &args.properties {
        message
            .put_user_property(key.as_str(), value.as_str())
            .map_err(|e| Failure::Usage(format!("--property {key}={value}: {}", e.message())))?;
    }
    message.start_deliver_time = args.deliver_at;
    Ok(message)
}

/// The producer the options ask for.
enum AnyProducer {
    Plain(Producer, SendMode),
    /// With the sharding key.
    Ordered(OrderProducer, String),
}

impl AnyProducer {
    fn start(&self) -> rocketmq_ons::Result<()> {
        match self {
            AnyProducer::Plain(p, _) => p.start(),
            AnyProducer::Ordered(p, _) => p.start(),
        }
    }

    /// Sends `message` once; a one-way send has no result.
    async fn send(&self, message: &Message) -> rocketmq_ons::Result<Option<SendResult>> {
        match self {
            AnyProducer::Plain(p, SendMode::Sync) => p.send(message).await.map(Some),
            AnyProducer::Plain(p, SendMode::Async) => p.send_async(message).await.map(Some),
            AnyProducer::Plain(p, SendMode::Oneway) => p.send_oneway(message).await.map(|()| None),
            AnyProducer::Ordered(p, key) => p.send(message, key).await.map(Some),
        }
    }

    async fn shutdown(&self) {
        match self {
            AnyProducer::Plain(p, _) => p.shutdown().await,
            AnyProducer::Ordered(p, _) => p.shutdown().await,
        }
    }
}

/// Counts of a run, for the progress line and the summary.
struct Tally {
    wanted: u64,
    sent: u64,
    failed: u64,
    started: Instant,
}

impl Tally {
    fn rate(&self) -> f64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs > 0.0 {
            self.sent as f64 / secs
        } else {
            0.0
        }
    }

    fn progress_text(&self) -> String {
        format!("sending: {}/{} sent, {} failed, {:.0} msg/s", self.sent, self.wanted, self.failed, self.rate())
    }

    fn summary(&self, topic: &str, mode: SendMode, ordered: bool) -> String {
        let how = match (ordered, mode) {
            (true, _) => " in order",
            (false, SendMode::Oneway) => " one-way",
            (false, _) => "",
        };
        let of_wanted = if self.sent < self.wanted { format!(" of {}", self.wanted) } else { String::new() };
        let noun = if self.wanted == 1 { "message" } else { "messages" };
        let mut text = format!(
            "sent {}{of_wanted} {noun}{how} to {topic}, {} failed, in {:.2} s ({:.0} msg/s)",
            self.sent,
            self.failed,
            self.started.elapsed().as_secs_f64(),
            self.rate()
        );
        if mode == SendMode::Oneway && !ordered {
            text.push_str("; one-way sends get no answer: whether the broker stored them is not known");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_say_what_was_sent() {
        let tally = Tally { wanted: 5, sent: 3, failed: 1, started: Instant::now() };
        let text = tally.summary("T", SendMode::Sync, false);
        assert!(text.starts_with("sent 3 of 5 messages to T, 1 failed, in "), "{text}");
        let tally = Tally { wanted: 1, sent: 1, failed: 0, started: Instant::now() };
        let text = tally.summary("T", SendMode::Oneway, false);
        assert!(text.starts_with("sent 1 message one-way to T, 0 failed") && text.contains("not known"), "{text}");
        assert!(tally.summary("T", SendMode::Sync, true).starts_with("sent 1 message in order to T"));
    }
}
