// Command go-peer is the Go client's side of the project's benchmarks (tests/bench/producer.sh
// and tests/bench/consumer.sh): github.com/apache/rocketmq-client-go/v2 measured the way
// tests/src/bin/bench_producer.rs and bench_consumer.rs measure rocketmq-ons, so the scripts can
// print the three clients side by side.
//
// Subcommands:
//
//	produce --namesrv A --topic T --mode sync|async|batch [--conc N] [--messages 300000]
//	        [--max-secs 5] [--size 1024] [--batch 32] [--broker-pid PID]
//	    One phase: sync = N goroutines each calling SendSync; async = SendAsync with at most N
//	    in flight; batch = N goroutines each calling SendSync with --batch messages. A warm-up
//	    (route lookup, connections) is not measured, as on our side. Prints one tab-separated
//	    record:
//	    go MODE CONC msgs secs cpu_s p50_ms p99_ms p99.9_ms vmhwm_kb errors busy broker_cpu_s
//	    where cpu_s is getrusage(RUSAGE_SELF) over the measured window, latencies are per call
//	    (per batch for batch), VmHWM is reset after the warm-up (/proc/self/clear_refs), and
//	    broker_cpu_s is the broker process's utime+stime over the window ("-" without a pid).
//	drain --namesrv A --topic T --group G --messages N [--threads 20] [--cache-per-queue 1000]
//	      [--max-secs 600]
//	    A push consumer of a new group reads T from its first offset until N messages were
//	    delivered, then prints one JSON line like the other consumers of consumer.sh: the clock
//	    and the CPU count run from the first delivery to the N-th.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
	"github.com/apache/rocketmq-client-go/v2/rlog"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go-peer produce|drain ... (see the source header)")
		os.Exit(2)
	}
	// The client logs every rebalance and connection at info level; records go to stdout, and
	// only errors should reach stderr.
	rlog.SetLogLevel("error")
	var err error
	switch os.Args[1] {
	case "produce":
		err = produce(os.Args[2:])
	case "drain":
		err = drain(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-peer %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// cpuSecs is the process's user+system CPU time, as getrusage(RUSAGE_SELF) reports it.
func cpuSecs() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// statusKB reads a "Key:   N kB" line of /proc/PID/status.
func statusKB(pid, key string) int64 {
	data, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// procCPUSecs is another process's utime+stime from /proc/PID/stat. Linux reports them in
// USER_HZ ticks, which is 100 on every architecture Go targets (proc(5)).
func procCPUSecs(pid int) (float64, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces; the fields after it start at its ')'.
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseFloat(fields[11], 64)
	stime, err2 := strconv.ParseFloat(fields[12], 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return (utime + stime) / 100, true
}

// body is SIZE alphanumeric bytes from the same xorshift sequence bench_producer uses.
func body(size int) []byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	seed := uint64(0x2545_f491_4f6c_dd1d)
	out := make([]byte, size)
	for i := range out {
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		out[i] = alphabet[seed%uint64(len(alphabet))]
	}
	return out
}

// ---------------------------------------------------------------------------------- produce

// tally is what one goroutine (or the async callbacks, under mu) observed.
type tally struct {
	mu         sync.Mutex
	latencies  []time.Duration
	ok         int
	errors     int
	busy       int
	firstError error
}

func (t *tally) success(started time.Time, messages int) {
	t.latencies = append(t.latencies, time.Since(started))
	t.ok += messages
}

func (t *tally) failure(err error) {
	t.errors++
	// The broker's flow control answers SYSTEM_BUSY (code 2); the client reports a broker's
	// answer as "CODE: 2, DESC: <remark>" (or "CODE: 2  DESC: ...").
	msg := strings.ToLower(err.Error())
	if strings.Contains(msg, "busy") || strings.Contains(msg, "code: 2,") || strings.Contains(msg, "code: 2 ") {
		t.busy++
	}
	if t.firstError == nil {
		t.firstError = err
	}
}

func (t *tally) merge(o *tally) {
	t.latencies = append(t.latencies, o.latencies...)
	t.ok += o.ok
	t.errors += o.errors
	t.busy += o.busy
	if t.firstError == nil {
		t.firstError = o.firstError
	}
}

// percentileMs is the p-th percentile (0..100) of sorted latencies in ms, nearest rank.
func percentileMs(sorted []time.Duration, p float64) string {
	if len(sorted) == 0 {
		return "-"
	}
	rank := int(float64(len(sorted))*p/100 + 0.999999999)
	rank = min(max(rank, 1), len(sorted))
	return fmt.Sprintf("%.3f", float64(sorted[rank-1].Microseconds())/1000)
}

// load is what a phase sends: up to messages, until deadline.
type load struct {
	sender   rocketmq.Producer
	topic    string
	body     []byte
	messages int
	deadline time.Time
}

func (l *load) message() *primitive.Message { return primitive.NewMessage(l.topic, l.body) }

// runWorkers runs workers goroutines, each sending batches of perCall messages (a single
// message when perCall is 1) with SendSync until the load is sent or its time is up.
func runWorkers(l *load, workers, perCall int) *tally {
	var next atomic.Int64
	results := make([]*tally, workers)
	var wg sync.WaitGroup
	for w := range workers {
		t := &tally{}
		results[w] = t
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(int64(perCall))-int64(perCall) < int64(l.messages) && time.Now().Before(l.deadline) {
				msgs := make([]*primitive.Message, perCall)
				for i := range msgs {
					msgs[i] = l.message()
				}
				started := time.Now()
				if _, err := l.sender.SendSync(context.Background(), msgs...); err != nil {
					t.failure(err)
				} else {
					t.success(started, perCall)
				}
			}
		}()
	}
	wg.Wait()
	all := &tally{}
	for _, t := range results {
		all.merge(t)
	}
	return all
}

// runAsync issues SendAsync from one goroutine with at most window sends in flight.
func runAsync(l *load, window int) *tally {
	t := &tally{}
	slots := make(chan struct{}, window)
	for i := 0; i < l.messages && time.Now().Before(l.deadline); i++ {
		slots <- struct{}{}
		started := time.Now()
		err := l.sender.SendAsync(context.Background(), func(_ context.Context, _ *primitive.SendResult, err error) {
			t.mu.Lock()
			if err != nil {
				t.failure(err)
			} else {
				t.success(started, 1)
			}
			t.mu.Unlock()
			<-slots
		}, l.message())
		if err != nil {
			t.mu.Lock()
			t.failure(err)
			t.mu.Unlock()
			<-slots
		}
	}
	for range window {
		slots <- struct{}{}
	}
	return t
}

// clusterFlags is a subcommand's flag set with the flags every subcommand takes: where the
// cluster is and which topic to use.
func clusterFlags(name string) (fs *flag.FlagSet, namesrv, topic *string) {
	fs = flag.NewFlagSet(name, flag.ContinueOnError)
	namesrv = fs.String("namesrv", "", "name server address(es), ';'-separated (required)")
	topic = fs.String("topic", "", "topic (required)")
	return fs, namesrv, topic
}

// parseFlags parses args into fs and checks that the required flags were given.
func parseFlags(fs *flag.FlagSet, args []string, required ...string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, name := range required {
		if fs.Lookup(name).Value.String() == "" {
			return fmt.Errorf("--%s is required", name)
		}
	}
	return nil
}

func produce(args []string) error {
	fs, namesrv, topic := clusterFlags("produce")
	mode := fs.String("mode", "sync", "sync, async or batch")
	conc := fs.Int("conc", 1, "sync: goroutines; async: sends in flight; batch: goroutines")
	messages := fs.Int("messages", 300_000, "messages at most")
	maxSecs := fs.Float64("max-secs", 5, "seconds at most")
	size := fs.Int("size", 1024, "body bytes")
	batch := fs.Int("batch", 32, "messages per batch (batch mode)")
	brokerPid := fs.Int("broker-pid", 0, "broker process whose CPU time to report")
	if err := parseFlags(fs, args, "namesrv", "topic"); err != nil {
		return err
	}
	if *conc < 1 || *batch < 1 {
		return errors.New("--conc and --batch must be at least 1")
	}
	run := func(l *load) *tally {
		switch *mode {
		case "async":
			return runAsync(l, *conc)
		case "batch":
			return runWorkers(l, *conc, *batch)
		default:
			return runWorkers(l, *conc, 1)
		}
	}
	if *mode != "sync" && *mode != "async" && *mode != "batch" {
		return fmt.Errorf("--mode: %q is not sync, async or batch", *mode)
	}

	p, err := rocketmq.NewProducer(
		producer.WithNameServer(strings.Split(*namesrv, ";")),
		producer.WithGroupName("GID_bench_go"),
		producer.WithRetry(2),
	)
	if err != nil {
		return err
	}
	if err := p.Start(); err != nil {
		return err
	}
	defer func() { _ = p.Shutdown() }()
	payload := body(*size)

	// Warm-up as bench_producer's: max(200, 4 x in flight) messages, not measured.
	warmCount := max(200, *conc*4)
	warm := run(&load{p, *topic, payload, warmCount, time.Now().Add(10 * time.Second)})
	if warm.ok == 0 {
		return fmt.Errorf("warm-up sends failed: %v", warm.firstError)
	}

	// Resetting the peak RSS to the current RSS (proc(5), clear_refs "5") makes VmHWM this phase's.
	peakOK := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	broker0, brokerOK0 := procCPUSecs(*brokerPid)
	cpu0 := cpuSecs()
	t0 := time.Now()
	t := run(&load{p, *topic, payload, *messages, t0.Add(time.Duration(*maxSecs * float64(time.Second)))})
	secs := time.Since(t0).Seconds()
	cpu := cpuSecs() - cpu0
	brokerCPU := "-"
	if broker1, ok := procCPUSecs(*brokerPid); ok && brokerOK0 && *brokerPid > 0 {
		brokerCPU = fmt.Sprintf("%.2f", broker1-broker0)
	}
	var hwm int64
	if peakOK {
		hwm = statusKB("self", "VmHWM")
	}
	if t.firstError != nil {
		fmt.Fprintf(os.Stderr, "go %s %d: %d errors (%d busy); first: %v\n", *mode, *conc, t.errors, t.busy, t.firstError)
	}
	sort.Slice(t.latencies, func(i, j int) bool { return t.latencies[i] < t.latencies[j] })
	fmt.Printf("go\t%s\t%d\t%d\t%.3f\t%.4f\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n",
		*mode, *conc, t.ok, secs, cpu,
		percentileMs(t.latencies, 50), percentileMs(t.latencies, 99), percentileMs(t.latencies, 99.9),
		hwm, t.errors, t.busy, brokerCPU)
	return nil
}

// ---------------------------------------------------------------------------------- drain

func drain(args []string) error {
	fs, namesrv, topic := clusterFlags("drain")
	group := fs.String("group", "", "consumer group (a new one reads from the first offset)")
	total := fs.Int("messages", 200_000, "deliveries to wait for")
	threads := fs.Int("threads", 20, "listener goroutines (ConsumeGoroutineNums)")
	perQueue := fs.Int64("cache-per-queue", 1000, "PullThresholdForQueue")
	maxSecs := fs.Int("max-secs", 600, "give up after this many seconds")
	if err := parseFlags(fs, args, "namesrv", "topic", "group"); err != nil {
		return err
	}
	if *total < 2 {
		return errors.New("--messages must be at least 2 (the first delivery opens the window)")
	}
	c, err := rocketmq.NewPushConsumer(
		consumer.WithNameServer(strings.Split(*namesrv, ";")),
		consumer.WithGroupName(*group),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
		consumer.WithConsumeGoroutineNums(*threads),
		consumer.WithPullThresholdForQueue(*perQueue),
		// One message per listener call, as the Java side (setConsumeMessageBatchMaxSize(1)).
		consumer.WithConsumeMessageBatchMaxSize(1),
	)
	if err != nil {
		return err
	}
	var seen atomic.Int64
	// When the first and the N-th delivery happened, with the process's CPU seconds then
	// (written by listener goroutines, read after done).
	var windowMu sync.Mutex
	var first, last struct {
		at  time.Time
		cpu float64
	}
	done := make(chan struct{})
	err = c.Subscribe(*topic, consumer.MessageSelector{}, func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range msgs {
			_ = len(m.Body)
			switch n := seen.Add(1); {
			case n == 1:
				windowMu.Lock()
				first.at, first.cpu = time.Now(), cpuSecs()
				windowMu.Unlock()
			case n == int64(*total):
				windowMu.Lock()
				last.at, last.cpu = time.Now(), cpuSecs()
				windowMu.Unlock()
				close(done)
			}
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		return err
	}
	if err := c.Start(); err != nil {
		return err
	}
	finished := true
	select {
	case <-done:
	case <-time.After(time.Duration(*maxSecs) * time.Second):
		finished = false
	}
	peak := statusKB("self", "VmHWM")
	_ = c.Shutdown()
	if !finished {
		return fmt.Errorf("only %d of %d messages arrived within %ds", seen.Load(), *total, *maxSecs)
	}
	windowMu.Lock()
	defer windowMu.Unlock()
	// The first delivery opens the window, so total - 1 messages are inside it.
	secs := last.at.Sub(first.at).Seconds()
	counted := float64(*total - 1)
	out, err := json.Marshal(map[string]any{
		"side":           "go",
		"messages":       *total,
		"threads":        *threads,
		"secs":           secs,
		"rate":           counted / secs,
		"cpuSecsPer100k": (last.cpu - first.cpu) / counted * 100_000,
		"peakRssKiB":     peak,
	})
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}
