package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// dynaliteStartTimeout bounds the wait for dynalite to answer after it starts.
const dynaliteStartTimeout = 15 * time.Second

// startDynalite runs dynalite (infra/dynalite, Node.js >= 20) on a free 127.0.0.1 port, keeping its
// data in dir when dir is not "" (so the table survives restarts), else in memory, and waits until it
// answers. Tables leave the CREATING state at once. stop ends it (calling it again does nothing); it
// fails if dynalite had exited by itself. moduleRoot is the repository root.
func startDynalite(ctx context.Context, moduleRoot, dir string) (endpoint string, stop func() error, err error) {
	bin := filepath.Join(moduleRoot, "infra", "dynalite", "node_modules", ".bin", "dynalite")
	if err := checkNode(ctx); err != nil {
		return "", nil, err
	}
	if _, err := os.Stat(bin); err != nil {
		return "", nil, fmt.Errorf("dynalite is not installed (%s is missing): run npm ci --prefix infra/dynalite", bin)
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", nil, fmt.Errorf("dynalite data directory: %w", err)
		}
		// dynalite would start and then fail the first call that reads its store.
		if storeLocked(dir) {
			return "", nil, fmt.Errorf("the dynalite store in %s is in use by another process (another gateway with the same DATA_DIR?)", dir)
		}
	}
	// A free port may be taken by someone else before dynalite binds it: try again with another.
	for attempt := 1; ; attempt++ {
		endpoint, stop, err := runDynalite(ctx, bin, dir)
		if err == nil || !errors.Is(err, errPortTaken) || attempt == 3 {
			return endpoint, stop, err
		}
	}
}

// errPortTaken is dynalite exiting because its port was taken.
var errPortTaken = errors.New("the port was taken")

// runDynalite starts dynalite once on a port that was free a moment ago.
func runDynalite(ctx context.Context, bin, dir string) (string, func() error, error) {
	port, err := pickPort()
	if err != nil {
		return "", nil, err
	}
	args := []string{"--host", "127.0.0.1", "--port", strconv.Itoa(port), "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"}
	if dir != "" {
		args = append(args, "--path", dir)
	}
	cmd := exec.Command(bin, args...)
	logs := &processLog{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start dynalite: %w", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	var (
		stopOnce sync.Once
		stopErr  error
	)
	stop := func() error {
		stopOnce.Do(func() {
			select {
			case <-exited:
				stopErr = fmt.Errorf("dynalite had exited: %v\n%s", waitErr, logs)
				return
			default:
			}
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		})
		return stopErr
	}
	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	// dynalite listens before its store is open: ask it for its tables.
	db := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "dynalite", SecretAccessKey: "dynalite"}, nil
		}),
		HTTPClient: &http.Client{Timeout: time.Second},
	})
	deadline := time.NewTimer(dynaliteStartTimeout)
	defer deadline.Stop()
	for {
		if _, err := db.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)}); err == nil {
			return endpoint, stop, nil
		}
		select {
		case <-exited:
			if strings.Contains(logs.String(), "EADDRINUSE") {
				return "", nil, errPortTaken
			}
			return "", nil, fmt.Errorf("dynalite exited at start (%v):\n%s", waitErr, logs)
		case <-ctx.Done():
			_ = stop()
			return "", nil, fmt.Errorf("wait for dynalite: %w", ctx.Err())
		case <-deadline.C:
			_ = stop()
			return "", nil, fmt.Errorf("dynalite did not answer on %s within %s:\n%s", endpoint, dynaliteStartTimeout, logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// storeLocked reports whether another process holds the lock of the LevelDB store in dir.
func storeLocked(dir string) bool {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK}
	return syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk) == nil && lk.Type != syscall.F_UNLCK
}

// checkNode makes sure Node.js 20 or later is on PATH, as dynalite needs.
func checkNode(ctx context.Context) error {
	if _, err := exec.LookPath("node"); err != nil {
		return errors.New("node is not installed; dynalite needs Node.js >= 20 (then: npm ci --prefix infra/dynalite)")
	}
	out, err := exec.CommandContext(ctx, "node", "-p", "process.versions.node").Output()
	if err != nil {
		return fmt.Errorf("node -p process.versions.node: %w", err)
	}
	v := strings.TrimSpace(string(out))
	major, _, _ := strings.Cut(v, ".")
	if n, err := strconv.Atoi(major); err != nil || n < 20 {
		return fmt.Errorf("node %s is too old; dynalite needs Node.js >= 20", v)
	}
	return nil
}

