import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.rocketmq.acl.common.AclClientRPCHook;
import org.apache.rocketmq.acl.common.SessionCredentials;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.consumer.AllocateMessageQueueStrategy;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueAveragely;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueAveragelyByCircle;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageAccessor;
import org.apache.rocketmq.common.message.MessageClientExt;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.remoting.RPCHook;

/**
 * The official Apache RocketMQ Java client (remoting protocol) driven from the command line, as a
 * test oracle for the Rust client. Every result is one JSON object per line on stdout; everything
 * else (client logs, diagnostics) goes to stderr.
 *
 * <p>Compiles against rocketmq-client 4.9.x and 5.x: it uses only APIs present in both.
 */
public final class Oracle {
    /** The real stdout; System.out is pointed at stderr so that library chatter cannot mix in. */
    private static final PrintStream OUT =
        new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);

    private static final String USAGE = String.join("\n",
        "Oracle — the Apache RocketMQ Java client as a test oracle (JSON lines on stdout)",
        "",
        "  send    --namesrv A --topic T [--tag X] [--keys \"k1 k2\"] [--body-hex HEX | --body-file F | --body TEXT]",
        "          [--property k=v]... [--group G] [--count N] [--queue-id Q] [--delay-level L]",
        "          [--compress-over BYTES] [--compress-type ZLIB|LZ4|ZSTD] [--compress-level N] [--timeout-ms M] [--trace]",
        "      -> per message {\"msgId\",\"offsetMsgId\",\"queueId\",\"queueOffset\",\"status\",\"brokerName\",\"topic\"}",
        "  consume --namesrv A --topic T --group G [--expr \"*\"] [--count N] [--timeout-ms M] [--from-first]",
        "          [--orderly] [--fail-times K] [--allocate AVG|AVG_BY_CIRCLE]",
        "      -> one line per delivery: msgId, offsetMsgId, topic, tags, keys, bodyHex, properties,",
        "         reconsumeTimes, queueId, queueOffset, bornTimestamp, storeTimestamp, ... , result;",
        "         exits 0 after N successful deliveries, 2 on timeout (default 30000 ms).",
        "         --fail-times K: answer RECONSUME_LATER while reconsumeTimes < K (retry tests).",
        "         --allocate: the queue allocation strategy (default AVG, AllocateMessageQueueAveragely).",
        "  lite-pull --namesrv A --topic T --group G [--count N] [--timeout-ms M] [--from-first] [--linger-ms L]",
        "            [--broadcasting --instance NAME --offset-dir DIR]",
        "      -> DefaultLitePullConsumer in subscribe mode (auto-commit, AVG allocation): one line per",
        "         polled message like consume; after N messages polls (and prints) L ms more (default 0),",
        "         then exits 0; 2 on timeout. --broadcasting: MessageModel.BROADCASTING, offsets in",
        "         DIR/<ip>@NAME/G/offsets.json (LocalFileOffsetStore; rocketmq.client.localOffsetStoreDir).",
        "  traces  --namesrv A --msg-id ID [--topic RMQ_SYS_TRACE_TOPIC] [--min N] [--timeout-ms M]",
        "      -> the trace records about ID, decoded by the Java TraceDataEncoder, one line each (with the",
        "         record's text, without its FIELD_SPLITOR, as \"record\"); exit 2 if",
        "         fewer than N (default 1) are found in time (default 20000 ms).",
        "  view    --namesrv A --topic T (--msg-id UNIQ_ID | --offset-msg-id ID) [--timeout-ms M]",
        "      -> the message like consume; retries until found (index is built asynchronously);",
        "         exit 2 if not found in time (default 10000 ms).",
        "",
        "  bench-consume --namesrv A --topic T --group G --count N [--threads 20] [--pull-threshold-queue 1000]",
        "          [--timeout-ms M]",
        "      -> (benchmark, not a test) drains T from the first offset until N deliveries, then one line:",
        "         messages/s, CPU seconds per 100k and peak RSS, measured from the first delivery to the N-th.",
        "",
        "  bench-produce --namesrv A --topic T [--mode sync|async|batch] [--conc N] [--messages 300000]",
        "          [--max-secs 5] [--warmup-secs 4] [--size 1024] [--batch 32] [--rate 0] [--broker-pid PID] [--side java]",
        "      -> (benchmark, not a test) one phase measured as tests/bench/go-peer measures the Go client:",
        "         sync = N threads calling send(msg); async = send(msg, callback) with at most N in flight;",
        "         batch = N threads calling send(batch of --batch). --rate R > 0 paces sync sends to R a second",
        "         in all (each call due when the ones before it are) and names the mode `paced` in the line.",
        "         Sends for --warmup-secs first (JIT, not",
        "         measured), then one tab-separated line: SIDE MODE CONC msgs secs cpu_s p50_ms p99_ms p99.9_ms",
        "         vmhwm_kb errors busy broker_cpu_s (latency per call; VmHWM of the measured window).",
        "",
        "Common: [--access-key AK --secret-key SK] (ACL signing) [--tls] [--namespace NS]",
        "        [--access-channel LOCAL|CLOUD] (where --trace sends traces: the trace topic, or rmq_sys_TRACE_DATA_<region>)",
        "Exit codes: 0 ok, 1 error, 2 timeout / not found, 64 usage.");

    public static void main(String[] args) {
        System.setOut(System.err);
        int code;
        try {
            if (args.length == 0 || args[0].equals("help") || args[0].equals("--help")) {
                OUT.println(USAGE);
                code = args.length == 0 ? 64 : 0;
            } else {
                Args a = new Args(args, 1);
                switch (args[0]) {
                    case "send": code = send(a); break;
                    case "consume": code = consume(a); break;
                    case "lite-pull": code = litePull(a); break;
                    case "view": code = view(a); break;
                    case "traces": code = traces(a); break;
                    case "bench-consume": code = benchConsume(a); break;
                    case "bench-produce": code = benchProduce(a); break;
                    default: throw new UsageException("unknown subcommand " + args[0]);
                }
            }
        } catch (UsageException e) {
            System.err.println("oracle: " + e.getMessage());
            System.err.println(USAGE);
            code = 64;
        } catch (Throwable e) {
            System.err.println("oracle: " + e);
            e.printStackTrace(System.err);
            code = 1;
        }
        OUT.flush();
        // Client threads are not all daemons; leave for sure.
        System.exit(code);
    }

    // ------------------------------------------------------------------------------------ send

    /// `setCompressType`/`setCompressLevel` exist from client 5.x on; by reflection so the
    /// oracle still builds against a 4.x client (which only writes zlib).
    private static void setCompression(DefaultMQProducer producer, String type, int level) throws Exception {
        Class<?> typeClass;
        try {
            typeClass = Class.forName("org.apache.rocketmq.common.compression.CompressionType");
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("--compress-type needs a 5.x client (this one only writes zlib)");
        }
        Object value = typeClass.getMethod("of", String.class).invoke(null, type);
        producer.getClass().getMethod("setCompressType", typeClass).invoke(producer, value);
        producer.getClass().getMethod("setCompressLevel", int.class).invoke(producer, level);
    }

    private static int send(Args a) throws Exception {
        String topic = a.required("--topic");
        byte[] body;
        if (a.has("--body-hex")) {
            body = HexFormat.of().parseHex(a.get("--body-hex"));
        } else if (a.has("--body-file")) {
            body = Files.readAllBytes(Paths.get(a.get("--body-file")));
        } else {
            body = a.get("--body", "hello").getBytes(StandardCharsets.UTF_8);
        }
        // --trace: the Java client's own message traces (AsyncTraceDispatcher, default trace topic).
        DefaultMQProducer producer =
            new DefaultMQProducer(a.get("--group", "ORACLE_PRODUCER"), rpcHook(a), a.flag("--trace"), null);
        configure(producer, a);
        if (a.has("--compress-over")) {
            producer.setCompressMsgBodyOverHowmuch(Integer.parseInt(a.get("--compress-over")));
        }
        if (a.has("--compress-type") || a.has("--compress-level")) {
            setCompression(producer, a.get("--compress-type", "ZLIB"), Integer.parseInt(a.get("--compress-level", "5")));
        }
        producer.setSendMsgTimeout(Integer.parseInt(a.get("--timeout-ms", "10000")));
        int count = Integer.parseInt(a.get("--count", "1"));
        List<String> sentIds = new ArrayList<>();
        List<String> traceTopics = new ArrayList<>();
        producer.start();
        try {
            for (int i = 0; i < count; i++) {
                Message msg = new Message(topic, body);
                if (a.has("--tag")) {
                    msg.setTags(a.get("--tag"));
                }
                if (a.has("--keys")) {
                    msg.setKeys(a.get("--keys"));
                }
                for (String kv : a.all("--property")) {
                    int eq = kv.indexOf('=');
                    if (eq <= 0) {
                        throw new UsageException("--property wants k=v, got " + kv);
                    }
                    // Raw put: lets tests set system properties (__STARTDELIVERTIME, TIMER_*, ...).
                    MessageAccessor.putProperty(msg, kv.substring(0, eq), kv.substring(eq + 1));
                }
                if (a.has("--delay-level")) {
                    msg.setDelayTimeLevel(Integer.parseInt(a.get("--delay-level")));
                }
                SendResult r;
                if (a.has("--queue-id")) {
                    int qid = Integer.parseInt(a.get("--queue-id"));
                    r = producer.send(msg, (mqs, m, arg) -> {
                        for (MessageQueue mq : mqs) {
                            if (mq.getQueueId() == qid) {
                                return mq;
                            }
                        }
                        throw new IllegalArgumentException("no queue " + qid + " in " + mqs);
                    }, null);
                } else {
                    r = producer.send(msg);
                }
                sentIds.add(r.getMsgId());
                // The topic the trace goes to (AsyncTraceDispatcher): per region with CLOUD.
                traceTopics.add(producer.getAccessChannel() == org.apache.rocketmq.client.AccessChannel.CLOUD
                    ? "rmq_sys_TRACE_DATA_" + r.getRegionId() : "RMQ_SYS_TRACE_TOPIC");
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("msgId", r.getMsgId());
                o.put("offsetMsgId", r.getOffsetMsgId());
                o.put("queueId", r.getMessageQueue().getQueueId());
                o.put("queueOffset", r.getQueueOffset());
                o.put("status", String.valueOf(r.getSendStatus()));
                o.put("brokerName", r.getMessageQueue().getBrokerName());
                o.put("topic", r.getMessageQueue().getTopic());
                OUT.println(Json.of(o));
            }
        } finally {
            // The trace dispatcher's send is asynchronous and shutdown() does not wait for it
            // (AsyncTraceDispatcher.shutdown): the producer stays up until the broker's index
            // finds each message's trace (a fixed 3 s was not always enough on a loaded machine).
            if (a.flag("--trace")) {
                awaitTraces(producer, traceTopics, sentIds, System.currentTimeMillis() + 30000);
            }
            producer.shutdown();
        }
        return 0;
    }

    /// Waits until trace topic `topics[i]` holds a trace of each `ids[i]` or `deadline` passes
    /// (then says so on stderr: the caller's check names what is missing).
    private static void awaitTraces(DefaultMQProducer producer, List<String> topics, List<String> ids, long deadline)
        throws Exception {
        for (int i = 0; i < ids.size(); i++) {
            String id = ids.get(i);
            while (true) {
                try {
                    if (!producer.queryMessage(topics.get(i), id, 1, 0, Long.MAX_VALUE).getMessageList().isEmpty()) {
                        break;
                    }
                } catch (Exception e) {
                    // Not indexed yet: the query answers "no message".
                }
                if (System.currentTimeMillis() >= deadline) {
                    System.err.println("oracle: no trace of " + id + " found before shutting down");
                    return;
                }
                Thread.sleep(200);
            }
        }
    }

    // --------------------------------------------------------------------------------- consume

    /**
     * The consumer side of tests/bench/consumer.sh: counts deliveries only (the listener does no
     * work, as on our side), and reads its own CPU time and peak RSS the way our side does.
     */
    private static int benchConsume(Args a) throws Exception {
        String topic = a.required("--topic");
        int count = Integer.parseInt(a.required("--count"));
        int threads = Integer.parseInt(a.get("--threads", "20"));
        long timeoutMs = Long.parseLong(a.get("--timeout-ms", "600000"));
        DefaultMQPushConsumer consumer =
            new DefaultMQPushConsumer(a.required("--group"), rpcHook(a), new AllocateMessageQueueAveragely());
        configure(consumer, a);
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.subscribe(topic, "*");
        consumer.setConsumeMessageBatchMaxSize(1);
        consumer.setConsumeThreadMin(threads);
        consumer.setConsumeThreadMax(threads);
        consumer.setPullThresholdForQueue(Integer.parseInt(a.get("--pull-threshold-queue", "1000")));
        com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        java.util.concurrent.atomic.AtomicInteger seen = new java.util.concurrent.atomic.AtomicInteger();
        long[] window = new long[4]; // first nanoTime, first CPU ns, last nanoTime, last CPU ns
        CountDownLatch done = new CountDownLatch(1);
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                int n = seen.incrementAndGet();
                if (n == 1) {
                    window[0] = System.nanoTime();
                    window[1] = os.getProcessCpuTime();
                } else if (n == count) {
                    window[2] = System.nanoTime();
                    window[3] = os.getProcessCpuTime();
                    done.countDown();
                }
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        boolean all = done.await(timeoutMs, TimeUnit.MILLISECONDS);
        long peakRssKiB = 0;
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                peakRssKiB = Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        consumer.shutdown();
        if (!all) {
            System.err.println("bench-consume: only " + seen.get() + " of " + count + " deliveries in time");
            return 2;
        }
        double secs = (window[2] - window[0]) / 1e9;
        double counted = count - 1;
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("side", "java");
        o.put("messages", count);
        o.put("threads", threads);
        o.put("secs", secs);
        o.put("rate", counted / secs);
        o.put("cpuSecsPer100k", (window[3] - window[1]) / 1e9 / counted * 100_000);
        o.put("peakRssKiB", peakRssKiB);
        OUT.println(Json.of(o));
        return 0;
    }

    /** What the sending threads of one bench-produce window observed. */
    private static final class Tally {
        final List<Long> latenciesNs = new ArrayList<>();
        long ok;
        long errors;
        long busy;
        Throwable firstError;

        synchronized void success(long startedNs, int messages) {
            latenciesNs.add(System.nanoTime() - startedNs);
            ok += messages;
        }

        synchronized void failure(Throwable e) {
            errors++;
            // The broker's flow control answers SYSTEM_BUSY (code 2), which the client reports as
            // an MQBrokerException with that response code.
            if (e instanceof org.apache.rocketmq.client.exception.MQBrokerException
                && ((org.apache.rocketmq.client.exception.MQBrokerException) e).getResponseCode() == 2) {
                busy++;
            }
            if (firstError == null) {
                firstError = e;
            }
        }
    }

    /** The body bench_producer, go-peer and the other peers send: SIZE bytes of one xorshift sequence. */
    private static byte[] benchBody(int size) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        long seed = 0x2545_f491_4f6c_dd1dL;
        byte[] out = new byte[size];
        for (int i = 0; i < size; i++) {
            seed ^= seed << 13;
            seed ^= seed >>> 7;
            seed ^= seed << 17;
            out[i] = (byte) alphabet.charAt((int) Long.remainderUnsigned(seed, alphabet.length()));
        }
        return out;
    }

    /** Sends until `messages` are acknowledged or `deadlineNs` passes, as `mode` says. */
    private static Tally benchWindow(DefaultMQProducer producer, String topic, byte[] body, String mode, int conc,
                                     int batch, long messages, long deadlineNs, double rate) throws Exception {
        Tally t = new Tally();
        long windowStartNs = System.nanoTime();
        java.util.concurrent.atomic.AtomicLong claimed = new java.util.concurrent.atomic.AtomicLong();
        if (mode.equals("async")) {
            java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(conc);
            while (System.nanoTime() < deadlineNs && claimed.getAndIncrement() < messages) {
                inFlight.acquire();
                long started = System.nanoTime();
                try {
                    producer.send(new Message(topic, body), new org.apache.rocketmq.client.producer.SendCallback() {
                        @Override public void onSuccess(SendResult r) { t.success(started, 1); inFlight.release(); }
                        @Override public void onException(Throwable e) { t.failure(e); inFlight.release(); }
                    });
                } catch (Exception e) {
                    t.failure(e);
                    inFlight.release();
                }
            }
            inFlight.acquire(conc);
            return t;
        }
        int perCall = mode.equals("batch") ? batch : 1;
        Thread[] workers = new Thread[conc];
        for (int w = 0; w < conc; w++) {
            workers[w] = new Thread(() -> {
                long mine;
                while (System.nanoTime() < deadlineNs && (mine = claimed.getAndAdd(perCall)) < messages) {
                    if (rate > 0) {
                        // The call is due when the messages before it are, at `rate` (as bench_producer paces).
                        long dueNs = windowStartNs + (long) (mine / rate * 1e9);
                        for (long wait; (wait = dueNs - System.nanoTime()) > 0; ) {
                            java.util.concurrent.locks.LockSupport.parkNanos(wait);
                        }
                    }
                    long started = System.nanoTime();
                    try {
                        if (perCall == 1) {
                            producer.send(new Message(topic, body));
                        } else {
                            List<Message> msgs = new ArrayList<>(perCall);
                            for (int i = 0; i < perCall; i++) {
                                msgs.add(new Message(topic, body));
                            }
                            producer.send(msgs);
                        }
                        t.success(started, perCall);
                    } catch (Exception e) {
                        t.failure(e);
                    }
                }
            });
            workers[w].start();
        }
        for (Thread w : workers) {
            w.join();
        }
        return t;
    }

    /** The p-th percentile (0..100) of sorted latencies in ms, nearest rank, as go-peer writes it. */
    private static String percentileMs(List<Long> sortedNs, double p) {
        if (sortedNs.isEmpty()) {
            return "-";
        }
        int rank = (int) Math.ceil(sortedNs.size() * p / 100);
        rank = Math.min(Math.max(rank, 1), sortedNs.size());
        return String.format(java.util.Locale.ROOT, "%.3f", sortedNs.get(rank - 1) / 1e6);
    }

    /** A process's utime+stime in seconds from /proc/PID/stat (USER_HZ is 100 on Linux), or -1. */
    private static double procCpuSecs(String pid) {
        try {
            String stat = Files.readString(Paths.get("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
        } catch (Exception e) {
            return -1;
        }
    }

    private static int benchProduce(Args a) throws Exception {
        String topic = a.required("--topic");
        String mode = a.get("--mode", "sync");
        if (!mode.equals("sync") && !mode.equals("async") && !mode.equals("batch")) {
            throw new UsageException("--mode: " + mode + " is not sync, async or batch");
        }
        int conc = Integer.parseInt(a.get("--conc", "1"));
        int batch = Integer.parseInt(a.get("--batch", "32"));
        double rate = Double.parseDouble(a.get("--rate", "0"));
        if (rate > 0 && !mode.equals("sync")) {
            throw new UsageException("--rate paces sync sends only");
        }
        long messages = Long.parseLong(a.get("--messages", "300000"));
        double maxSecs = Double.parseDouble(a.get("--max-secs", "5"));
        double warmupSecs = Double.parseDouble(a.get("--warmup-secs", "4"));
        String brokerPid = a.get("--broker-pid", "");
        if (conc < 1 || batch < 1) {
            throw new UsageException("--conc and --batch must be at least 1");
        }
        byte[] body = benchBody(Integer.parseInt(a.get("--size", "1024")));
        DefaultMQProducer producer = new DefaultMQProducer("GID_bench_java", rpcHook(a));
        configure(producer, a);
        producer.setRetryTimesWhenSendFailed(2);
        producer.start();
        try {
            Tally warm = benchWindow(producer, topic, body, mode, conc, batch, Long.MAX_VALUE,
                System.nanoTime() + (long) (warmupSecs * 1e9), 0);
            if (warm.ok == 0) {
                System.err.println("bench-produce: warm-up sends failed: " + warm.firstError);
                return 1;
            }
            // Resetting the peak RSS to the current RSS (proc(5), clear_refs "5") makes VmHWM this window's.
            boolean peakOk;
            try {
                Files.writeString(Paths.get("/proc/self/clear_refs"), "5");
                peakOk = true;
            } catch (Exception e) {
                peakOk = false;
            }
            com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            double broker0 = brokerPid.isEmpty() ? -1 : procCpuSecs(brokerPid);
            long cpu0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            Tally t = benchWindow(producer, topic, body, mode, conc, batch, messages, t0 + (long) (maxSecs * 1e9), rate);
            double secs = (System.nanoTime() - t0) / 1e9;
            double cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
            double broker1 = brokerPid.isEmpty() ? -1 : procCpuSecs(brokerPid);
            String brokerCpu = broker0 >= 0 && broker1 >= 0 ? String.format(java.util.Locale.ROOT, "%.2f", broker1 - broker0) : "-";
            long hwm = 0;
            if (peakOk) {
                for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
                    if (line.startsWith("VmHWM:")) {
                        hwm = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    }
                }
            }
            if (t.firstError != null) {
                System.err.println("java " + mode + " " + conc + ": " + t.errors + " errors (" + t.busy + " busy); first: " + t.firstError);
            }
            java.util.Collections.sort(t.latenciesNs);
            OUT.println(String.join("\t", a.get("--side", "java"), rate > 0 ? "paced" : mode, String.valueOf(conc), String.valueOf(t.ok),
                String.format(java.util.Locale.ROOT, "%.3f", secs), String.format(java.util.Locale.ROOT, "%.4f", cpu),
                percentileMs(t.latenciesNs, 50), percentileMs(t.latenciesNs, 99), percentileMs(t.latenciesNs, 99.9),
                String.valueOf(hwm), String.valueOf(t.errors), String.valueOf(t.busy), brokerCpu));
            return 0;
        } finally {
            producer.shutdown();
        }
    }

    private static int consume(Args a) throws Exception {
        String topic = a.required("--topic");
        String group = a.required("--group");
        int count = Integer.parseInt(a.get("--count", "1"));
        long timeoutMs = Long.parseLong(a.get("--timeout-ms", "30000"));
        int failTimes = Integer.parseInt(a.get("--fail-times", "0"));
        String allocate = a.get("--allocate", "AVG");
        AllocateMessageQueueStrategy strategy;
        switch (allocate) {
            case "AVG": strategy = new AllocateMessageQueueAveragely(); break;
            case "AVG_BY_CIRCLE": strategy = new AllocateMessageQueueAveragelyByCircle(); break;
            default: throw new UsageException("--allocate wants AVG or AVG_BY_CIRCLE, got " + allocate);
        }
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group, rpcHook(a), strategy);
        configure(consumer, a);
        consumer.setConsumeFromWhere(a.flag("--from-first")
            ? ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET : ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET);
        consumer.subscribe(topic, a.get("--expr", "*"));
        consumer.setConsumeMessageBatchMaxSize(1);

        CountDownLatch latch = new CountDownLatch(count);
        Object lock = new Object();
        int[] done = {0};
        // Returns true if the delivery counts as consumed. Deliveries past --count are handed back
        // (not printed), so that nothing the oracle did not report is acknowledged.
        java.util.function.Function<MessageExt, Boolean> handle = m -> {
            synchronized (lock) {
                if (done[0] >= count) {
                    return false;
                }
                boolean ok = m.getReconsumeTimes() >= failTimes;
                Map<String, Object> o = messageJson(m);
                o.put("result", ok ? "CONSUME_SUCCESS" : "RECONSUME_LATER");
                OUT.println(Json.of(o));
                if (ok) {
                    done[0]++;
                    latch.countDown();
                }
                return ok;
            }
        };
        if (a.flag("--orderly")) {
            consumer.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    if (!handle.apply(m)) {
                        return ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
                    }
                }
                return ConsumeOrderlyStatus.SUCCESS;
            });
        } else {
            consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    if (!handle.apply(m)) {
                        return ConsumeConcurrentlyStatus.RECONSUME_LATER;
                    }
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
        }
        consumer.start();
        boolean all = latch.await(timeoutMs, TimeUnit.MILLISECONDS);
        // Let the listener's return be processed (offset update) before shutdown interrupts the
        // consume threads; otherwise the last message may be delivered again to this group.
        Thread.sleep(500);
        consumer.shutdown();
        if (!all) {
            synchronized (lock) {
                System.err.printf("oracle: timeout after %d ms with %d of %d messages%n", timeoutMs, done[0], count);
            }
            return 2;
        }
        return 0;
    }

    // ------------------------------------------------------------------------------- lite-pull

    private static int litePull(Args a) throws Exception {
        String topic = a.required("--topic");
        String group = a.required("--group");
        int count = Integer.parseInt(a.get("--count", "1"));
        long deadline = System.currentTimeMillis() + Long.parseLong(a.get("--timeout-ms", "30000"));
        if (a.flag("--broadcasting")) {
            // Read once, when LocalFileOffsetStore is loaded: before any consumer exists.
            System.setProperty("rocketmq.client.localOffsetStoreDir", a.required("--offset-dir"));
        }
        DefaultLitePullConsumer consumer = new DefaultLitePullConsumer(group, rpcHook(a));
        configure(consumer, a);
        if (a.flag("--broadcasting")) {
            setBroadcasting(consumer);
            consumer.setInstanceName(a.required("--instance"));
        }
        consumer.setConsumeFromWhere(a.flag("--from-first")
            ? ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET : ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET);
        consumer.setAutoCommit(true);
        consumer.subscribe(topic, "*");
        consumer.start();
        long linger = Long.parseLong(a.get("--linger-ms", "0"));
        int done = 0;
        long end = deadline;
        while (System.currentTimeMillis() < end) {
            for (MessageExt m : consumer.poll(500)) {
                Map<String, Object> o = messageJson(m);
                o.put("result", "POLLED");
                OUT.println(Json.of(o));
                done++;
            }
            if (done >= count && end == deadline) {
                end = System.currentTimeMillis() + linger;
            }
        }
        // Auto-commit writes what earlier polls returned at the start of a later poll (every
        // autoCommitIntervalMillis); shutdown persists what was committed so far.
        consumer.shutdown();
        if (done < count) {
            System.err.printf("oracle: timeout with %d of %d messages%n", done, count);
            return 2;
        }
        return 0;
    }

    /// `MessageModel` moved from `common.protocol.heartbeat` (4.x) to `remoting.protocol.heartbeat`
    /// (5.x): its constant is found by reflection so the oracle builds against both.
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void setBroadcasting(DefaultLitePullConsumer consumer) throws Exception {
        for (java.lang.reflect.Method m : consumer.getClass().getMethods()) {
            if (m.getName().equals("setMessageModel") && m.getParameterCount() == 1) {
                Class model = m.getParameterTypes()[0];
                m.invoke(consumer, Enum.valueOf(model, "BROADCASTING"));
                return;
            }
        }
        throw new IllegalStateException("DefaultLitePullConsumer has no setMessageModel");
    }

    // ------------------------------------------------------------------------------------ view

    private static int view(Args a) throws Exception {
        String topic = a.required("--topic");
        String uniq = a.get("--msg-id", null);
        String offsetId = a.get("--offset-msg-id", null);
        if ((uniq == null) == (offsetId == null)) {
            throw new UsageException("view wants exactly one of --msg-id, --offset-msg-id");
        }
        long deadline = System.currentTimeMillis() + Long.parseLong(a.get("--timeout-ms", "10000"));
        DefaultMQProducer producer = new DefaultMQProducer(a.get("--group", "ORACLE_VIEWER"), rpcHook(a));
        configure(producer, a);
        producer.start();
        try {
            Exception last = null;
            while (System.currentTimeMillis() < deadline) {
                try {
                    MessageExt m = uniq != null
                        ? producer.getDefaultMQProducerImpl().queryMessageByUniqKey(
                            producer.withNamespace(topic), uniq)
                        // Both client versions try the id as an offset id first (VIEW_MESSAGE_BY_ID).
                        : producer.viewMessage(topic, offsetId);
                    if (m != null) {
                        OUT.println(Json.of(messageJson(m)));
                        return 0;
                    }
                } catch (MQClientException e) {
                    last = e; // "query message by key finished, but no message." until indexed
                }
                Thread.sleep(300);
            }
            System.err.println("oracle: message not found: " + (last == null ? "null result" : last.toString()));
            return 2;
        } finally {
            producer.shutdown();
        }
    }

    /**
     * The trace records of a message, found and decoded as `mqadmin queryMsgTraceById` does: trace
     * topic messages by the message id as key, bodies through TraceDataEncoder.decoderFromTraceDataString.
     * Retries until at least --min records (default 1) about the id are found.
     */
    private static int traces(Args a) throws Exception {
        String traceTopic = a.get("--topic", "RMQ_SYS_TRACE_TOPIC");
        String id = a.required("--msg-id");
        int min = Integer.parseInt(a.get("--min", "1"));
        long deadline = System.currentTimeMillis() + Long.parseLong(a.get("--timeout-ms", "20000"));
        DefaultMQProducer producer = new DefaultMQProducer(a.get("--group", "ORACLE_TRACE_VIEWER"), rpcHook(a));
        configure(producer, a);
        producer.start();
        try {
            List<String> lines = new ArrayList<>();
            while (System.currentTimeMillis() < deadline) {
                lines.clear();
                try {
                    for (MessageExt m : producer.queryMessage(traceTopic, id, 64, 0, Long.MAX_VALUE).getMessageList()) {
                        String body = new String(m.getBody(), StandardCharsets.UTF_8);
                        // Record by record, so that each line can show its record's text.
                        for (String record : body.split("\u0002")) {
                        for (org.apache.rocketmq.client.trace.TraceContext c
                            : org.apache.rocketmq.client.trace.TraceDataEncoder.decoderFromTraceDataString(record)) {
                            org.apache.rocketmq.client.trace.TraceBean b = c.getTraceBeans().get(0);
                            if (!id.equals(b.getMsgId())) {
                                continue;
                            }
                            Map<String, Object> o = new LinkedHashMap<>();
                            o.put("type", c.getTraceType().name());
                            o.put("timeStamp", c.getTimeStamp());
                            o.put("regionId", c.getRegionId());
                            o.put("groupName", c.getGroupName());
                            o.put("costTime", c.getCostTime());
                            o.put("success", c.isSuccess());
                            o.put("requestId", c.getRequestId());
                            o.put("contextCode", c.getContextCode());
                            o.put("topic", b.getTopic());
                            o.put("msgId", b.getMsgId());
                            o.put("tags", b.getTags());
                            o.put("keys", b.getKeys());
                            o.put("storeHost", b.getStoreHost());
                            o.put("bodyLength", b.getBodyLength());
                            o.put("msgType", b.getMsgType() == null ? null : b.getMsgType().name());
                            o.put("offsetMsgId", b.getOffsetMsgId());
                            o.put("retryTimes", b.getRetryTimes());
                            o.put("transactionId", b.getTransactionId());
                            o.put("transactionState", b.getTransactionState() == null ? null : b.getTransactionState().name());
                            o.put("fromTransactionCheck", b.isFromTransactionCheck());
                            o.put("traceMessageKeys", m.getKeys());
                            o.put("clientHost", m.getBornHostString());
                            o.put("record", record);
                            lines.add(Json.of(o));
                        }
                        }
                    }
                } catch (MQClientException e) {
                    // "query message by key finished, but no message." until indexed
                }
                if (lines.size() >= min) {
                    break;
                }
                Thread.sleep(300);
            }
            for (String l : lines) {
                OUT.println(l);
            }
            return lines.size() >= min ? 0 : 2;
        } finally {
            producer.shutdown();
        }
    }

    // ---------------------------------------------------------------------------------- shared

    private static void configure(org.apache.rocketmq.client.ClientConfig c, Args a) {
        c.setNamesrvAddr(a.required("--namesrv"));
        if (a.has("--access-channel")) {
            // Where message traces go: LOCAL (the trace topic) or CLOUD (rmq_sys_TRACE_DATA_<region>).
            c.setAccessChannel(org.apache.rocketmq.client.AccessChannel.valueOf(a.get("--access-channel")));
        }
        if (a.flag("--tls")) {
            c.setUseTLS(true);
        }
        if (a.has("--namespace")) {
            c.setNamespace(a.get("--namespace"));
        }
    }

    private static RPCHook rpcHook(Args a) {
        if (!a.has("--access-key")) {
            return null;
        }
        return new AclClientRPCHook(new SessionCredentials(a.get("--access-key"), a.required("--secret-key")));
    }

    private static Map<String, Object> messageJson(MessageExt m) {
        Map<String, Object> o = new LinkedHashMap<>();
        String uniq = m.getProperty("UNIQ_KEY");
        String offsetId = m instanceof MessageClientExt ? ((MessageClientExt) m).getOffsetMsgId() : m.getMsgId();
        o.put("msgId", uniq != null ? uniq : m.getMsgId());
        o.put("offsetMsgId", offsetId);
        o.put("topic", m.getTopic());
        o.put("tags", m.getTags());
        o.put("keys", m.getKeys());
        o.put("bodyHex", m.getBody() == null ? null : HexFormat.of().formatHex(m.getBody()));
        o.put("bodyLength", m.getBody() == null ? 0 : m.getBody().length);
        o.put("properties", new TreeMap<>(m.getProperties()));
        o.put("reconsumeTimes", m.getReconsumeTimes());
        o.put("queueId", m.getQueueId());
        o.put("queueOffset", m.getQueueOffset());
        o.put("bornTimestamp", m.getBornTimestamp());
        o.put("storeTimestamp", m.getStoreTimestamp());
        o.put("bornHost", host(m.getBornHost()));
        o.put("storeHost", host(m.getStoreHost()));
        o.put("commitLogOffset", m.getCommitLogOffset());
        o.put("sysFlag", m.getSysFlag());
        o.put("bodyCRC", m.getBodyCRC());
        o.put("brokerName", m.getBrokerName());
        return o;
    }

    private static String host(SocketAddress sa) {
        if (sa instanceof InetSocketAddress) {
            InetSocketAddress i = (InetSocketAddress) sa;
            return (i.getAddress() != null ? i.getAddress().getHostAddress() : i.getHostString()) + ":" + i.getPort();
        }
        return sa == null ? null : sa.toString();
    }

    // ------------------------------------------------------------------------------- utilities

    static final class UsageException extends RuntimeException {
        UsageException(String m) {
            super(m);
        }
    }

    /** --key value options (repeatable) and bare --flags. */
    static final class Args {
        private static final java.util.Set<String> FLAGS = java.util.Set.of("--broadcasting", "--from-first", "--orderly", "--tls", "--trace");
        private final Map<String, List<String>> values = new LinkedHashMap<>();

        Args(String[] argv, int from) {
            for (int i = from; i < argv.length; i++) {
                String k = argv[i];
                if (!k.startsWith("--")) {
                    throw new UsageException("unexpected argument " + k);
                }
                if (FLAGS.contains(k)) {
                    values.computeIfAbsent(k, x -> new ArrayList<>()).add("true");
                } else {
                    if (i + 1 >= argv.length) {
                        throw new UsageException(k + " needs a value");
                    }
                    values.computeIfAbsent(k, x -> new ArrayList<>()).add(argv[++i]);
                }
            }
        }

        boolean has(String k) {
            return values.containsKey(k);
        }

        boolean flag(String k) {
            return values.containsKey(k);
        }

        String get(String k) {
            List<String> v = values.get(k);
            return v == null ? null : v.get(v.size() - 1);
        }

        String get(String k, String dflt) {
            String v = get(k);
            return v == null ? dflt : v;
        }

        String required(String k) {
            String v = get(k);
            if (v == null) {
                throw new UsageException("missing " + k);
            }
            return v;
        }

        List<String> all(String k) {
            return values.getOrDefault(k, List.of());
        }
    }

    /** Minimal JSON writer: maps, strings, numbers, booleans, null. */
    static final class Json {
        static String of(Object v) {
            StringBuilder sb = new StringBuilder();
            write(sb, v);
            return sb.toString();
        }

        private static void write(StringBuilder sb, Object v) {
            if (v == null) {
                sb.append("null");
            } else if (v instanceof Map) {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    if (!first) {
                        sb.append(',');
                    }
                    first = false;
                    str(sb, String.valueOf(e.getKey()));
                    sb.append(':');
                    write(sb, e.getValue());
                }
                sb.append('}');
            } else if (v instanceof Number || v instanceof Boolean) {
                sb.append(v);
            } else {
                str(sb, v.toString());
            }
        }

        private static void str(StringBuilder sb, String s) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"': sb.append("\\\""); break;
                    case '\\': sb.append("\\\\"); break;
                    case '\n': sb.append("\\n"); break;
                    case '\r': sb.append("\\r"); break;
                    case '\t': sb.append("\\t"); break;
                    default:
                        if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                            sb.append(String.format("\\u%04x", (int) c));
                        } else {
                            sb.append(c);
                        }
                }
            }
            sb.append('"');
        }
    }

    private Oracle() {
    }
}
