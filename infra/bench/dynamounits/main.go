// Command dynamounits prints the "DynamoDB units per chat turn" section of docs/benchmarks.md: the
// write and read capacity units one chat turn costs on the DynamoDB store (dynalite, counted by
// Counter as DynamoDB bills them, indexes included), with one's own twin and with another person's, at
// 10 and 1,000 prior messages, with the offline model. Turns follow each other 20 s apart on the
// service's clock, a conversation's pace, so the session's recency key moves on some turns only.
//
// It needs dynalite: without DYNAMO_ENDPOINT it runs itself again under infra/scripts/with-dynalite.sh.
// Run it from the repository root: go run ./infra/bench/dynamounits [-turns 6].
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/guregu/dynamo/v2"

	"github.com/secondme/twin/pkg/chat"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/llm/offline"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/dynamostore"
)

// pace is the time between two turns of a conversation on the service's clock.
const pace = 20 * time.Second

func main() {
	turns := flag.Int("turns", 6, "turns per case, 20 s apart")
	people := flag.Int("people", 20_000, "synthetic people in the candidate exposure run (0: no exposure run)")
	flag.Parse()
	if os.Getenv("DYNAMO_ENDPOINT") == "" {
		cmd := exec.Command("infra/scripts/with-dynalite.sh", os.Args...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "bench dynamounits:", err)
			os.Exit(1)
		}
		return
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	rows, err := chatUnits(ctx, *turns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench dynamounits:", err)
		os.Exit(1)
	}
	fmt.Println("## DynamoDB units per chat turn")
	fmt.Println()
	fmt.Printf("One chat turn (`chat.Service.Turn`, with the offline model or one that always answers the same 1.3 KB of prose)\n")
	fmt.Printf("on the DynamoDB store over dynalite, its requests counted by\n")
	fmt.Printf("infra/bench/dynamounits as DynamoDB bills them: writes ceil(size/1 KB) per item on the table and on each\n")
	fmt.Printf("GSI the item is in (a moved GSI key costs a delete and a put), refused conditional writes included; reads\n")
	fmt.Printf("ceil(size/4 KB), halved when eventually consistent. %d turns per case, %s apart; mean (max) per turn.\n", *turns, pace)
	fmt.Println("The store is configured as the functions configure it (the twin cache on). docs/scale.md records the figures")
	fmt.Println("from before the changes of issue 17.")
	fmt.Println()
	fmt.Println("| twin | model | prior messages | write units | read units | writes by request |")
	fmt.Println("|---|---|---:|---:|---:|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %d | %.1f (%.0f) | %.1f (%.1f) | %s |\n", r.name, r.model, r.history, r.write, r.maxWrite, r.read, r.maxRead, r.byOp)
	}
	fmt.Println()
	if *people <= 0 {
		return
	}
	if err := exposure(ctx, os.Stdout, *people); err != nil {
		fmt.Fprintln(os.Stderr, "bench dynamounits:", err)
		os.Exit(1)
	}
}

// row is the units of one case.
type row struct {
	name, model       string
	history           int
	write, read       float64
	maxWrite, maxRead float64
	byOp              string
}

// chatUnits runs the turns of each case and returns their units.
func chatUnits(ctx context.Context, turns int) ([]row, error) {
	ep := os.Getenv("DYNAMO_ENDPOINT")
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("dynalite", "dynalite", "")}
	endpoint := func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ep) }
	plain := dynamo.New(cfg, endpoint)
	counter := NewCounter(http.DefaultTransport, "PK", "SK", [2]string{"GSI1PK", "GSI1SK"}, [2]string{"GSI2PK", "GSI2SK"})
	counted := dynamo.New(cfg, endpoint, func(o *dynamodb.Options) { o.HTTPClient = &http.Client{Transport: counter} })
	table := "bench-units-" + id.New()
	if err := dynamostore.CreateTable(ctx, plain, table); err != nil {
		return nil, err
	}
	defer plain.Table(table).DeleteTable().Run(ctx)
	// The measured store is configured as the functions configure it (functions/app/awsapp).
	seedStore := dynamostore.New(plain, table)
	st := dynamostore.New(counted, table, dynamostore.WithTwinCache(dynamostore.DefaultTwinCacheTTL, dynamostore.DefaultTwinCacheSize))

	me, other := persona("Me"), persona("Other")
	for _, u := range []store.User{me, other} {
		if err := seedStore.CreateUser(ctx, u); err != nil {
			return nil, err
		}
	}
	clock := time.Now()
	var rows []row
	for _, model := range []llm.Model{offline.New(), longReply{}} {
		svc := chat.New(st, chat.OneModel{Model: model}, chat.Options{DailyQuota: 1 << 30, Now: func() time.Time { return clock }})
		modelName := "offline"
		if _, ok := model.(longReply); ok {
			modelName = fmt.Sprintf("%.1f KB reply", float64(len(longText))/1024)
		}
		for _, own := range []bool{true, false} {
			for _, n := range []int{10, 1000} {
				twin, name := me.ID, "own"
				if !own {
					twin, name = other.ID, "another person's"
				}
				sid, err := seed(ctx, seedStore, me.ID, twin, n, clock)
				if err != nil {
					return nil, err
				}
				r := row{name: name, model: modelName, history: n}
				byOp := map[string]float64{}
				for i := range turns {
					clock = clock.Add(pace)
					counter.Reset()
					_, err := svc.Turn(ctx, chat.TurnRequest{UserID: me.ID, SessionID: sid,
						Message: fmt.Sprintf("Tell me about your weekend plans, part %d?", i), ClientMessageID: id.New()}, chat.Events{})
					if err != nil {
						return nil, err
					}
					w, rd := counter.Units()
					r.write += w / float64(turns)
					r.read += rd / float64(turns)
					r.maxWrite, r.maxRead = max(r.maxWrite, w), max(r.maxRead, rd)
					for k, v := range counter.ByOp() {
						if strings.HasSuffix(k, " w") {
							byOp[strings.TrimSuffix(k, " w")] += v / float64(turns)
						}
					}
				}
				var parts []string
				for _, k := range slices.Sorted(maps.Keys(byOp)) {
					parts = append(parts, fmt.Sprintf("%s %.1f", k, byOp[k]))
				}
				r.byOp = strings.Join(parts, ", ")
				rows = append(rows, r)
			}
		}
	}
	return rows, nil
}

