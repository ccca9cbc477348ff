package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// schedulePath is where POST /_gateway/schedules/<EventName> runs a schedule now.
const schedulePath = "/_gateway/schedules/"

// scheduled is one Schedule event of a function, with what runs the function.
type scheduled struct {
	fn     *Function
	ev     ScheduleEvent
	invoke invoker
}

// scheduler plays EventBridge for the template's schedules: on demand (POST, -rematch-now) and, with
// -schedule-interval, every interval instead of the schedule's own expression.
type scheduler struct {
	events map[string]*scheduled // by event name
	order  []string
	now    func() time.Time
}

// newScheduler collects every function's Schedule events; two events of one name are an error.
func newScheduler(fns []*Function, pools map[string]invoker) (*scheduler, error) {
	s := &scheduler{events: map[string]*scheduled{}, now: time.Now}
	for _, f := range fns {
		for _, ev := range f.Schedules {
			if other, dup := s.events[ev.Event]; dup {
				return nil, fmt.Errorf("schedule %s: both %s and %s have one of that name; %s triggers them by name", ev.Event, other.fn.Name, f.Name, schedulePath)
			}
			s.events[ev.Event] = &scheduled{fn: f, ev: ev, invoke: pools[f.Name]}
			s.order = append(s.order, ev.Event)
		}
	}
	return s, nil
}

// event is what EventBridge sends: the schedule's Input when it has one, else a Scheduled Event.
func (s *scheduler) event(sc *scheduled) []byte {
	if sc.ev.Input != "" {
		return []byte(sc.ev.Input)
	}
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": newRequestID(), "detail-type": "Scheduled Event", "source": "aws.events",
		"account": accountID, "time": s.now().UTC().Format(time.RFC3339), "region": region,
		"resources": []string{"arn:aws:events:" + region + ":" + accountID + ":rule/" + stackName + "-" + sc.fn.Name + sc.ev.Event},
		"detail":    map[string]any{},
	})
	return b
}

// invokeOnce runs the schedule's function once and returns its answer.
func (s *scheduler) invokeOnce(ctx context.Context, sc *scheduled) ([]byte, error) {
	resp, err := sc.invoke.Invoke(ctx, s.event(sc))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, maxBufferedAnswer))
}

// deliver runs the schedule as EventBridge does (an asynchronous invocation): a failure is retried
// up to the schedule's retry count; each outcome is logged.
func (s *scheduler) deliver(ctx context.Context, sc *scheduled) {
	for attempt := 0; attempt <= sc.ev.Retries; attempt++ {
		start := time.Now()
		out, err := s.invokeOnce(ctx, sc)
		if err == nil {
			slog.Info("schedule ran", "schedule", sc.ev.Event, "function", sc.fn.Name, "ms", time.Since(start).Milliseconds(), "answer", string(out))
			return
		}
		slog.Warn("schedule failed", "schedule", sc.ev.Event, "function", sc.fn.Name, "attempt", attempt+1, "err", err)
		if ctx.Err() != nil {
			return
		}
	}
}

// runAll delivers every enabled schedule once, one after another.
func (s *scheduler) runAll(ctx context.Context) {
	for _, name := range s.order {
		if sc := s.events[name]; sc.ev.Enabled {
			s.deliver(ctx, sc)
		}
	}
}

// every delivers every enabled schedule each interval until ctx ends.
func (s *scheduler) every(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.runAll(ctx)
		}
	}
}

// ServeHTTP answers POST /_gateway/schedules/<EventName>: the schedule's function runs now, once,
// and its answer (or its error, with 502) is the response.
func (s *scheduler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, schedulePath)
	sc, ok := s.events[name]
	if !ok {
		writeMessage(w, http.StatusNotFound, fmt.Sprintf("no schedule %q (the template has %s)", name, strings.Join(s.order, ", ")))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeMessage(w, http.StatusMethodNotAllowed, "POST runs the schedule")
		return
	}
	out, err := s.invokeOnce(context.WithoutCancel(r.Context()), sc)
	if err != nil {
		writeMessage(w, http.StatusBadGateway, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if !json.Valid(out) {
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	_, _ = w.Write(out)
}
