package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/geo/geotest"
)

// parseConfig binds a Config to a fresh flag set, parses args and validates it.
func parseConfig(t *testing.T, args ...string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg Config
	cfg.bind(fs)
	if err := fs.Parse(append([]string{"--data-dir", t.TempDir()}, args...)); err != nil {
		t.Fatal(err)
	}
	return &cfg, cfg.validate()
}

func TestConfigGeoIPDB(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "GeoLite2-City.mmdb")
	if err := geotest.Write(good, []geotest.Entry{{Network: "203.0.113.0/24", Country: "DE", City: "Berlin"}}); err != nil {
		t.Fatal(err)
	}
	asn := filepath.Join(dir, "GeoLite2-ASN.mmdb")
	if err := geotest.WriteType(asn, "GeoLite2-ASN", nil); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "GeoLite2-City.tar.gz")
	if err := os.WriteFile(text, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("unset", func(t *testing.T) {
		cfg, err := parseConfig(t)
		if err != nil {
			t.Fatal(err)
		}
		if db, err := cfg.geoDB(); db != nil || err != nil {
			t.Errorf("geoDB() = %v, %v; want nil, nil", db, err)
		}
	})
	t.Run("flag", func(t *testing.T) {
		cfg, err := parseConfig(t, "--geoip-db", good)
		if err != nil {
			t.Fatal(err)
		}
		db, err := cfg.geoDB()
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if country, city := db.Lookup(netip.MustParseAddr("203.0.113.77")); country != "DE" || city != "Berlin" {
			t.Errorf("Lookup = %q, %q; want DE, Berlin", country, city)
		}
	})
	t.Run("env", func(t *testing.T) {
		t.Setenv("MAILTRAIL_GEOIP_DB", good)
		cfg, err := parseConfig(t)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.GeoIPDB != good {
			t.Errorf("GeoIPDB = %q, want %q", cfg.GeoIPDB, good)
		}
	})
	for _, c := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "nope.mmdb"), "no such file"},
		{"not mmdb", text, "not a MaxMind DB"},
		{"wrong type", asn, "GeoLite2-ASN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseConfig(t, "--geoip-db", c.path)
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range []string{"--geoip-db", c.path, c.want} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

// TestConfigEnvInvalid: a MAILTRAIL_* value that does not parse stops the start with an
// error naming the variable, the problem and the expected form, never echoing a secret.
func TestConfigEnvInvalid(t *testing.T) {
	for _, c := range []struct {
		name, env, value string
		want             []string // in the error
		secret           bool     // the value must not be in the error
	}{
		{"int", "MAILTRAIL_SECRET_KEY_ID", "abc", []string{`MAILTRAIL_SECRET_KEY_ID: "abc" is not a whole number`}, false},
		{"int max-batch", "MAILTRAIL_MAX_BATCH", "zz", []string{`MAILTRAIL_MAX_BATCH: "zz" is not a whole number, e.g. 5000`}, false},
		{"int out of range", "MAILTRAIL_MAX_QUEUE", "99999999999999999999", []string{"MAILTRAIL_MAX_QUEUE", "is not a whole number"}, false},
		{"int empty", "MAILTRAIL_MAX_QUEUE", "", []string{`MAILTRAIL_MAX_QUEUE: "" is not a whole number`, "unset the variable"}, false},
		{"bool", "MAILTRAIL_WEBHOOKS_ALLOW_PRIVATE", "maybe", []string{`MAILTRAIL_WEBHOOKS_ALLOW_PRIVATE: "maybe" is not true or false`}, false},
		{"duration without unit", "MAILTRAIL_QUEUE_WAIT", "5", []string{`MAILTRAIL_QUEUE_WAIT: "5" is not a duration`, "e.g. 2s"}, false},
		{"duration in words", "MAILTRAIL_RETENTION_INTERVAL", "1 day", []string{`MAILTRAIL_RETENTION_INTERVAL: "1 day" is not a duration`, "(ms, s, m, h)"}, false},
		{"list", "MAILTRAIL_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal", []string{"MAILTRAIL_TRUSTED_PROXIES", `"proxy.internal" is not a CIDR`}, false},
		{"secret list", "MAILTRAIL_OLD_SECRET_KEYS", "1:not-long-enough-s3cret", []string{"MAILTRAIL_OLD_SECRET_KEYS", "ID:SECRET"}, true},
		{"secret key", "MAILTRAIL_SECRET_KEY", "short-s3cret-value", []string{"MAILTRAIL_SECRET_KEY", "at least 32 characters"}, true},
		{"admin token", "MAILTRAIL_ADMIN_TOKEN", "short-t0ken", []string{"MAILTRAIL_ADMIN_TOKEN", "at least 16 characters"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(c.env, c.value)
			_, err := parseConfig(t)
			if err == nil {
				t.Fatalf("%s=%q: no error", c.env, c.value)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if c.secret && strings.Contains(err.Error(), c.value) {
				t.Errorf("error %q echoes the secret value", err)
			}
		})
	}
}

// TestConfigEnvValid: values of the right type still set their flag, and a flag still
// wins over its variable.
func TestConfigEnvValid(t *testing.T) {
	t.Setenv("MAILTRAIL_SECRET_KEY_ID", "3")
	t.Setenv("MAILTRAIL_WEBHOOKS_ALLOW_PRIVATE", "true")
	t.Setenv("MAILTRAIL_QUEUE_WAIT", "750ms")
	t.Setenv("MAILTRAIL_MAX_BATCH", "100")
	cfg, err := parseConfig(t, "--max-batch", "200")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SecretKeyID != 3 || !cfg.WebhooksAllowPrivate || cfg.QueueWait != 750*time.Millisecond || cfg.MaxBatch != 200 {
		t.Errorf("got key id %d, allow private %v, queue wait %v, max batch %d; want 3, true, 750ms, 200",
			cfg.SecretKeyID, cfg.WebhooksAllowPrivate, cfg.QueueWait, cfg.MaxBatch)
	}
}

func TestConfigSecretLike(t *testing.T) {
	for env, want := range map[string]bool{
		"MAILTRAIL_SECRET_KEY":       true,
		"MAILTRAIL_OLD_SECRET_KEYS":  true,
		"MAILTRAIL_ADMIN_TOKEN":      true,
		"MAILTRAIL_SMTP_PASSWORD":    true,
		"MAILTRAIL_POSTGRES_DSN":     true,
		"MAILTRAIL_SECRET_KEY_ID":    false,
		"MAILTRAIL_MAX_BATCH":        false,
		"MAILTRAIL_CLIENT_IP_HEADER": false,
	} {
		if got := secretLike(env); got != want {
			t.Errorf("secretLike(%s) = %v, want %v", env, got, want)
		}
	}
	// A typed variable with a secret-like name: the problem is said, the value is not.
	err := envValueError("MAILTRAIL_SMTP_PASSWORD", "hunter2", "a whole number")
	if s := err.Error(); strings.Contains(s, "hunter2") || !strings.Contains(s, "MAILTRAIL_SMTP_PASSWORD: the value is not a whole number") {
		t.Errorf("envValueError = %q", s)
	}
}

// TestConfigCommandErrors: every command stops on a bad variable or flag, before it
// touches the data directory.
func TestConfigCommandErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		env  [2]string
		args []string
		want []string
	}{
		{"env org list", [2]string{"MAILTRAIL_SECRET_KEY_ID", "abc"}, []string{"org", "list"}, []string{`MAILTRAIL_SECRET_KEY_ID: "abc" is not a whole number`}},
		{"env connection list", [2]string{"MAILTRAIL_WEBHOOKS_RETRY_FOR", "forever"}, []string{"connection", "list", "--org", "o"}, []string{`MAILTRAIL_WEBHOOKS_RETRY_FOR: "forever" is not a duration`}},
		{"env serve", [2]string{"MAILTRAIL_WEBHOOKS_ALLOW_PRIVATE", "maybe"}, []string{"serve", "--addr", "127.0.0.1:0"}, []string{`MAILTRAIL_WEBHOOKS_ALLOW_PRIVATE: "maybe" is not true or false`}},
		{"flag int", [2]string{}, []string{"serve", "--secret-key-id", "abc"}, []string{`invalid value "abc" for flag -secret-key-id`}},
		{"flag bool", [2]string{}, []string{"org", "list", "--webhooks-allow-private=maybe"}, []string{`invalid boolean value "maybe" for -webhooks-allow-private`}},
		{"flag duration", [2]string{}, []string{"serve", "--queue-wait", "5"}, []string{`invalid value "5" for flag -queue-wait`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.env[0] != "" {
				t.Setenv(c.env[0], c.env[1])
			}
			dir := filepath.Join(t.TempDir(), "data")
			// Cancelled: a serve that starts despite the error returns at once instead of
			// running until the test times out.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var stderr bytes.Buffer
			err := Run(ctx, append(c.args, "--data-dir", dir), io.Discard, &stderr)
			if err == nil || errors.Is(err, flag.ErrHelp) {
				t.Fatalf("Run(%q) = %v, want an error", c.args, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the data directory was created: %v", err)
			}
		})
	}
}

// TestConfigBinaryExit: the real binary exits 2 with the message on stderr, and does not
// start listening, when a variable or a flag is invalid.
func TestConfigBinaryExit(t *testing.T) {
	bin := buildBinary(t)
	for _, c := range []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"env", "MAILTRAIL_SECRET_KEY_ID=abc", nil, `mailtrail: MAILTRAIL_SECRET_KEY_ID: "abc" is not a whole number`},
		{"flag", "", []string{"--max-batch", "zz"}, `invalid value "zz" for flag -max-batch`},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The deadline only bounds a binary that starts despite the error.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, c.args...)...)
			cmd.Env = os.Environ()
			if c.env != "" {
				cmd.Env = append(cmd.Env, c.env)
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("exit: %v, want status 2; stderr:\n%s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Errorf("stderr does not say %q:\n%s", c.want, stderr.String())
			}
			if strings.Contains(stdout.String(), "listening") {
				t.Errorf("the binary started: %s", stdout.String())
			}
		})
	}
}

