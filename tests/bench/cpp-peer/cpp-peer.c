/*
 * cpp-peer: the C++ client's side of the project's benchmarks, next to tests/bench/go-peer.
 * It drives librocketmq.so as bundled in the PyPI wheel rocketmq==0.4.4 (the Apache
 * rocketmq-client-cpp C API) the way go-peer drives github.com/apache/rocketmq-client-go/v2,
 * with the same command line and the same output, so the benchmark scripts can put the C++
 * client in the same table.
 *
 * Build (installs the wheel into LEGACY_VENV, default /tmp/rocketmq-legacy-venv, if needed):
 *
 *     tests/bench/cpp-peer/build.sh OUT       # e.g. target/bench/cpp-peer
 *
 * Subcommands (exactly go-peer's):
 *
 *     produce --namesrv A --topic T --mode sync|async|batch [--conc N] [--messages 300000]
 *             [--max-secs 5] [--size 1024] [--batch 32] [--broker-pid PID]
 *         One phase: sync = N threads each calling SendMessageSync; async = SendMessageAsync
 *         from one thread with at most N in flight. A warm-up of max(200, 4 x N) messages
 *         (route lookup, connections) is not measured. Prints one tab-separated record:
 *         cpp MODE CONC msgs secs cpu_s p50_ms p99_ms p99.9_ms vmhwm_kb errors busy broker_cpu_s
 *         where cpu_s is getrusage(RUSAGE_SELF) over the measured window, latencies are per
 *         call (nearest rank), VmHWM is reset after the warm-up (/proc/self/clear_refs), and
 *         broker_cpu_s is the broker process's utime+stime over the window ("-" without a pid).
 *         batch exits with status 1 and says why on stderr, printing no record: this client's
 *         SendBatchMessage does not send a batch a broker unpacks. It sends the encoded batch
 *         with request code SEND_MESSAGE and the header field batch as "1"
 *         (src/protocol/CommandHeader.cpp writes UtilAll::to_string(bool), 1.2.3 to 2.2.0); the
 *         broker reads that field with Boolean.parseBoolean, so "1" is false, and it stores the
 *         whole batch as ONE message: 32 messages sent this way are one queue entry whose body
 *         is the batch encoding, and a consumer gets one message. (Measured against 5.3.3:
 *         17 calls of 32 messages left 17 queue entries.) A record would count messages that
 *         are never delivered.
 *     drain --namesrv A --topic T --group G --messages N [--threads 20] [--cache-per-queue 1000]
 *           [--max-secs 600]
 *         A push consumer of a new group reads T from its first offset until N messages were
 *         delivered, then prints one JSON line like go-peer's, with "side":"cpp": the clock and
 *         the CPU count run from the first delivery to the N-th.
 *
 * Exit status 0 with the record on stdout; 1 with a message on stderr when the phase could
 * not run (bad flags, producer/consumer start failure, warm-up failed, drain incomplete).
 *
 * The library is the client the wheel was built from, not a tagged release: it exports the
 * C API of apache/rocketmq-client-cpp 1.2.3 (GetLatestErrorMessage is there; SendAsync with user data, CreateOrderlyProducer and
 * SetPushConsumerMaxCacheMessageSize of 1.2.4+ are not). The declarations below are our own,
 * written against that version's public headers (include/CCommon.h, CMessage.h,
 * CMessageExt.h, CSendResult.h, CMQException.h, CProducer.h,
 * CPushConsumer.h, CErrorMessage.h, ConsumeType.h, DefaultMQPushConsumer.h); the struct
 * layouts there are the same from 1.2.0 to 2.0.0, and the wheel's CSendCallback copies
 * exactly 272 bytes (CSendResult) and 904 bytes (CMQException) by value to the callbacks.
 *
 * Where the C API of that version has no setter, the C++ method of the public
 * DefaultMQPushConsumer.h is called on the handle: CreatePushConsumer returns a
 * rocketmq::DefaultMQPushConsumer* cast to CPushConsumer* (src/extern/CPushConsumer.cpp),
 * and the library exports the methods. That sets ConsumeFromWhere to CONSUME_FROM_FIRST_OFFSET
 * (the C API's default is CONSUME_FROM_LAST_OFFSET) and the per-queue cache bound.
 *
 * The producer (group GID_bench_cpp) keeps the client's defaults (DefaultMQProducer.cpp):
 * 3 s send timeout, a sync send tried up to 5 times (go-peer's client: 3), an async one once,
 * bodies over 4 KiB compressed (not the benchmarks' 1 KiB). Under concurrent sync sends this
 * client now and then fails a few sends with "No route info of this topic" although the topic
 * has been routed for minutes (seen with 8 threads against 5.3.3: 8 of 20000; cause not
 * investigated); such sends count in the errors column like any other failure.
 *
 * Logs: the library writes ~/logs/rocketmq-cpp/<pid>_rocketmq-cpp.log.N; the level is errors
 * only unless CPP_PEER_LOG_LEVEL says otherwise (CLogLevel: 1 fatal ... 4 info, 5 debug, 6 trace).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ the library's C API */