// pickPort returns a TCP port on 127.0.0.1 that was free when asked.
func pickPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// processLog collects a process's output for error messages.
type processLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *processLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 64<<10 { // enough for an error message
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *processLog) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ---------------------------------------------------------------- the table

// ignoredTableProperties are properties of AWS::DynamoDB::Table that change nothing a function can
// observe, so the gateway accepts them and does not apply them: point-in-time recovery (backups),
// encryption at rest (dynalite's files are on this machine) and deletion protection (nobody deletes
// the local table through the API).
var ignoredTableProperties = []string{"PointInTimeRecoverySpecification", "SSESpecification", "DeletionProtectionEnabled"}

// createTable creates the table name as an AWS::DynamoDB::Table's resolved Properties describe it
// (AttributeDefinitions, KeySchema, GlobalSecondaryIndexes, BillingMode, ProvisionedThroughput), unless
// a table of that name exists, which must then have the same keys and indexes; it waits until the
// table and its indexes are ACTIVE and applies TimeToLiveSpecification. A property it cannot honour
// is an error naming it.
func createTable(ctx context.Context, client *dynamodb.Client, name string, props map[string]any) error {
	in, ttl, err := tableInput(name, props)
	if err != nil {
		return err
	}
	desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var missing *types.ResourceNotFoundException
	switch {
	case errors.As(err, &missing):
		if _, err := client.CreateTable(ctx, in); err != nil {
			return fmt.Errorf("create table %s: %w", name, err)
		}
	case err != nil:
		return fmt.Errorf("describe table %s: %w", name, err)
	default:
		if err := sameKeys(in, desc.Table); err != nil {
			return fmt.Errorf("table %s exists with other keys than the template's (%w); remove the gateway's data directory to start afresh", name, err)
		}
	}
	if err := waitActive(ctx, client, name); err != nil {
		return err
	}
	if ttl != nil {
		return applyTTL(ctx, client, name, ttl)
	}
	return nil
}

// tableInput turns a table's Properties into CreateTable's input and the TTL to apply (nil for none).
func tableInput(name string, props map[string]any) (*dynamodb.CreateTableInput, *types.TimeToLiveSpecification, error) {
	p, err := propObject(propValue{"Table", props}, "TableName", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes",
		"BillingMode", "ProvisionedThroughput", "TimeToLiveSpecification", "PointInTimeRecoverySpecification",
		"SSESpecification", "DeletionProtectionEnabled")
	if err != nil {
		return nil, nil, err
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name)}
	if v, ok := p.get("TableName"); ok {
		if s, err := v.str(); err != nil || s != name {
			return nil, nil, fmt.Errorf("Table.TableName %v is not the table's name %s", v.v, name)
		}
	}
	attrs, err := p.must("AttributeDefinitions").list()
	if err != nil {
		return nil, nil, err
	}
	for _, a := range attrs {
		o, err := propObject(a, "AttributeName", "AttributeType")
		if err != nil {
			return nil, nil, err
		}
		n, err := o.must("AttributeName").str()
		if err != nil {
			return nil, nil, err
		}
		t, err := o.must("AttributeType").oneOf("S", "N", "B")
		if err != nil {
			return nil, nil, err
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeType(t)})
	}
	if in.KeySchema, err = keySchema(p.must("KeySchema")); err != nil {
		return nil, nil, err
	}
	mode := "PROVISIONED" // CloudFormation's default
	if v, ok := p.get("BillingMode"); ok {
		if mode, err = v.oneOf("PROVISIONED", "PAY_PER_REQUEST"); err != nil {
			return nil, nil, err
		}
	}
	in.BillingMode = types.BillingMode(mode)
	if mode == "PROVISIONED" {
		if in.ProvisionedThroughput, err = throughput(p.must("ProvisionedThroughput")); err != nil {
			return nil, nil, err
		}
	} else if _, ok := p.get("ProvisionedThroughput"); ok {
		return nil, nil, errors.New("Table.ProvisionedThroughput is set with BillingMode PAY_PER_REQUEST")
	}
	if v, ok := p.get("GlobalSecondaryIndexes"); ok {
		indexes, err := v.list()
		if err != nil {
			return nil, nil, err
		}
		for _, ix := range indexes {
			g, err := globalIndex(ix, mode)
			if err != nil {
				return nil, nil, err
			}
			in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, g)
		}
	}
	var ttl *types.TimeToLiveSpecification
	if v, ok := p.get("TimeToLiveSpecification"); ok {
		o, err := propObject(v, "AttributeName", "Enabled")
		if err != nil {
			return nil, nil, err
		}
		on, err := o.must("Enabled").boolean()
		if err != nil {
			return nil, nil, err
		}
		attr, err := o.must("AttributeName").str()
		if err != nil {
			return nil, nil, err
		}
		if on {
			ttl = &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)}
		}
	}
	return in, ttl, nil
}

