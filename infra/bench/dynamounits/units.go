package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strings"
	"sync"
)

// Counter is an http.RoundTripper in front of a DynamoDB endpoint (dynalite) that counts capacity units
// the way DynamoDB bills them, which dynalite does not for indexes:
//
//   - a write of an item costs ceil(size / 1 KB) on the table, the larger of the item before and after
//     (a delete: the item deleted; at least 1), and the same on each global secondary index whose keys the
//     item has before or after: one index write of the new entry when the keys stay and the item changed,
//     a delete plus a put when the keys change, a put or a delete when the item enters or leaves the
//     index (an index entry is the item plus 100 bytes; every index projects all attributes);
//   - a write refused by its condition costs ceil(size of the stored item / 1 KB), at least 1, on the table;
//   - a read costs what dynalite reports when asked (ReturnConsumedCapacity TOTAL, added to every read
//     request): ceil(size / 4 KB) per item read, or per Query of the items it read, halved when eventually
//     consistent.
//
// The items before and after a write are read by GetItem requests of the counter's own, which are not
// counted. Requests must not overlap (the benchmark runs one turn at a time).
type Counter struct {
	next http.RoundTripper
	// hashKey and rangeKey are the table's key attributes, indexes the key attribute pairs of its GSIs.
	hashKey, rangeKey string
	indexes           [][2]string

	mu     sync.Mutex
	writes float64
	reads  float64
	byOp   map[string]float64
}

// NewCounter counts the requests that go through next, for a table keyed hashKey/rangeKey with global
// secondary indexes keyed by the given attribute pairs.
func NewCounter(next http.RoundTripper, hashKey, rangeKey string, indexes ...[2]string) *Counter {
	return &Counter{next: next, hashKey: hashKey, rangeKey: rangeKey, indexes: indexes, byOp: map[string]float64{}}
}

// Units returns the write and read units counted since the last Reset.
func (c *Counter) Units() (write, read float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes, c.reads
}

// ByOp returns the units counted per operation ("PutItem w", "Query r", ...) since the last Reset.
func (c *Counter) ByOp() map[string]float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]float64, len(c.byOp))
	for k, v := range c.byOp {
		out[k] = v
	}
	return out
}

// Reset sets the counts to zero.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes, c.reads = 0, 0
	c.byOp = map[string]float64{}
}

func (c *Counter) add(op string, write bool, units float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if write {
		c.writes += units
		c.byOp[op+" w"] += units
	} else {
		c.reads += units
		c.byOp[op+" r"] += units
	}
}

// item is an item in DynamoDB's JSON wire form: attribute name to typed value.
type item map[string]map[string]any

// RoundTrip forwards the request and counts its units.
func (c *Counter) RoundTrip(req *http.Request) (*http.Response, error) {
	target := req.Header.Get("X-Amz-Target")
	op := target[strings.LastIndexByte(target, '.')+1:]
	if req.Body == nil {
		return c.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	switch op {
	case "GetItem", "BatchGetItem", "Query", "Scan":
		return c.read(req, op, body)
	case "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem":
		return c.write(req, op, body)
	}
	return c.send(req, body)
}

// send forwards req with body.
func (c *Counter) send(req *http.Request, body []byte) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", fmt.Sprint(len(body)))
	return c.next.RoundTrip(r)
}

// read forwards a read asking for its consumed capacity and counts what the answer reports.
func (c *Counter) read(req *http.Request, op string, body []byte) (*http.Response, error) {
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	in["ReturnConsumedCapacity"] = "TOTAL"
	body, _ = json.Marshal(in)
	res, err := c.send(req, body)
	if err != nil || res.StatusCode != http.StatusOK {
		return res, err
	}
	out, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(out))
	var answer struct {
		ConsumedCapacity json.RawMessage
	}
	if err := json.Unmarshal(out, &answer); err != nil {
		return nil, err
	}
	type capacity struct{ CapacityUnits float64 }
	var one capacity
	var many []capacity
	if json.Unmarshal(answer.ConsumedCapacity, &one) == nil {
		many = []capacity{one}
	} else if err := json.Unmarshal(answer.ConsumedCapacity, &many); err != nil {
		return nil, fmt.Errorf("dynamounits: %s: consumed capacity %s: %w", op, answer.ConsumedCapacity, err)
	}
	for _, cc := range many {
		c.add(op, false, cc.CapacityUnits)
	}
	return res, nil
}

// written is one item a write request touches: its table and key.
type written struct {
	table string
	key   item
}

