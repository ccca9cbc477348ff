package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/secondme/twin/infra/testenv"
)

// templateTable is the table of template.yaml, DeletionProtectionEnabled resolved as in dev.
const templateTable = `
BillingMode: PAY_PER_REQUEST
AttributeDefinitions:
  - { AttributeName: PK, AttributeType: S }
  - { AttributeName: SK, AttributeType: S }
  - { AttributeName: GSI1PK, AttributeType: S }
  - { AttributeName: GSI1SK, AttributeType: S }
  - { AttributeName: GSI2PK, AttributeType: S }
  - { AttributeName: GSI2SK, AttributeType: S }
KeySchema:
  - { AttributeName: PK, KeyType: HASH }
  - { AttributeName: SK, KeyType: RANGE }
GlobalSecondaryIndexes:
  - IndexName: GSI1
    KeySchema:
      - { AttributeName: GSI1PK, KeyType: HASH }
      - { AttributeName: GSI1SK, KeyType: RANGE }
    Projection: { ProjectionType: ALL }
  - IndexName: GSI2
    KeySchema:
      - { AttributeName: GSI2PK, KeyType: HASH }
      - { AttributeName: GSI2SK, KeyType: RANGE }
    Projection: { ProjectionType: ALL }
PointInTimeRecoverySpecification:
  PointInTimeRecoveryEnabled: true
SSESpecification:
  SSEEnabled: true
TimeToLiveSpecification:
  AttributeName: ttl
  Enabled: true
DeletionProtectionEnabled: false
`

// tableProps decodes table properties written in YAML, as the template reader does.
func tableProps(t *testing.T, src string) map[string]any {
	t.Helper()
	m, err := decodeTemplate([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTableInput(t *testing.T) {
	tests := []struct {
		name    string
		props   string
		wantErr string // "" for success
		check   func(t *testing.T, in *dynamodb.CreateTableInput, ttl *types.TimeToLiveSpecification)
	}{
		{name: "the template's table", props: templateTable, check: func(t *testing.T, in *dynamodb.CreateTableInput, ttl *types.TimeToLiveSpecification) {
			if in.BillingMode != types.BillingModePayPerRequest || len(in.AttributeDefinitions) != 6 || len(in.KeySchema) != 2 ||
				len(in.GlobalSecondaryIndexes) != 2 || aws.ToString(in.GlobalSecondaryIndexes[1].IndexName) != "GSI2" ||
				in.GlobalSecondaryIndexes[1].Projection.ProjectionType != types.ProjectionTypeAll {
				t.Errorf("input %+v", in)
			}
			if ttl == nil || aws.ToString(ttl.AttributeName) != "ttl" {
				t.Errorf("TTL %+v, want on ttl", ttl)
			}
		}},
		{name: "provisioned, numbers as strings or integers", props: `
AttributeDefinitions: [{ AttributeName: id, AttributeType: N }]
KeySchema: [{ AttributeName: id, KeyType: HASH }]
ProvisionedThroughput: { ReadCapacityUnits: "5", WriteCapacityUnits: 7 }
TimeToLiveSpecification: { AttributeName: ttl, Enabled: "false" }
`, check: func(t *testing.T, in *dynamodb.CreateTableInput, ttl *types.TimeToLiveSpecification) {
			if in.BillingMode != types.BillingModeProvisioned || aws.ToInt64(in.ProvisionedThroughput.ReadCapacityUnits) != 5 ||
				aws.ToInt64(in.ProvisionedThroughput.WriteCapacityUnits) != 7 {
				t.Errorf("input %+v", in)
			}
			if ttl != nil {
				t.Errorf("TTL %+v, want none (Enabled false)", ttl)
			}
		}},
		{name: "an index projecting some attributes", props: `
BillingMode: PAY_PER_REQUEST
AttributeDefinitions: [{ AttributeName: a, AttributeType: S }, { AttributeName: b, AttributeType: S }]
KeySchema: [{ AttributeName: a, KeyType: HASH }]
GlobalSecondaryIndexes:
  - { IndexName: byB, KeySchema: [{ AttributeName: b, KeyType: HASH }], Projection: { ProjectionType: INCLUDE, NonKeyAttributes: [c, d] } }
`, check: func(t *testing.T, in *dynamodb.CreateTableInput, _ *types.TimeToLiveSpecification) {
			if p := in.GlobalSecondaryIndexes[0].Projection; p.ProjectionType != types.ProjectionTypeInclude || strings.Join(p.NonKeyAttributes, ",") != "c,d" {
				t.Errorf("projection %+v", p)
			}
		}},
		{name: "a local secondary index", props: templateTable + "LocalSecondaryIndexes: []\n", wantErr: "Table.LocalSecondaryIndexes is not supported"},
		{name: "a stream", props: templateTable + "StreamSpecification: { StreamViewType: NEW_IMAGE }\n", wantErr: "Table.StreamSpecification is not supported"},
		{name: "an index option", props: strings.Replace(templateTable, "Projection: { ProjectionType: ALL }", "Projection: { ProjectionType: ALL }\n    ContributorInsightsSpecification: { Enabled: true }", 1),
			wantErr: "Table.GlobalSecondaryIndexes[0].ContributorInsightsSpecification is not supported"},
		{name: "an unknown attribute type", props: strings.Replace(templateTable, "{ AttributeName: SK, AttributeType: S }", "{ AttributeName: SK, AttributeType: SS }", 1),
			wantErr: "Table.AttributeDefinitions[1].AttributeType"},
		{name: "a range key first", props: strings.Replace(templateTable, "KeyType: HASH }\n  - { AttributeName: SK, KeyType: RANGE }", "KeyType: RANGE }\n  - { AttributeName: SK, KeyType: HASH }", 1),
			wantErr: "Table.KeySchema: want a HASH key"},
		{name: "no key schema", props: "BillingMode: PAY_PER_REQUEST\nAttributeDefinitions: []\n", wantErr: "Table.KeySchema is required"},
		{name: "provisioned without throughput", props: `
AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
KeySchema: [{ AttributeName: id, KeyType: HASH }]
`, wantErr: "Table.ProvisionedThroughput is required"},
		{name: "a fractional capacity", props: `
AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
KeySchema: [{ AttributeName: id, KeyType: HASH }]
ProvisionedThroughput: { ReadCapacityUnits: 1.5, WriteCapacityUnits: 1 }
`, wantErr: "Table.ProvisionedThroughput.ReadCapacityUnits: want a whole number"},
		{name: "TTL switched on by a word", props: strings.Replace(templateTable, "AttributeName: ttl\n  Enabled: true", "AttributeName: ttl\n  Enabled: yes please", 1),
			wantErr: "Table.TimeToLiveSpecification.Enabled"},
		{name: "another table name", props: templateTable + "TableName: other\n", wantErr: "Table.TableName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, ttl, err := tableInput("secondme", tableProps(t, tt.props))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, in, ttl)
		})
	}
}

// needDynalite stops the test when node or dynalite is missing (a failure in CI) and returns the
// module root.
func needDynalite(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	_, nodeErr := exec.LookPath("node")
	_, binErr := os.Stat(filepath.Join(root, "infra/dynalite/node_modules/.bin/dynalite"))
	testenv.Need(t, nodeErr == nil && binErr == nil, "dynalite (Node.js >= 20, then npm ci --prefix infra/dynalite)")
	return root
}

func dynamoClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("gateway", "gateway", ""),
	})
}

