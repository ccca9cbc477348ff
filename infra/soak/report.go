package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// heading starts the soak's section of docs/benchmarks.md.
const heading = "## Soak"

// section writes the soak's section of docs/benchmarks.md: what ran, on which machine, the figures
// with their targets, and the audit after each phase.
func section(w io.Writer, r *Result) {
	c := r.Config
	last := r.last()
	fmt.Fprintln(w, heading)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Written by `make soak` (infra/soak) on %s: %s. ", r.Started.UTC().Format("2006-01-02 15:04 UTC"), machine())
	fmt.Fprintf(w, "The local stack (infra/local, SQLite) runs as its own process on a loopback port over a fresh DATA_DIR, "+
		"with the offline model paced at %s a word (OFFLINE_PACE, so that a retry can overlap its first try). "+
		"%d people sign up through the mock provider (login_hint=new:<name>); %d clients share them out, each in a session "+
		"of its own with the person's own twin, and send POST /api/chat as soon as the last answer came back. "+
		"The phases: %d turns; %d turns each retried once after the answer; %d turns each retried while the first try runs "+
		"(sent 0 to %s after it); kill -9 of the server once %d turns of a new load were answered, a restart on the same data "+
		"and one retry of each interrupted turn; SIGTERM once %d turns of another load were answered, then a restart. "+
		"After each phase the store is read back through the API (GET /api/sessions and every session's messages) and compared "+
		"with the acknowledged turns (a 200 with the message and the reply). The write-ahead log (DATA_DIR/secondme.db-wal) is "+
		"polled every 20 ms. The run took %s.\n\n",
		c.Pace, c.People, c.Clients, c.Turns, c.RetryAfter, c.RetryInFlight, 2*c.Pace, c.KillAfter, c.TermAfter, r.Elapsed.Round(time.Second))

	fivexx, noAnswer := 0, r.Statuses[0]
	for s, n := range r.Statuses {
		if s >= 500 {
			fivexx += n
		}
	}
	fmt.Fprintln(w, "| measure | value | target |")
	fmt.Fprintln(w, "|---|---|---|")
	fmt.Fprintf(w, "| turns acknowledged, all phases | %d | |\n", last.Acked)
	fmt.Fprintf(w, "| lost person's messages (acknowledged, missing from the store) | %d | 0 %s |\n", last.LostMessages, verdict(last.LostMessages == 0))
	fmt.Fprintf(w, "| lost replies | %d | 0 %s |\n", last.LostReplies, verdict(last.LostReplies == 0))
	fmt.Fprintf(w, "| duplicate replies (two assistant messages with one replyTo) | %d | 0 %s |\n", last.Duplicates, verdict(last.Duplicates == 0))
	fmt.Fprintf(w, "| 5xx answers | %d | 0 %s |\n", fivexx, verdict(fivexx == 0))
	fmt.Fprintf(w, "| answers by status, all phases | %s | |\n", statuses(r.Statuses))
	fmt.Fprintf(w, "| load: %d turns, %d clients, p50 / p99 (client side, paced model) | %s / %s | |\n", r.LoadTurns, c.Clients, msec(r.LoadP50), msec(r.LoadP99))
	fmt.Fprintf(w, "| load: throughput | %.0f turns/s | |\n", r.LoadRate)
	fmt.Fprintf(w, "| retried after the answer: replayed with the same reply id | %d of %d | all %s |\n", r.RetryAfterReplayed, r.RetryAfterSent, verdict(r.RetryAfterReplayed == r.RetryAfterSent))
	fmt.Fprintf(w, "| retried in flight: sent before the first try's answer | %d of %d | |\n", r.Overlapped, r.Races)
	fmt.Fprintf(w, "| retried in flight: one reply and one 409 / both the same reply / a second reply | %d / %d / %d | no second reply %s |\n",
		r.RaceConflicts, r.RaceSameReply, r.RaceSecondReply, verdict(r.RaceSecondReply == 0))
	fmt.Fprintf(w, "| kill -9: turns answered before the kill / interrupted | %d / %d | |\n", r.KillAnswered, r.KillInterrupted)
	fmt.Fprintf(w, "| kill -9: interrupted turns retried after the restart: answered / still held (409) | %d / %d | all answered %s |\n", r.KillRetryAnswered, r.KillRetryHeld, verdict(r.KillRetryHeld == 0))
	fmt.Fprintf(w, "| restart after kill -9 (process start to healthy) | %s | |\n", msec(r.KillRestart))
	fmt.Fprintf(w, "| SIGTERM: requests in flight at the signal / answered | %d / %d | all answered %s |\n", r.TermInFlight, r.TermFinished, verdict(r.TermCut == 0 && r.TermInFlight > 0))
	fmt.Fprintf(w, "| SIGTERM: unanswered, never read by the server (no trace in the store) / cut by the drain | %d / %d | 0 cut %s |\n", r.TermNotReceived, r.TermCut, verdict(r.TermCut == 0))
	fmt.Fprintf(w, "| SIGTERM: signal to exit, exit status | %s, %s | exit 0 %s |\n", msec(r.TermDrain), r.TermExit, verdict(r.TermExit == "exit 0"))
	fmt.Fprintf(w, "| restart after SIGTERM / first start on an empty DATA_DIR | %s / %s | |\n", msec(r.TermRestart), msec(r.FirstStart))
	fmt.Fprintf(w, "| requests without an answer (only while the server was killed or stopping) | %d | |\n", noAnswer)
	fmt.Fprintf(w, "| write-ahead log, peak | %s | ≤ %s %s |\n", mb(r.WALPeak), mb(walLimit), verdict(r.WALPeak <= walLimit))
	fmt.Fprintf(w, "| write-ahead log when idle (after %s) | %s | |\n", msec(r.WALIdleAfter), mb(r.WALIdle))
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The store after each phase:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| after | turns acknowledged | messages | lost messages | lost replies | duplicate replies | person's messages without a reply |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, ch := range r.Checks {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d |\n", ch.After, ch.Acked, ch.Messages, ch.LostMessages, ch.LostReplies, ch.Duplicates, ch.Unanswered)
	}
	if f := r.Failures(); len(f) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "**Targets missed:**")
		for _, s := range f {
			fmt.Fprintf(w, "- %s\n", s)
		}
	}
}

// writeSection puts the section into the Markdown file at path: in place of its existing Soak section
// (up to the next section), else at the end.
func writeSection(path string, sec []byte) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	doc := string(old)
	if i := strings.Index(doc, "\n"+heading+"\n"); i >= 0 {
		rest := doc[i+1+len(heading):]
		end := ""
		if j := strings.Index(rest, "\n## "); j >= 0 {
			end = rest[j+1:]
		}
		doc = doc[:i+1] + string(sec)
		if end != "" {
			doc += "\n" + end
		}
	} else {
		doc = strings.TrimRight(doc, "\n") + "\n\n" + string(sec)
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}

// machine names the CPU, cores, OS and Go version, as the top of docs/benchmarks.md does.
func machine() string {
	cpu := runtime.GOARCH
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	osName := runtime.GOOS
	if out, err := exec.Command("uname", "-sr").Output(); err == nil {
		osName = string(bytes.TrimSpace(out))
	}
	return fmt.Sprintf("%s, %d cores, %s, %s", cpu, runtime.NumCPU(), osName, runtime.Version())
}

func statuses(m map[int]int) string {
	var keys []int
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		name := fmt.Sprint(k)
		if k == 0 {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", name, m[k]))
	}
	return strings.Join(parts, ", ")
}

func verdict(ok bool) string {
	if ok {
		return "(met)"
	}
	return "(**not met**)"
}

func msec(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