// write reads the items a write touches, forwards it, reads them again and counts the units.
func (c *Counter) write(req *http.Request, op string, body []byte) (*http.Response, error) {
	var in struct {
		TableName    string
		Item         item
		Key          item
		RequestItems map[string][]struct {
			PutRequest    *struct{ Item item }
			DeleteRequest *struct{ Key item }
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	var ws []written
	switch op {
	case "PutItem":
		ws = append(ws, written{in.TableName, c.keyOf(in.Item)})
	case "UpdateItem", "DeleteItem":
		ws = append(ws, written{in.TableName, in.Key})
	case "BatchWriteItem":
		for table, reqs := range in.RequestItems {
			for _, r := range reqs {
				if r.PutRequest != nil {
					ws = append(ws, written{table, c.keyOf(r.PutRequest.Item)})
				} else if r.DeleteRequest != nil {
					ws = append(ws, written{table, r.DeleteRequest.Key})
				}
			}
		}
	}
	before := make([]item, len(ws))
	for i, w := range ws {
		var err error
		if before[i], err = c.getItem(req, w); err != nil {
			return nil, err
		}
	}
	res, err := c.send(req, body)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(out))
	switch {
	case res.StatusCode == http.StatusOK:
		for i, w := range ws {
			after, err := c.getItem(req, w)
			if err != nil {
				return nil, err
			}
			c.add(op, true, c.writeUnits(before[i], after))
		}
	case bytes.Contains(out, []byte("ConditionalCheckFailedException")):
		c.add(op, true, math.Max(1, kb(size(before[0]))))
	}
	return res, nil
}

// writeUnits is the cost of changing an item from old to new (nil: absent) on the table and its indexes.
func (c *Counter) writeUnits(old, new item) float64 {
	units := math.Max(1, math.Max(kb(size(old)), kb(size(new))))
	if reflect.DeepEqual(old, new) {
		return units
	}
	const entryOverhead = 100
	for _, ix := range c.indexes {
		oldKey, newKey := indexKey(old, ix), indexKey(new, ix)
		switch {
		case oldKey != nil && newKey != nil && reflect.DeepEqual(oldKey, newKey):
			units += kb(size(new) + entryOverhead)
		default:
			if oldKey != nil {
				units += kb(size(old) + entryOverhead)
			}
			if newKey != nil {
				units += kb(size(new) + entryOverhead)
			}
		}
	}
	return units
}

// indexKey is the key of it in the index keyed by ix, nil when it is not in the index.
func indexKey(it item, ix [2]string) []map[string]any {
	h, ok1 := it[ix[0]]
	r, ok2 := it[ix[1]]
	if !ok1 || !ok2 {
		return nil
	}
	return []map[string]any{h, r}
}

func (c *Counter) keyOf(it item) item {
	return item{c.hashKey: it[c.hashKey], c.rangeKey: it[c.rangeKey]}
}

// getItem reads an item with a strongly consistent GetItem that is not counted; nil when absent.
func (c *Counter) getItem(req *http.Request, w written) (item, error) {
	body, _ := json.Marshal(map[string]any{"TableName": w.table, "Key": w.key, "ConsistentRead": true})
	r := req.Clone(req.Context())
	r.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", fmt.Sprint(len(body)))
	res, err := c.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("dynamounits: read item before or after a write: %s", out)
	}
	var answer struct{ Item item }
	if err := json.Unmarshal(out, &answer); err != nil {
		return nil, err
	}
	return answer.Item, nil
}

// kb is size in 1 KB write units, rounded up.
func kb(n int) float64 { return math.Ceil(float64(n) / 1024) }

// size is DynamoDB's size of an item: the UTF-8 length of every attribute name plus its value's size.
func size(it item) int {
	n := 0
	for name, v := range it {
		n += len(name) + valueSize(v)
	}
	return n
}

// valueSize is the size of one typed value, by DynamoDB's rules (numbers approximately: one byte per
// two significant digits plus one).
func valueSize(v map[string]any) int {
	for typ, x := range v {
		switch typ {
		case "S":
			return len(x.(string))
		case "N":
			return (len(strings.TrimLeft(strings.Trim(x.(string), "-"), "0."))+1)/2 + 1
		case "B":
			b, _ := base64.StdEncoding.DecodeString(x.(string))
			return len(b)
		case "BOOL", "NULL":
			return 1
		case "SS", "NS", "BS":
			n := 0
			for _, s := range x.([]any) {
				n += len(s.(string))
			}
			return n
		case "L":
			n := 3
			for _, e := range x.([]any) {
				n += 1 + valueSize(toValue(e))
			}
			return n
		case "M":
			n := 3
			for name, e := range x.(map[string]any) {
				n += 1 + len(name) + valueSize(toValue(e))
			}
			return n
		}
	}
	return 0
}

func toValue(e any) map[string]any {
	m, _ := e.(map[string]any)
	return m
}