/* Opaque handles (CProducer.h, CPushConsumer.h, CMessage.h, CMessageExt.h). */
typedef struct CProducer CProducer;
typedef struct CPushConsumer CPushConsumer;
typedef struct CMessage CMessage;
typedef struct CMessageExt CMessageExt;

/* CCommon.h: CStatus OK, CLogLevel E_LOG_LEVEL_ERROR, MAX_MESSAGE_ID_LENGTH. */
enum { C_STATUS_OK = 0, C_LOG_LEVEL_ERROR = 2, C_MAX_MESSAGE_ID_LENGTH = 256 };

/* CSendResult.h */
typedef struct {
  int sendStatus; /* CSendStatus: 0 = E_SEND_OK */
  char msgId[C_MAX_MESSAGE_ID_LENGTH];
  long long offset;
} CSendResult;

/* CMQException.h (MAX_EXEPTION_FILE_LENGTH 256, _MSG_LENGTH 512, _TYPE_LENGTH 128) */
typedef struct {
  int error;
  int line;
  char file[256];
  char msg[512];
  char type[128];
} CMQException;

typedef void (*CSendSuccessCallback)(CSendResult result);
typedef void (*CSendExceptionCallback)(CMQException e);
/* CPushConsumer.h: returns a CConsumeStatus, E_CONSUME_SUCCESS = 0. */
typedef int (*MessageCallBack)(CPushConsumer *, CMessageExt *);
enum { C_CONSUME_SUCCESS = 0 };

/* CMessage.h */
CMessage *CreateMessage(const char *topic);
int DestroyMessage(CMessage *msg);
int SetByteMessageBody(CMessage *msg, const char *body, int len);
/* CMessageExt.h. Declared on CMessageExt*, implemented as rocketmq::MQMessage::getProperty on
 * the handle (src/extern/CMessageExt.cpp); a CMessage* is such an MQMessage, so it reads the
 * property a send set on our message (see async_send). */
const char *GetMessageProperty(void *msg, const char *key);
const char *GetMessageBody(CMessageExt *msg);
/* CProducer.h */
CProducer *CreateProducer(const char *group);
int DestroyProducer(CProducer *producer);
int StartProducer(CProducer *producer);
int ShutdownProducer(CProducer *producer);
int SetProducerNameServerAddress(CProducer *producer, const char *namesrv);
int SetProducerLogLevel(CProducer *producer, int level);
int SendMessageSync(CProducer *producer, CMessage *msg, CSendResult *result);
int SendMessageAsync(CProducer *producer, CMessage *msg, CSendSuccessCallback on_success,
                     CSendExceptionCallback on_exception);
/* CPushConsumer.h */
CPushConsumer *CreatePushConsumer(const char *group);
int DestroyPushConsumer(CPushConsumer *consumer);
int StartPushConsumer(CPushConsumer *consumer);
int ShutdownPushConsumer(CPushConsumer *consumer);
int SetPushConsumerNameServerAddress(CPushConsumer *consumer, const char *namesrv);
int Subscribe(CPushConsumer *consumer, const char *topic, const char *expression);
int RegisterMessageCallback(CPushConsumer *consumer, MessageCallBack callback);
int SetPushConsumerThreadCount(CPushConsumer *consumer, int threads);
int SetPushConsumerMessageBatchMaxSize(CPushConsumer *consumer, int size);
int SetPushConsumerLogLevel(CPushConsumer *consumer, int level);
/* CErrorMessage.h: the calling thread's last error text (set by SendMessageSync on failure). */
const char *GetLatestErrorMessage(void);

/* DefaultMQPushConsumer.h: void setConsumeFromWhere(ConsumeFromWhere) and
 * void setMaxCacheMsgSizePerQueue(int), called with the handle as `this` (Itanium C++ ABI:
 * a non-virtual member function takes `this` as its first argument; the enum is an int). */