// longText is a reply of a typical length for a model (about 250 words of ordinary prose, which
// compresses as text does).
var longText = `That sounds like a lovely plan for the weekend. If you are heading to Sintra, the granite boulders ` +
	`above the Moorish castle stay dry even after a rainy week, and the morning light there is gentle. I would pack ` +
	`the older rope for top-roping, two litres of water each, and something salty for the walk back down, because ` +
	`the path through the forest is steeper than it looks on the map. As for the bread: if your starter doubled in ` +
	`four hours yesterday, feed it tonight at a one-to-five ratio and leave it on the counter; by Saturday morning it ` +
	`should be lively enough for a loaf with a good open crumb. Shape it before you leave, let it proof slowly in ` +
	`the fridge while you climb, and bake it at the highest temperature your oven reaches once you are home, with a ` +
	`tray of boiling water underneath for the first twenty minutes. If the weather turns, there is a small indoor ` +
	`wall in Alcantara that opens at ten and rents shoes, and the cafe next door serves a decent espresso. Tell me ` +
	`how the first route feels; last time you said your forearms gave up before your head did, so maybe start with ` +
	`something easy, rest properly between attempts, and save the overhang for the afternoon when you are warm. ` +
	`And do take a photo of the view from the top; Joana asked about it twice last week.`

// longReply is a model that always answers longText.
type longReply struct{}

func (longReply) Generate(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	if onDelta != nil {
		if err := onDelta(longText); err != nil {
			return llm.Reply{}, err
		}
	}
	return llm.Reply{Text: longText, Model: "long-reply"}, nil
}

// persona is a person with a realistic profile: six shades with public parts and five memories.
func persona(nick string) store.User {
	now := time.Now().UTC()
	u := store.User{ID: id.New(), Nickname: nick, Bio: "Product designer in Lisbon; weekend climber; bakes sourdough.",
		Provider: store.ProviderOIDC, Discoverable: true, AllowTwinChat: true, CreatedAt: now, UpdatedAt: now}
	for i, name := range []string{"Climbing", "Sourdough", "Design systems", "Jazz piano", "Travel", "Reading"} {
		u.Shades = append(u.Shades, store.Shade{ID: id.New(), Name: name, Confidence: store.ConfidenceHigh,
			Description: fmt.Sprintf("I care about %s and spend a lot of my free time on it.", strings.ToLower(name)),
			Content:     strings.Repeat(fmt.Sprintf("Details about %s number %d. ", name, i), 6),
			Topics:      []string{strings.ToLower(name), "hobby"},
			Public:      &store.PublicShade{Name: name, Description: "Enjoys " + strings.ToLower(name) + "."}})
	}
	for i := range 5 {
		u.Memories = append(u.Memories, store.Memory{ID: id.New(), Subject: fmt.Sprintf("memory %d", i),
			Content: "A weekend trip to the mountains with old friends.", CreatedAt: now})
	}
	return u
}

// seed stores a session with n messages of varied length, ending before now, and returns its id.
func seed(ctx context.Context, st *dynamostore.Store, owner, twinID string, n int, now time.Time) (string, error) {
	t0 := now.Add(-time.Duration(n+10) * time.Second)
	sess := store.ChatSession{ID: id.At(t0), OwnerID: owner, TwinID: twinID, Title: "Weekend plans", CreatedAt: t0, UpdatedAt: t0}
	if err := st.CreateSession(ctx, sess); err != nil {
		return "", err
	}
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Second)
		role := store.RoleUser
		if i%2 == 1 {
			role = store.RoleAssistant
		}
		m := store.ChatMessage{ID: id.At(at), SessionID: sess.ID, Role: role,
			Content: fmt.Sprintf("message %d: %s", i, strings.Repeat("some words of the conversation ", 1+i%20)), CreatedAt: at}
		if _, err := st.PutMessage(ctx, m); err != nil {
			return "", err
		}
	}
	return sess.ID, nil
}
