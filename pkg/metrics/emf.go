package metrics

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// EMF writes samples as CloudWatch embedded metric format lines: one JSON object a line, whose _aws
// member declares the namespace, the dimension and the metrics, next to their values. On Lambda the
// writer is stdout: the log line is the metric, no PutMetricData call is made.
type EMF struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// NewEMF returns an EMF recorder writing to w (os.Stdout on Lambda).
func NewEMF(w io.Writer) *EMF { return &EMF{w: w, now: time.Now} }

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// Record writes one line for s. A failed write is dropped: metrics never fail the work they count.
func (e *EMF) Record(s Sample) {
	line := map[string]any{s.Dimension: s.Value}
	d := emfDirective{Namespace: Namespace, Dimensions: [][]string{{s.Dimension}}}
	for _, c := range s.Counts {
		d.Metrics = append(d.Metrics, emfMetric{Name: c.Name, Unit: "Count"})
		line[c.Name] = c.Value
	}
	line["_aws"] = emfMeta{Timestamp: e.now().UnixMilli(), CloudWatchMetrics: []emfDirective{d}}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	b = append(b, '\n')
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.w.Write(b)
}
