// Package natstest gives tests the external JetStream cluster that ./scripts/test.sh
// starts (scripts/nats-cluster.sh, from the pinned nats-server module): its URL, streams
// of a test's own that are deleted when the test ends, and their state.
package natstest

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// URL returns the cluster's URLs (MAILTRAIL_TEST_NATS_URL). Without them the test skips,
// unless MAILTRAIL_REQUIRE_SERVICES is set (CI), where it fails.
func URL(t testing.TB) string {
	t.Helper()
	return setting(t, "MAILTRAIL_TEST_NATS_URL")
}

// setting returns the environment variable name that scripts/test.sh sets for the
// cluster. Without it the test skips, unless MAILTRAIL_REQUIRE_SERVICES is set (CI),
// where it fails.
func setting(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("MAILTRAIL_REQUIRE_SERVICES") != "" {
			t.Fatal(name + " is not set: start the cluster with scripts/nats-cluster.sh start DIR")
		}
		t.Skip("no external JetStream cluster (scripts/nats-cluster.sh start DIR, then set " + name + ")")
	}
	return v
}

// Stream returns a new stream name, deleted from the cluster at url when the test ends
// (retried for a while: right after a server was killed the cluster may not answer).
func Stream(t testing.TB, url string) string {
	t.Helper()
	name := "T" + nuid.Next()
	t.Cleanup(func() {
		nc, err := nats.Connect(url)
		if err != nil {
			return
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return
		}
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := js.DeleteStream(ctx, name)
			cancel()
			if err == nil || errors.Is(err, jetstream.ErrStreamNotFound) {
				return
			}
		}
		t.Logf("stream %s not deleted from the test cluster", name)
	})
	return name
}

// Info reads a stream's configuration, state and placement from the cluster at url.
func Info(url, name string) (*jetstream.StreamInfo, error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, name)
	if err != nil {
		return nil, err
	}
	return st.Info(ctx)
}