// keySchema reads a KeySchema: a HASH key and an optional RANGE key.
func keySchema(v propValue) ([]types.KeySchemaElement, error) {
	elems, err := v.list()
	if err != nil {
		return nil, err
	}
	var out []types.KeySchemaElement
	for _, e := range elems {
		o, err := propObject(e, "AttributeName", "KeyType")
		if err != nil {
			return nil, err
		}
		n, err := o.must("AttributeName").str()
		if err != nil {
			return nil, err
		}
		kt, err := o.must("KeyType").oneOf("HASH", "RANGE")
		if err != nil {
			return nil, err
		}
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(n), KeyType: types.KeyType(kt)})
	}
	if len(out) == 0 || len(out) > 2 || out[0].KeyType != types.KeyTypeHash || len(out) == 2 && out[1].KeyType != types.KeyTypeRange {
		return nil, fmt.Errorf("%s: want a HASH key and an optional RANGE key, in that order", v.path)
	}
	return out, nil
}

// globalIndex reads one of GlobalSecondaryIndexes.
func globalIndex(v propValue, mode string) (types.GlobalSecondaryIndex, error) {
	o, err := propObject(v, "IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
	if err != nil {
		return types.GlobalSecondaryIndex{}, err
	}
	var g types.GlobalSecondaryIndex
	n, err := o.must("IndexName").str()
	if err != nil {
		return g, err
	}
	g.IndexName = aws.String(n)
	if g.KeySchema, err = keySchema(o.must("KeySchema")); err != nil {
		return g, err
	}
	proj, err := propObject(o.must("Projection"), "ProjectionType", "NonKeyAttributes")
	if err != nil {
		return g, err
	}
	g.Projection = &types.Projection{ProjectionType: types.ProjectionTypeAll}
	if v, ok := proj.get("ProjectionType"); ok {
		t, err := v.oneOf("ALL", "KEYS_ONLY", "INCLUDE")
		if err != nil {
			return g, err
		}
		g.Projection.ProjectionType = types.ProjectionType(t)
	}
	if v, ok := proj.get("NonKeyAttributes"); ok {
		names, err := v.list()
		if err != nil {
			return g, err
		}
		for _, n := range names {
			s, err := n.str()
			if err != nil {
				return g, err
			}
			g.Projection.NonKeyAttributes = append(g.Projection.NonKeyAttributes, s)
		}
	}
	if mode == "PROVISIONED" {
		g.ProvisionedThroughput, err = throughput(o.must("ProvisionedThroughput"))
	} else if _, ok := o.get("ProvisionedThroughput"); ok {
		err = fmt.Errorf("%s.ProvisionedThroughput is set with BillingMode PAY_PER_REQUEST", v.path)
	}
	return g, err
}

// throughput reads a ProvisionedThroughput.
func throughput(v propValue) (*types.ProvisionedThroughput, error) {
	o, err := propObject(v, "ReadCapacityUnits", "WriteCapacityUnits")
	if err != nil {
		return nil, err
	}
	r, err := o.must("ReadCapacityUnits").integer()
	if err != nil {
		return nil, err
	}
	w, err := o.must("WriteCapacityUnits").integer()
	if err != nil {
		return nil, err
	}
	return &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(r), WriteCapacityUnits: aws.Int64(w)}, nil
}

