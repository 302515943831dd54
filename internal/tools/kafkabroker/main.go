// Command kafkabroker runs a one-node Kafka-protocol broker (franz-go's
// kfake) as a program, so built collectors can be pointed at it without a
// Kafka installation:
//
//	go run ./internal/tools/kafkabroker -addr 127.0.0.1:9092 -data-dir /tmp/kafka -topic intune-connector-events -partitions 4
//
// It prints "listening on ADDR" on stdout once it accepts connections, and
// stops on SIGINT or SIGTERM. With -data-dir the topic's messages and the
// consumer groups' committed offsets are kept there, so a broker started
// again with the same directory comes back with its data. It is a test and
// benchmark stand-in: one node, no replication.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

type options struct {
	addr       string
	dataDir    string
	topic      string
	partitions int
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:9092", "listen address on 127.0.0.1 (port 0 picks a free port)")
	flag.StringVar(&o.dataDir, "data-dir", "", "keep messages and committed offsets in this directory (default: in memory)")
	flag.StringVar(&o.topic, "topic", "intune-connector-events", "topic to create on the first start (empty: none)")
	flag.IntVar(&o.partitions, "partitions", 4, "partitions of -topic")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kafkabroker:", err)
		os.Exit(2)
	}
}

// run serves until ctx ends, announcing the address on out.
func run(ctx context.Context, o options, out io.Writer) error {
	host, p, err := net.SplitHostPort(o.addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", o.addr, err)
	}
	// kfake listens on 127.0.0.1 only.
	if host != "127.0.0.1" && host != "localhost" {
		return fmt.Errorf("-addr %q: the broker listens on 127.0.0.1 only", o.addr)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return fmt.Errorf("-addr %q: not a port number", o.addr)
	}
	if o.topic != "" && o.partitions < 1 {
		return errors.New("-partitions: must be at least 1")
	}
	opts := []kfake.Opt{kfake.Ports(port)}
	if o.dataDir != "" {
		opts = append(opts, kfake.DataDir(o.dataDir))
	}
	if o.topic != "" {
		opts = append(opts, kfake.SeedTopics(int32(o.partitions), o.topic))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "listening on %s\n", c.ListenAddrs()[0])
	<-ctx.Done()
	c.Close()
	return nil
}