void consumer_set_consume_from_where(CPushConsumer *self, int where) __asm__(
    "_ZN8rocketmq21DefaultMQPushConsumer19setConsumeFromWhereENS_16ConsumeFromWhereE");
void consumer_set_max_cache_per_queue(CPushConsumer *self, int messages) __asm__(
    "_ZN8rocketmq21DefaultMQPushConsumer26setMaxCacheMsgSizePerQueueEi");
/* ConsumeType.h: enum ConsumeFromWhere { LAST_OFFSET, LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST,
 * MIN_OFFSET, MAX_OFFSET, FIRST_OFFSET, TIMESTAMP }. */
enum { CONSUME_FROM_FIRST_OFFSET = 4 };

/* MQMessage.cpp: PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX, the id a send gives a message, which is
 * the msgId its CSendResult carries (MQClientAPIImpl::processSendResponse). */
static const char UNIQ_KEY[] = "UNIQ_KEY";

/* ---------------------------------------------------------------------------- helpers */

static void die(const char *sub, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "cpp-peer %s: ", sub);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

/* The library's log level: CPP_PEER_LOG_LEVEL, or errors only. */
static int log_level(void) {
  const char *v = getenv("CPP_PEER_LOG_LEVEL");
  int level = v ? atoi(v) : 0;
  return level >= 1 && level <= 6 ? level : C_LOG_LEVEL_ERROR;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The process's user+system CPU time, as getrusage(RUSAGE_SELF) reports it. */
static double cpu_secs(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* A "Key:   N kB" line of /proc/self/status. */
static long long status_kb(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  size_t klen = strlen(key);
  long long value = 0;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
      value = strtoll(line + klen + 1, NULL, 10);
      break;
    }
  }
  fclose(f);
  return value;
}

/* Another process's utime+stime from /proc/PID/stat (fields 14 and 15, in clock ticks). */
static int proc_cpu_secs(long pid, double *out) {
  if (pid <= 0) return 0;
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  /* The command name (field 2) may hold spaces; the fields after it start at its ')'. */
  char *p = strrchr(buf, ')');
  if (!p) return 0;
  unsigned long long utime, stime;
  if (sscanf(p + 1, " %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &utime, &stime) != 2)
    return 0;
  *out = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
  return 1;
}

/* SIZE alphanumeric bytes from the xorshift sequence bench_producer and go-peer use. */
static char *make_body(int size) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  uint64_t seed = 0x2545f4914f6cdd1dULL;
  char *out = malloc((size_t)size + 1);
  if (!out) die("produce", "out of memory");
  for (int i = 0; i < size; i++) {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    out[i] = alphabet[seed % (sizeof alphabet - 1)];
  }
  out[size] = 0;
  return out;
}

/* ------------------------------------------------------------------------------ flags */

/* One --name value flag; go's flag package also takes -name and --name=value. */
typedef struct {
  const char *name;
  const char *value; /* default, or what was given */
} flag;

static void parse_flags(const char *sub, flag *flags, int count, int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i];
    if (arg[0] != '-') die(sub, "unexpected argument %s", arg);
    arg += arg[1] == '-' ? 2 : 1;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    flag *f = NULL;
    for (int k = 0; k < count; k++)
      if (strlen(flags[k].name) == len && strncmp(flags[k].name, arg, len) == 0) f = &flags[k];
    if (!f) die(sub, "flag provided but not defined: %s", argv[i]);
    if (eq) {
      f->value = eq + 1;
    } else if (i + 1 < argc) {
      f->value = argv[++i];
    } else {
      die(sub, "flag needs an argument: %s", argv[i]);
    }
  }
}

static const char *flag_value(flag *flags, int count, const char *name) {
  for (int k = 0; k < count; k++)
    if (strcmp(flags[k].name, name) == 0) return flags[k].value;
  return NULL;
}

static const char *required(const char *sub, flag *flags, int count, const char *name) {
  const char *v = flag_value(flags, count, name);
  if (!v || !*v) die(sub, "--%s is required", name);
  return v;
}

static long long int_flag(const char *sub, flag *flags, int count, const char *name) {
  const char *v = flag_value(flags, count, name);
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (errno || end == v || *end) die(sub, "invalid value \"%s\" for flag --%s", v, name);
  return n;
}