// sameKeys reports how an existing table differs from the one in, in its key schema or its global
// secondary indexes' names and keys; nil if it does not.
func sameKeys(in *dynamodb.CreateTableInput, t *types.TableDescription) error {
	keys := func(ks []types.KeySchemaElement) string {
		var parts []string
		for _, k := range ks {
			parts = append(parts, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
		}
		return strings.Join(parts, ", ")
	}
	if want, got := keys(in.KeySchema), keys(t.KeySchema); want != got {
		return fmt.Errorf("key schema %s, want %s", got, want)
	}
	var want, got []string
	for _, g := range in.GlobalSecondaryIndexes {
		want = append(want, aws.ToString(g.IndexName)+" ("+keys(g.KeySchema)+")")
	}
	for _, g := range t.GlobalSecondaryIndexes {
		got = append(got, aws.ToString(g.IndexName)+" ("+keys(g.KeySchema)+")")
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, got) {
		return fmt.Errorf("global secondary indexes %v, want %v", got, want)
	}
	return nil
}

// waitActive polls until the table and its indexes are ACTIVE.
func waitActive(ctx context.Context, client *dynamodb.Client, name string) error {
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", name, err)
		}
		active := out.Table.TableStatus == types.TableStatusActive
		for _, g := range out.Table.GlobalSecondaryIndexes {
			active = active && g.IndexStatus == types.IndexStatusActive
		}
		if active {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("table %s: wait until active: %w", name, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// applyTTL turns on expiry by the attribute ttl names, unless it is on already. dynalite has no TTL
// (it answers UpdateTimeToLive with UnknownOperationException): there items stay past their expiry,
// which the store tolerates, since DynamoDB too deletes expired items only within days and the store
// treats them as absent when it reads them.
func applyTTL(ctx context.Context, client *dynamodb.Client, name string, ttl *types.TimeToLiveSpecification) error {
	cur, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("table %s: describe TTL: %w", name, err)
	}
	if d := cur.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == aws.ToString(ttl.AttributeName) &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name), TimeToLiveSpecification: ttl})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "UnknownOperationException" {
		slog.InfoContext(ctx, "the local DynamoDB has no TTL: expired items stay, and the store reads them as absent",
			"table", name, "attribute", aws.ToString(ttl.AttributeName))
		return nil
	}
	if err != nil {
		return fmt.Errorf("table %s: TimeToLiveSpecification: %w", name, err)
	}
	return nil
}

// ---------------------------------------------------------------- reading properties

// propValue is a value of a resolved template property and the path that names it in errors.
type propValue struct {
	path string
	v    any
}

// propFields is a property object whose keys were checked.
type propFields struct {
	path string
	m    map[string]any
}

// propObject reads v as an object whose keys are among allowed (an ignored table property is allowed
// too, and left out).
func propObject(v propValue, allowed ...string) (propFields, error) {
	m, ok := v.v.(map[string]any)
	if v.v == nil {
		return propFields{}, v.missing()
	}
	if !ok {
		return propFields{}, fmt.Errorf("%s: want an object, got %T", v.path, v.v)
	}
	for k := range m {
		if !slices.Contains(allowed, k) {
			return propFields{}, fmt.Errorf("%s.%s is not supported by the gateway", v.path, k)
		}
	}
	return propFields{v.path, m}, nil
}

// get returns the property k, unless it is absent or an ignored table property.
func (p propFields) get(k string) (propValue, bool) {
	v, ok := p.m[k]
	if slices.Contains(ignoredTableProperties, k) {
		return propValue{}, false
	}
	return propValue{p.path + "." + k, v}, ok
}

// must returns the property k; a missing one reads as nil, which every reader refuses.
func (p propFields) must(k string) propValue {
	v, _ := p.get(k)
	v.path = p.path + "." + k
	return v
}

func (v propValue) missing() error { return fmt.Errorf("%s is required", v.path) }

func (v propValue) str() (string, error) {
	switch s := v.v.(type) {
	case nil:
		return "", v.missing()
	case string:
		return s, nil
	}
	return "", fmt.Errorf("%s: want a string, got %T", v.path, v.v)
}

func (v propValue) oneOf(values ...string) (string, error) {
	s, err := v.str()
	if err == nil && !slices.Contains(values, s) {
		err = fmt.Errorf("%s: %q is not one of %s", v.path, s, strings.Join(values, ", "))
	}
	return s, err
}

func (v propValue) list() ([]propValue, error) {
	l, ok := v.v.([]any)
	if !ok {
		if v.v == nil {
			return nil, v.missing()
		}
		return nil, fmt.Errorf("%s: want a list, got %T", v.path, v.v)
	}
	out := make([]propValue, len(l))
	for i, e := range l {
		out[i] = propValue{fmt.Sprintf("%s[%d]", v.path, i), e}
	}
	return out, nil
}

// integer reads a number written as a YAML integer or as a string.
func (v propValue) integer() (int64, error) {
	switch n := v.v.(type) {
	case nil:
		return 0, v.missing()
	case int:
		return int64(n), nil
	case int64:
		return n, nil
	case uint64:
		if n <= 1<<62 {
			return int64(n), nil
		}
	case float64:
		if n == float64(int64(n)) {
			return int64(n), nil
		}
	case string:
		if i, err := strconv.ParseInt(n, 10, 64); err == nil {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%s: want a whole number, got %v", v.path, v.v)
}

// boolean reads a YAML boolean or the strings "true" and "false".
func (v propValue) boolean() (bool, error) {
	switch b := v.v.(type) {
	case nil:
		return false, v.missing()
	case bool:
		return b, nil
	case string:
		if b == "true" || b == "false" {
			return b == "true", nil
		}
	}
	return false, fmt.Errorf("%s: want true or false, got %v", v.path, v.v)
}