// --event-log-url turns the event log on, on the cluster it names; bad URLs, stream names
// and replica counts are refused at the start.
func TestConfigEventLogURL(t *testing.T) {
	cfg, err := parseConfig(t, "--event-log-url", "nats://10.0.0.1:4222, nats://10.0.0.2:4222", "--event-log-stream", "CRM_events-1")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.EventLog || cfg.EventLogReplicas != 3 || positionName(cfg) != "events@CRM_events-1" {
		t.Fatalf("event log %v, replicas %d, position %q", cfg.EventLog, cfg.EventLogReplicas, positionName(cfg))
	}
	for _, args := range [][]string{
		{"--event-log-url", "http://10.0.0.1:4222"},
		{"--event-log-url", "nats://"},
		{"--event-log-url", "nats://10.0.0.1:4222", "--event-log-stream", "events.a"},
		{"--event-log-url", "nats://10.0.0.1:4222", "--event-log-replicas", "7"},
	} {
		if _, err := parseConfig(t, args...); err == nil || !strings.Contains(err.Error(), "--event-log-") {
			t.Errorf("%q: %v, want a clear refusal", args, err)
		}
	}
}

// --projector-nice lowers the projector by 10 unless told otherwise; outside 0-19 it is
// refused at the start.
func TestConfigProjectorNice(t *testing.T) {
	for args, want := range map[string]int{"": 10, "--projector-nice 0": 0, "--projector-nice 19": 19} {
		cfg, err := parseConfig(t, strings.Fields(args)...)
		if err != nil || cfg.ProjectorNice != want {
			t.Fatalf("%q: nice %d, %v; want %d", args, cfg.ProjectorNice, err, want)
		}
	}
	for _, v := range []string{"-1", "20"} {
		if _, err := parseConfig(t, "--projector-nice", v); err == nil || !strings.Contains(err.Error(), "--projector-nice") {
			t.Errorf("--projector-nice %s: %v, want a clear refusal", v, err)
		}
	}
}