static double float_flag(const char *sub, flag *flags, int count, const char *name) {
  const char *v = flag_value(flags, count, name);
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (errno || end == v || *end) die(sub, "invalid value \"%s\" for flag --%s", v, name);
  return x;
}

/* ---------------------------------------------------------------------------- produce */

/* What one thread (or the async callbacks, under async_mu) observed. */
typedef struct {
  int64_t *latencies_ns;
  size_t latency_count, latency_cap;
  long long ok, errors, busy;
  char first_error[600];
} tally;

/* A call that delivered `messages` in `latency_ns`. */
static void tally_success(tally *t, int64_t latency_ns, int messages) {
  if (t->latency_count == t->latency_cap) {
    t->latency_cap = t->latency_cap ? t->latency_cap * 2 : 4096;
    t->latencies_ns = realloc(t->latencies_ns, t->latency_cap * sizeof *t->latencies_ns);
    if (!t->latencies_ns) die("produce", "out of memory");
  }
  t->latencies_ns[t->latency_count++] = latency_ns;
  t->ok += messages;
}

/* The broker's flow control answers SYSTEM_BUSY (code 2); the library reports a broker's answer
 * as an MQException whose text is "msg: <remark>,error:<code>,in file <...> line:N". */
static void tally_failure(tally *t, const char *text, int code) {
  t->errors++;
  if (code == 2 || strcasestr(text, "busy") || strstr(text, ",error:2,")) t->busy++;
  if (!t->first_error[0]) snprintf(t->first_error, sizeof t->first_error, "%s", text);
}

static void tally_merge(tally *into, tally *from) {
  for (size_t i = 0; i < from->latency_count; i++) tally_success(into, from->latencies_ns[i], 0);
  into->ok += from->ok;
  into->errors += from->errors;
  into->busy += from->busy;
  if (!into->first_error[0]) memcpy(into->first_error, from->first_error, sizeof into->first_error);
  free(from->latencies_ns);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* The p-th percentile (0..100) of sorted latencies in ms, nearest rank, at µs resolution. */
static void percentile_ms(char *out, size_t size, const int64_t *sorted, size_t n, double p) {
  if (n == 0) {
    snprintf(out, size, "-");
    return;
  }
  long long rank = (long long)((double)n * p / 100 + 0.999999999);
  if (rank < 1) rank = 1;
  if (rank > (long long)n) rank = (long long)n;
  snprintf(out, size, "%.3f", (double)(sorted[rank - 1] / 1000) / 1000);
}

/* What a phase sends: up to `messages`, until `deadline`. */
typedef struct {
  CProducer *producer;
  const char *topic;
  const char *body;
  int size;
  long long messages;
  int64_t deadline;
} load;

static CMessage *new_message(const load *l) {
  CMessage *m = CreateMessage(l->topic);
  if (!m || SetByteMessageBody(m, l->body, l->size) != C_STATUS_OK) die("produce", "CreateMessage failed");
  return m;
}

typedef struct {
  const load *l;
  long long *next; /* messages claimed so far, shared by the workers */
  tally t;
} worker;

static void *worker_run(void *arg) {
  worker *w = arg;
  const load *l = w->l;
  while (__atomic_fetch_add(w->next, 1, __ATOMIC_RELAXED) < l->messages && now_ns() < l->deadline) {
    CSendResult result;
    CMessage *m = new_message(l);
    int64_t started = now_ns();
    int rc = SendMessageSync(l->producer, m, &result);
    int64_t latency = now_ns() - started;
    DestroyMessage(m);
    if (rc == C_STATUS_OK) {
      tally_success(&w->t, latency, 1);
    } else {
      char text[600];
      const char *latest = GetLatestErrorMessage();
      snprintf(text, sizeof text, "SendMessageSync returned status %d%s%s", rc, latest && *latest ? ": " : "",
               latest && *latest ? latest : "");
      tally_failure(&w->t, text, -1);
    }
  }
  return NULL;
}

/* `workers` threads, each calling SendMessageSync until the load is sent or its time is up. */
static tally run_workers(const load *l, int workers) {
  long long next = 0;
  worker *ws = calloc((size_t)workers, sizeof *ws);
  pthread_t *threads = calloc((size_t)workers, sizeof *threads);
  if (!ws || !threads) die("produce", "out of memory");
  for (int i = 0; i < workers; i++) {
    ws[i].l = l;
    ws[i].next = &next;
    if (pthread_create(&threads[i], NULL, worker_run, &ws[i]) != 0) die("produce", "pthread_create failed");
  }
  tally all = {0};
  for (int i = 0; i < workers; i++) {
    pthread_join(threads[i], NULL);
    tally_merge(&all, &ws[i].t);
  }
  free(ws);
  free(threads);
  return all;
}

/*
 * Async sends. The callbacks of this library version carry no user data, only the
 * CSendResult (or CMQException), so a completion is matched to its send by message id:
 * SendMessageAsync gives our message its id (the UNIQ_KEY property) before it returns, and the
 * success result carries that id. The pending table maps ids of sends in flight to their start
 * times; a completion that arrives before the sender registered its id leaves its own entry,
 * which the sender then closes. A failure carries no id: it counts as an error, frees its
 * window slot, and drops the oldest pending send, the one a timeout would have failed.
 */
typedef struct {
  char id[C_MAX_MESSAGE_ID_LENGTH];
  int64_t started;  /* 0 until the sender registered the id */
  int64_t finished; /* 0 until the success callback saw the id */
  int used;
} pending;

static pthread_mutex_t async_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t async_slot_freed = PTHREAD_COND_INITIALIZER;
static int async_in_flight;
static pending *async_table; /* open addressing, linear probing, no tombstones (see below) */
static size_t async_table_size, async_table_used, async_table_bound;
static tally async_tally;
/* Set on the sending thread while it is inside SendMessageAsync: an exception callback there is
 * the library reporting a failed call it also reports by its return status. */
static __thread int inside_async_send, failed_inside_async_send;

static size_t id_hash(const char *id) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *id; id++) h = (h ^ (unsigned char)*id) * 1099511628211ULL;
  return (size_t)h;
}