func TestDynaliteKeepsTheTableAcrossRestarts(t *testing.T) {
	root := needDynalite(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "dynalite")
	props := tableProps(t, templateTable)
	item := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "USER#1"}, "SK": &types.AttributeValueMemberS{Value: "PROFILE"}}

	endpoint, stop, err := startDynalite(ctx, root, dir)
	if err != nil {
		t.Fatal(err)
	}
	db := dynamoClient(endpoint)
	if err := createTable(ctx, db, "secondme", props); err != nil {
		stop()
		t.Fatalf("createTable: %v", err)
	}
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("secondme"), Item: item})
	if stopErr := stop(); err != nil || stopErr != nil {
		t.Fatalf("put: %v; stop: %v", err, stopErr)
	}
	if _, err := db.ListTables(ctx, &dynamodb.ListTablesInput{}); err == nil {
		t.Fatal("dynalite still answers after stop")
	}

	endpoint, stop, err = startDynalite(ctx, root, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	db = dynamoClient(endpoint)
	if err := createTable(ctx, db, "secondme", props); err != nil {
		t.Fatalf("createTable on the kept table: %v", err)
	}
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("secondme"), Key: item, ConsistentRead: aws.Bool(true)})
	if err != nil || got.Item == nil {
		t.Fatalf("the item did not survive the restart: %v, %v", got, err)
	}
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("secondme")})
	if err != nil || len(desc.Table.GlobalSecondaryIndexes) != 2 || desc.Table.BillingModeSummary == nil ||
		desc.Table.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("table %+v, %v; want two indexes, on demand", desc, err)
	}

	other := tableProps(t, strings.Replace(templateTable, "  - IndexName: GSI2", "  - IndexName: GSI3", 1))
	if err := createTable(ctx, db, "secondme", other); err == nil || !strings.Contains(err.Error(), "GSI3") {
		t.Errorf("createTable over a table with other indexes = %v, want an error naming them", err)
	}
}

func TestDynaliteInMemory(t *testing.T) {
	root := needDynalite(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range 2 {
		endpoint, stop, err := startDynalite(ctx, root, "")
		if err != nil {
			t.Fatal(err)
		}
		out, err := dynamoClient(endpoint).ListTables(ctx, &dynamodb.ListTablesInput{})
		stop()
		if err != nil || len(out.TableNames) != 0 {
			t.Fatalf("a fresh in-memory dynalite lists %v (%v), want no table", out, err)
		}
		if err := createTable(ctx, dynamoClient(endpoint), "x", tableProps(t, templateTable)); err == nil {
			t.Error("createTable on a stopped dynalite succeeded")
		}
	}
}

func TestDynaliteMissing(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node: the error names node instead")
	}
	_, _, err := startDynalite(context.Background(), t.TempDir(), "")
	if err == nil || !strings.Contains(err.Error(), "npm ci --prefix infra/dynalite") {
		t.Errorf("startDynalite without dynalite = %v, want an error naming npm ci --prefix infra/dynalite", err)
	}
}

func TestDynaliteRefusesADataDirectoryInUse(t *testing.T) {
	root := needDynalite(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	_, stop, err := startDynalite(ctx, root, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if _, stop2, err := startDynalite(ctx, root, dir); err == nil {
		stop2()
		t.Fatal("a second dynalite started on the same data directory")
	} else if !strings.Contains(err.Error(), "in use by another process") {
		t.Errorf("err = %v, want one saying the store is in use", err)
	}
}
