package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestConfigFrom(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		want    config
		wantErr string
	}{
		{"defaults", nil, nil, config{measureWarm: 200, addr: "127.0.0.1:8080", dataDir: ".data"}, ""},
		{"PORT and DATA_DIR", nil, map[string]string{"PORT": "9000", "DATA_DIR": "/tmp/x"}, config{measureWarm: 200, addr: "127.0.0.1:9000", dataDir: "/tmp/x"}, ""},
		{"ADDR wins", nil, map[string]string{"ADDR": "0.0.0.0:7000", "PORT": "9000"}, config{measureWarm: 200, addr: "0.0.0.0:7000", dataDir: ".data"}, ""},
		{"flags", []string{"-rematch-now", "-schedule-interval", "1m"}, nil, config{measureWarm: 200, addr: "127.0.0.1:8080", dataDir: ".data", rematchNow: true, scheduleInterval: time.Minute}, ""},
		{"offline pace", nil, map[string]string{"OFFLINE_PACE": "25ms"}, config{measureWarm: 200, addr: "127.0.0.1:8080", dataDir: ".data", offlinePace: "25ms"}, ""},
		{"bad offline pace", nil, map[string]string{"OFFLINE_PACE": "fast"}, config{}, "OFFLINE_PACE"},
		{"bad PORT", nil, map[string]string{"PORT": "http"}, config{}, "PORT"},
		{"negative interval", []string{"-schedule-interval", "-1s"}, nil, config{}, "-schedule-interval"},
		{"stray argument", []string{"now"}, nil, config{}, "unexpected"},
		{"measure", []string{"-measure-cold", "5", "-measure-warm", "20"}, nil, config{addr: "127.0.0.1:8080", dataDir: ".data", measureCold: 5, measureWarm: 20}, ""},
		{"bad measure", []string{"-measure-cold", "5", "-measure-warm", "0"}, nil, config{}, "-measure-warm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := configFrom(tc.args, func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			got.logs = nil
			if err != nil || got != tc.want {
				t.Errorf("configFrom = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestLoadSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gateway", "secret.json")
	first, err := loadSecret(path, "client-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(first["sealingKey"]) != 64 || len(first["originVerify"]) < 32 || first["oidcClientSecret"] != "client-1" {
		t.Errorf("secret = %v", first)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode: %v %v, want 0600", fi.Mode(), err)
	}
	again, err := loadSecret(path, "client-2")
	if err != nil {
		t.Fatal(err)
	}
	if again["sealingKey"] != first["sealingKey"] || again["originVerify"] != first["originVerify"] || again["oidcClientSecret"] != "client-2" {
		t.Errorf("second start: %v; want the same keys and the new client secret", again)
	}
	if err := os.WriteFile(path, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadSecret(path, "c"); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a corrupt secret file: %v, want an error naming it", err)
	}
}

func TestScheduler(t *testing.T) {
	var calls atomic.Int32
	var last []byte
	fn := invokerFunc(func(_ context.Context, payload []byte) (*Response, error) {
		last = payload
		if calls.Add(1) <= 2 {
			return nil, &FunctionError{Type: "errorString", Message: "not yet"}
		}
		return &Response{Body: io.NopCloser(strings.NewReader(`{"indexed":3}`))}, nil
	})
	fns := []*Function{{Name: "RematchFunction", Schedules: []ScheduleEvent{{Event: "Nightly", Expression: "cron(0 3 * * ? *)", Enabled: true, Retries: 2}}}}
	s, err := newScheduler(fns, map[string]invoker{"RematchFunction": fn})
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC) }
	s.runAll(context.Background())
	if calls.Load() != 3 {
		t.Errorf("invocations = %d, want 3 (two failures retried, as RetryPolicy allows 2)", calls.Load())
	}
	// The event has the shape of the function's own fixture.
	var got, want map[string]any
	json.Unmarshal(last, &got)
	b, _ := os.ReadFile("../../functions/rematch/testdata/eventbridge_scheduled.json")
	json.Unmarshal(b, &want)
	for _, m := range []map[string]any{got, want} {
		delete(m, "id")
		delete(m, "resources")
		m["account"] = "-"
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("event = %v, want the fixture's shape %v", got, want)
	}
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"POST", "/_gateway/schedules/Nightly", 200, `{"indexed":3}`},
		{"GET", "/_gateway/schedules/Nightly", 405, ""},
		{"POST", "/_gateway/schedules/Weekly", 404, "Nightly"},
	} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.body) {
			t.Errorf("%s %s = %d %s, want %d with %q", tc.method, tc.path, rec.Code, rec.Body.String(), tc.status, tc.body)
		}
	}
	failing := invokerFunc(func(context.Context, []byte) (*Response, error) { return nil, errors.New("down") })
	s2, _ := newScheduler(fns, map[string]invoker{"RematchFunction": failing})
	rec := httptest.NewRecorder()
	s2.ServeHTTP(rec, httptest.NewRequest("POST", "/_gateway/schedules/Nightly", nil))
	if rec.Code != http.StatusBadGateway {
		t.Errorf("a failing schedule: %d, want 502", rec.Code)
	}
	if _, err := newScheduler(append(fns, &Function{Name: "Other", Schedules: []ScheduleEvent{{Event: "Nightly"}}}), nil); err == nil {
		t.Error("two schedules named Nightly were accepted")
	}
}