/* The entry for id, or the free entry where it belongs. Called under async_mu. */
static pending *pending_find(const char *id) {
  size_t mask = async_table_size - 1;
  for (size_t i = id_hash(id) & mask;; i = (i + 1) & mask) {
    pending *p = &async_table[i];
    if (!p->used || strcmp(p->id, id) == 0) return p;
  }
}

/* Removes an entry, moving later entries of its probe run back (no tombstones). Under async_mu. */
static void pending_remove(pending *p) {
  size_t mask = async_table_size - 1;
  size_t hole = (size_t)(p - async_table);
  p->used = 0;
  async_table_used--;
  for (size_t i = (hole + 1) & mask; async_table[i].used; i = (i + 1) & mask) {
    size_t home = id_hash(async_table[i].id) & mask;
    /* Entry i may fill the hole when its home is not cyclically in (hole, i]. */
    int between = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
    if (!between) {
      async_table[hole] = async_table[i];
      async_table[i].used = 0;
      hole = i;
    }
  }
}

/* Claims the free entry p (from pending_find) for id. Under async_mu. */
static void pending_add(pending *p, const char *id, int64_t started, int64_t finished) {
  snprintf(p->id, sizeof p->id, "%s", id);
  p->started = started;
  p->finished = finished;
  p->used = 1;
  async_table_used++;
}

/* Drops the registered send that started first; 0 when there is none. Under async_mu. */
static int pending_drop_oldest(void) {
  pending *oldest = NULL;
  for (size_t i = 0; i < async_table_size; i++) {
    pending *p = &async_table[i];
    if (p->used && p->started && (!oldest || p->started < oldest->started)) oldest = p;
  }
  if (oldest) pending_remove(oldest);
  return oldest != NULL;
}

static void async_slot_done(void) {
  async_in_flight--;
  pthread_cond_signal(&async_slot_freed);
}

static void on_async_success(CSendResult result) {
  int64_t finished = now_ns();
  pthread_mutex_lock(&async_mu);
  pending *p = pending_find(result.msgId);
  if (p->used && p->started) {
    tally_success(&async_tally, finished - p->started, 1);
    pending_remove(p);
  } else {
    /* Faster than the sender's registration: leave the completion time for it. */
    pending_add(p, result.msgId, 0, finished);
  }
  async_slot_done();
  pthread_mutex_unlock(&async_mu);
}

static void on_async_exception(CMQException e) {
  if (inside_async_send) {
    failed_inside_async_send = 1;
    return;
  }
  char text[600];
  snprintf(text, sizeof text, "%.*s (code %d)", 500, e.msg, e.error);
  pthread_mutex_lock(&async_mu);
  tally_failure(&async_tally, text, e.error);
  pending_drop_oldest();
  async_slot_done();
  pthread_mutex_unlock(&async_mu);
}