// The cluster mode's engines: variables bind, flags win, and bad values are refused at
// the start without echoing a DSN or URL (they hold passwords).
func TestConfigClusterSettings(t *testing.T) {
	creds := filepath.Join(t.TempDir(), "user.creds")
	if err := os.WriteFile(creds, []byte("creds"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MAILTRAIL_NATS_CREDS", creds)
	t.Setenv("MAILTRAIL_POSTGRES_DSN", "postgres://env@10.0.0.1:5432/db")
	t.Setenv("MAILTRAIL_CLICKHOUSE_URL", "http://10.0.0.2:8123")
	cfg, err := parseConfig(t, "--postgres-dsn", "host=10.0.0.3 user=flag dbname=db")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NATSCreds != creds || cfg.PostgresDSN != "host=10.0.0.3 user=flag dbname=db" || cfg.ClickHouseURL != "http://10.0.0.2:8123" {
		t.Fatalf("creds %q, dsn %q, clickhouse %q", cfg.NATSCreds, cfg.PostgresDSN, cfg.ClickHouseURL)
	}
	const pw = "Pa55-in-the-DSN"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--nats-creds", filepath.Join(t.TempDir(), "missing.creds")}, "--nats-creds / MAILTRAIL_NATS_CREDS: open "},
		{[]string{"--postgres-dsn", "postgres://u:" + pw + "@db:port/x"}, "--postgres-dsn / MAILTRAIL_POSTGRES_DSN is not a PostgreSQL connection string"},
		{[]string{"--clickhouse-url", "clickhouse://u:" + pw + "@10.0.0.2:9000"}, "--clickhouse-url / MAILTRAIL_CLICKHOUSE_URL must be the http(s) URL"},
		{[]string{"--clickhouse-url", "http://u:" + pw + "@/x"}, "--clickhouse-url / MAILTRAIL_CLICKHOUSE_URL must be the http(s) URL"},
	} {
		_, err := parseConfig(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.args, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("%q: the error echoes the password: %v", c.args, err)
		}
	}
}
