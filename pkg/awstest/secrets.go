package awstest

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// secretsJSON is the content type of the Secrets Manager JSON protocol.
const secretsJSON = "application/x-amz-json-1.1"

// Secrets is a fake of AWS Secrets Manager that answers GetSecretValue (X-Amz-Target
// secretsmanager.GetSecretValue) for the secrets it holds, addressed by name, by full ARN or by ARN
// without its random suffix, and counts the reads of each.
type Secrets struct {
	mu      sync.Mutex
	secrets []*secret
}

// secret is one secret of the fake.
type secret struct {
	name, arn string
	value     string
	version   string
	created   time.Time
	reads     int
}

// arnSuffix is the random suffix Secrets Manager appends to a secret's name in its ARN.
var arnSuffix = regexp.MustCompile(`-[A-Za-z0-9]{6}$`)

// NewSecrets returns a Secrets Manager fake holding values by secret id (see Set).
func NewSecrets(values map[string]string) *Secrets {
	s := &Secrets{}
	for id, v := range values {
		s.Set(id, v)
	}
	return s
}

// Set stores value as the current version of the secret id: a secret ARN, whose name is its resource
// part without the random suffix, or a name, whose ARN is made up in the fake's account and region.
// A secret that exists gets a new version.
func (s *Secrets) Set(id, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec := s.find(id); sec != nil {
		sec.value, sec.version = value, newID()
		return
	}
	sec := &secret{name: id, arn: id, value: value, version: newID(), created: time.Now()}
	if name, ok := strings.CutPrefix(id, "arn:"); ok {
		_, sec.name, _ = strings.Cut(name, ":secret:")
		if loc := arnSuffix.FindStringIndex(sec.name); loc != nil {
			sec.name = sec.name[:loc[0]]
		}
	} else {
		sum := sha256.Sum256([]byte(id))
		sec.arn = "arn:aws:secretsmanager:" + Region + ":" + Account + ":secret:" + id + "-" + hex.EncodeToString(sum[:3])
	}
	s.secrets = append(s.secrets, sec)
}

// Reads returns how many times GetSecretValue answered the secret id (in any of its forms).
func (s *Secrets) Reads(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec := s.find(id); sec != nil {
		return sec.reads
	}
	return 0
}

// find returns the secret id names, nil if none. The caller holds s.mu.
func (s *Secrets) find(id string) *secret {
	for _, sec := range s.secrets {
		if id == sec.name || id == sec.arn || id == arnSuffix.ReplaceAllString(sec.arn, "") {
			return sec
		}
	}
	return nil
}

// ServeHTTP answers one Secrets Manager JSON-protocol request.
func (s *Secrets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, e := readCall(w, r, "secretsmanager", secretsJSON)
	if e == nil && c.op != "GetSecretValue" {
		e = &apiError{status: http.StatusBadRequest, typ: "com.amazon.coral.service#UnknownOperationException",
			message: "awstest.Secrets serves only GetSecretValue, not " + c.op}
	}
	var in struct{ SecretId, VersionId, VersionStage string }
	if e == nil {
		e = decode(c.body, &in)
	}
	if e != nil {
		writeError(w, secretsJSON, e)
		return
	}
	s.mu.Lock()
	sec := s.find(in.SecretId)
	if sec != nil && (in.VersionId == "" || in.VersionId == sec.version) && (in.VersionStage == "" || in.VersionStage == "AWSCURRENT") {
		sec.reads++
	} else {
		sec = nil
	}
	var out map[string]any
	if sec != nil {
		out = map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": sec.version, "SecretString": sec.value,
			"VersionStages": []string{"AWSCURRENT"}, "CreatedDate": float64(sec.created.UnixMilli()) / 1000}
	}
	s.mu.Unlock()
	if out == nil {
		writeError(w, secretsJSON, &apiError{status: http.StatusBadRequest, typ: "ResourceNotFoundException",
			message: "Secrets Manager can't find the specified secret."})
		return
	}
	writeJSON(w, secretsJSON, out)
}