/* SendMessageAsync from this thread with at most `window` sends in flight. */
static tally run_async(const load *l, int window) {
  /* `window` registered sends and one early completion (only the send being registered can
   * complete early) fit; entries past 2 x window are dropped (see the registration), and a
   * table of at least 4 x window keeps the probe runs short. */
  async_table_size = 64;
  while (async_table_size < (size_t)window * 4) async_table_size *= 2;
  async_table_used = 0;
  async_table_bound = (size_t)window * 2 + 1;
  async_table = calloc(async_table_size, sizeof *async_table);
  if (!async_table) die("produce", "out of memory");
  memset(&async_tally, 0, sizeof async_tally);
  async_in_flight = 0;
  for (long long i = 0; i < l->messages && now_ns() < l->deadline; i++) {
    pthread_mutex_lock(&async_mu);
    while (async_in_flight >= window) pthread_cond_wait(&async_slot_freed, &async_mu);
    async_in_flight++;
    pthread_mutex_unlock(&async_mu);

    CMessage *m = new_message(l);
    inside_async_send = 1;
    failed_inside_async_send = 0;
    int64_t started = now_ns();
    int rc = SendMessageAsync(l->producer, m, on_async_success, on_async_exception);
    inside_async_send = 0;
    char id[C_MAX_MESSAGE_ID_LENGTH];
    const char *uniq = GetMessageProperty(m, UNIQ_KEY);
    snprintf(id, sizeof id, "%s", uniq ? uniq : "");
    DestroyMessage(m); /* the library sends a copy */

    pthread_mutex_lock(&async_mu);
    if (rc != C_STATUS_OK || failed_inside_async_send) {
      char text[600];
      const char *latest = GetLatestErrorMessage();
      snprintf(text, sizeof text, "SendMessageAsync returned status %d%s%s", rc, latest && *latest ? ": " : "",
               latest && *latest ? latest : "");
      tally_failure(&async_tally, text, -1);
      async_slot_done();
    } else if (!id[0]) {
      die("produce", "SendMessageAsync left no %s on the message to match its completion", UNIQ_KEY);
    } else {
      pending *p = pending_find(id);
      if (p->used) { /* completed already */
        tally_success(&async_tally, p->finished - started, 1);
        pending_remove(p);
      } else {
        pending_add(p, id, started, 0);
        /* A failure reported before its send was registered dropped another send, and its
         * own entry never completes: past the bound, the oldest entries go. */
        while (async_table_used > async_table_bound && pending_drop_oldest()) {
        }
      }
    }
    pthread_mutex_unlock(&async_mu);
  }
  pthread_mutex_lock(&async_mu);
  while (async_in_flight > 0) pthread_cond_wait(&async_slot_freed, &async_mu);
  tally t = async_tally;
  memset(&async_tally, 0, sizeof async_tally);
  free(async_table);
  async_table = NULL;
  pthread_mutex_unlock(&async_mu);
  return t;
}

/* One phase: MODE's sends of the load with `conc` threads or sends in flight. */
static tally run_phase(const load *l, const char *mode, int conc) {
  return strcmp(mode, "async") == 0 ? run_async(l, conc) : run_workers(l, conc);
}

static int produce(int argc, char **argv) {
  const char *sub = "produce";
  flag flags[] = {{"namesrv", ""}, {"topic", ""},    {"mode", "sync"}, {"conc", "1"},       {"messages", "300000"},
                  {"max-secs", "5"}, {"size", "1024"}, {"batch", "32"},  {"broker-pid", "0"}};
  int nflags = (int)(sizeof flags / sizeof *flags);
  parse_flags(sub, flags, nflags, argc, argv);
  const char *namesrv = required(sub, flags, nflags, "namesrv");
  const char *topic = required(sub, flags, nflags, "topic");
  const char *mode = flag_value(flags, nflags, "mode");
  long long conc = int_flag(sub, flags, nflags, "conc");
  long long messages = int_flag(sub, flags, nflags, "messages");
  double max_secs = float_flag(sub, flags, nflags, "max-secs");
  long long size = int_flag(sub, flags, nflags, "size");
  long long batch = int_flag(sub, flags, nflags, "batch");
  long long broker_pid = int_flag(sub, flags, nflags, "broker-pid");
  /* --batch is taken for go-peer's command line; batch mode is refused below. */
  if (conc < 1 || batch < 1 || conc > 1000000 || batch > 1000000) die(sub, "--conc and --batch must be between 1 and 1000000");
  if (size < 0 || size > (1 << 30)) die(sub, "--size must be between 0 and 1 GiB");
  if (strcmp(mode, "batch") == 0)
    die(sub,
        "batch is not measured for this client: its SendBatchMessage marks the request batch=\"1\", "
        "which the broker parses as false, so it stores each batch as one message (see the header "
        "of tests/bench/cpp-peer/cpp-peer.c)");
  if (strcmp(mode, "sync") != 0 && strcmp(mode, "async") != 0) die(sub, "--mode: \"%s\" is not sync, async or batch", mode);

  CProducer *p = CreateProducer("GID_bench_cpp");
  if (!p) die(sub, "CreateProducer failed");
  SetProducerNameServerAddress(p, namesrv);
  SetProducerLogLevel(p, log_level());
  if (StartProducer(p) != C_STATUS_OK) die(sub, "StartProducer failed: %s", GetLatestErrorMessage());
  char *payload = make_body((int)size);

  /* Warm-up as bench_producer's: max(200, 4 x in flight) messages, not measured. */
  long long warm_count = conc * 4 > 200 ? conc * 4 : 200;
  load warm_load = {p, topic, payload, (int)size, warm_count, now_ns() + 10 * (int64_t)1000000000};
  tally warm = run_phase(&warm_load, mode, (int)conc);
  if (warm.ok == 0) die(sub, "warm-up sends failed: %s", warm.first_error);
  free(warm.latencies_ns);

  /* Resetting the peak RSS to the current RSS (proc(5), clear_refs "5") makes VmHWM this phase's. */
  FILE *clear = fopen("/proc/self/clear_refs", "w");
  int peak_ok = clear && fputs("5", clear) >= 0;
  if (clear && fclose(clear) != 0) peak_ok = 0;
  double broker0 = 0, broker1 = 0;
  int broker_ok0 = proc_cpu_secs((long)broker_pid, &broker0);
  double cpu0 = cpu_secs();
  int64_t t0 = now_ns();
  load measured = {p, topic, payload, (int)size, messages, t0 + (int64_t)(max_secs * 1e9)};
  tally t = run_phase(&measured, mode, (int)conc);
  double secs = (double)(now_ns() - t0) / 1e9;
  double cpu = cpu_secs() - cpu0;
  char broker_cpu[32] = "-";
  if (broker_ok0 && proc_cpu_secs((long)broker_pid, &broker1)) snprintf(broker_cpu, sizeof broker_cpu, "%.2f", broker1 - broker0);
  long long hwm = peak_ok ? status_kb("VmHWM") : 0;
  if (t.first_error[0])
    fprintf(stderr, "cpp %s %lld: %lld errors (%lld busy); first: %s\n", mode, conc, t.errors, t.busy, t.first_error);
  qsort(t.latencies_ns, t.latency_count, sizeof *t.latencies_ns, cmp_i64);
  char p50[32], p99[32], p999[32];
  percentile_ms(p50, sizeof p50, t.latencies_ns, t.latency_count, 50);
  percentile_ms(p99, sizeof p99, t.latencies_ns, t.latency_count, 99);
  percentile_ms(p999, sizeof p999, t.latencies_ns, t.latency_count, 99.9);
  printf("cpp\t%s\t%lld\t%lld\t%.3f\t%.4f\t%s\t%s\t%s\t%lld\t%lld\t%lld\t%s\n", mode, conc, t.ok, secs, cpu, p50, p99, p999,
         hwm, t.errors, t.busy, broker_cpu);
  fflush(stdout);
  free(t.latencies_ns);
  free(payload);
  ShutdownProducer(p);
  DestroyProducer(p);
  return 0;
}

/* ------------------------------------------------------------------------------ drain */

static long long drain_total;
static long long drain_seen;
/* When the first and the N-th delivery happened, with the process's CPU seconds then. */
static pthread_mutex_t drain_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t drain_done_cond = PTHREAD_COND_INITIALIZER;
static int drain_done;
static int64_t first_at, last_at;
static double first_cpu, last_cpu;

static int on_message(CPushConsumer *consumer, CMessageExt *msg) {
  (void)consumer;
  (void)GetMessageBody(msg);
  long long n = __atomic_add_fetch(&drain_seen, 1, __ATOMIC_RELAXED);
  if (n == 1) {
    pthread_mutex_lock(&drain_mu);
    first_at = now_ns();
    first_cpu = cpu_secs();
    pthread_mutex_unlock(&drain_mu);
  } else if (n == drain_total) {
    pthread_mutex_lock(&drain_mu);
    last_at = now_ns();
    last_cpu = cpu_secs();
    drain_done = 1;
    pthread_cond_signal(&drain_done_cond);
    pthread_mutex_unlock(&drain_mu);
  }
  return C_CONSUME_SUCCESS;
}

static int drain(int argc, char **argv) {
  const char *sub = "drain";
  flag flags[] = {{"namesrv", ""}, {"topic", ""},           {"group", ""},      {"messages", "200000"},
                  {"threads", "20"}, {"cache-per-queue", "1000"}, {"max-secs", "600"}};
  int nflags = (int)(sizeof flags / sizeof *flags);
  parse_flags(sub, flags, nflags, argc, argv);
  const char *namesrv = required(sub, flags, nflags, "namesrv");
  const char *topic = required(sub, flags, nflags, "topic");
  const char *group = required(sub, flags, nflags, "group");
  drain_total = int_flag(sub, flags, nflags, "messages");
  long long threads = int_flag(sub, flags, nflags, "threads");
  long long per_queue = int_flag(sub, flags, nflags, "cache-per-queue");
  long long max_secs = int_flag(sub, flags, nflags, "max-secs");
  if (drain_total < 2) die(sub, "--messages must be at least 2 (the first delivery opens the window)");
  if (threads < 1 || threads > 1000) die(sub, "--threads must be between 1 and 1000");
  /* The library ignores other values (DefaultMQPushConsumer::setMaxCacheMsgSizePerQueue). */
  if (per_queue < 1 || per_queue >= 65535) die(sub, "--cache-per-queue must be between 1 and 65534");

  CPushConsumer *c = CreatePushConsumer(group);
  if (!c) die(sub, "CreatePushConsumer failed");
  SetPushConsumerNameServerAddress(c, namesrv);
  SetPushConsumerLogLevel(c, log_level());
  consumer_set_consume_from_where(c, CONSUME_FROM_FIRST_OFFSET);
  SetPushConsumerThreadCount(c, (int)threads);
  consumer_set_max_cache_per_queue(c, (int)per_queue);
  /* One message per listener call, as the Java side (setConsumeMessageBatchMaxSize(1)). */
  SetPushConsumerMessageBatchMaxSize(c, 1);
  if (Subscribe(c, topic, "*") != C_STATUS_OK) die(sub, "Subscribe failed");
  if (RegisterMessageCallback(c, on_message) != C_STATUS_OK) die(sub, "RegisterMessageCallback failed");
  if (StartPushConsumer(c) != C_STATUS_OK) die(sub, "StartPushConsumer failed: %s", GetLatestErrorMessage());

  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += (time_t)max_secs;
  pthread_mutex_lock(&drain_mu);
  while (!drain_done && pthread_cond_timedwait(&drain_done_cond, &drain_mu, &until) != ETIMEDOUT) {
  }
  int finished = drain_done;
  pthread_mutex_unlock(&drain_mu);
  long long peak = status_kb("VmHWM");
  ShutdownPushConsumer(c);
  DestroyPushConsumer(c);
  if (!finished)
    die(sub, "only %lld of %lld messages arrived within %llds", __atomic_load_n(&drain_seen, __ATOMIC_RELAXED),
        drain_total, max_secs);

  pthread_mutex_lock(&drain_mu);
  /* The first delivery opens the window, so total - 1 messages are inside it. */
  double secs = (double)(last_at - first_at) / 1e9;
  double counted = (double)(drain_total - 1);
  /* The keys in go-peer's order (Go's encoding/json sorts a map's keys). */
  printf("{\"cpuSecsPer100k\":%.17g,\"messages\":%lld,\"peakRssKiB\":%lld,\"rate\":%.17g,\"secs\":%.17g,"
         "\"side\":\"cpp\",\"threads\":%lld}\n",
         (last_cpu - first_cpu) / counted * 100000, drain_total, peak, counted / secs, secs, threads);
  pthread_mutex_unlock(&drain_mu);
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: cpp-peer produce|drain ... (see the source header)\n");
    return 2;
  }
  if (strcmp(argv[1], "produce") == 0) return produce(argc - 2, argv + 2);
  if (strcmp(argv[1], "drain") == 0) return drain(argc - 2, argv + 2);
  fprintf(stderr, "cpp-peer: unknown subcommand \"%s\"\n", argv[1]);
  return 1;
}
