package profile

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/text"
)

// Limits of a profile (docs/api.md), counted in characters (Unicode code points) after trimming.
const (
	MaxNickname  = 64
	MaxBio       = 1000
	MaxShades    = 50
	MaxShadeName = 80
	MaxText      = 2000
	MaxTopics    = 20
	MaxTopic     = 40
	MaxURL       = 2048
)

// Confidences are the confidence levels a shade may have, highest first.
var Confidences = []string{
	store.ConfidenceVeryHigh, store.ConfidenceHigh, store.ConfidenceMedium, store.ConfidenceLow, store.ConfidenceVeryLow,
}

// DefaultConfidence is the level of a shade given without one.
const DefaultConfidence = store.ConfidenceMedium

// checker collects the faults of one validation, each field by its path (such as "shades[3].name")
// with the reason.
type checker fault.Fields

func (c checker) add(field, why string) { fault.Fields(c).Add(field, why) }

// err returns nil, or an invalid_argument *fault.Error naming every field that breaks the rules.
func (c checker) err() error { return fault.Fields(c).Err() }

// text trims s and checks it: valid UTF-8, between lo and hi characters, and the rule of package text
// for its kind (multiline: a body, which may hold newlines and tabs; else a name).
func (c checker) text(field, s string, lo, hi int, multiline bool) string {
	if !utf8.ValidString(s) {
		c.add(field, text.NotUTF8)
		return s
	}
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	switch {
	case n < lo && lo == 1:
		c.add(field, "required")
	case n < lo:
		c.add(field, fmt.Sprintf("at least %d characters", lo))
	case n > hi:
		c.add(field, fmt.Sprintf("at most %d characters", hi))
	}
	kind := text.Name
	if multiline {
		kind = text.Body
	}
	if why := text.Check(s, kind); why != "" {
		c.add(field, why)
	}
	return s
}

// httpsURL trims s and checks that it is empty or an absolute https URL.
func (c checker) httpsURL(field, s string) string {
	s = c.text(field, s, 0, MaxURL, false)
	if s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		c.add(field, "must be an https URL or empty")
	}
	return s
}

// topics trims and checks a topic list: at most MaxTopics, each 1-MaxTopic characters, no repeats.
func (c checker) topics(field string, in []string) []string {
	if len(in) > MaxTopics {
		c.add(field, fmt.Sprintf("at most %d topics", MaxTopics))
	}
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for i, t := range in {
		f := fmt.Sprintf("%s[%d]", field, i)
		t = c.text(f, t, 1, MaxTopic, false)
		key := strings.ToLower(t)
		if seen[key] {
			c.add(f, "repeated topic")
		}
		seen[key] = true
		out = append(out, t)
	}
	return out
}

// ValidateShades trims and checks a shade list as PUT /api/user/shades receives it. It returns the
// normalized list (an empty confidence becomes DefaultConfidence) or an invalid_argument *fault.Error
// naming every fault by its path, such as "shades[3].name". Ids are optional; a given id must be in our
// own format and appear once.
func ValidateShades(in []Shade) ([]Shade, error) {
	c := checker{}
	if len(in) > MaxShades {
		c.add("shades", fmt.Sprintf("at most %d shades", MaxShades))
	}
	out := make([]Shade, 0, len(in))
	ids := make(map[string]bool, len(in))
	for i, s := range in {
		p := fmt.Sprintf("shades[%d]", i)
		if s.ID != "" {
			if !id.Valid(s.ID) {
				c.add(p+".id", "not an id in our format")
			} else if ids[s.ID] {
				c.add(p+".id", "repeated id")
			}
			ids[s.ID] = true
		}
		n := Shade{
			ID:          s.ID,
			Name:        c.text(p+".name", s.Name, 1, MaxShadeName, false),
			Icon:        c.httpsURL(p+".icon", s.Icon),
			Confidence:  strings.TrimSpace(s.Confidence),
			Description: c.text(p+".description", s.Description, 0, MaxText, true),
			Content:     c.text(p+".content", s.Content, 0, MaxText, true),
			Topics:      c.topics(p+".topics", s.Topics),
		}
		if n.Confidence == "" {
			n.Confidence = DefaultConfidence
		} else if !validConfidence(n.Confidence) {
			c.add(p+".confidence", "must be one of "+strings.Join(Confidences, ", "))
		}
		if s.Public != nil {
			n.Public = &PublicShade{
				Name:        c.text(p+".public.name", s.Public.Name, 0, MaxShadeName, false),
				Description: c.text(p+".public.description", s.Public.Description, 0, MaxText, true),
				Content:     c.text(p+".public.content", s.Public.Content, 0, MaxText, true),
				Topics:      c.topics(p+".public.topics", s.Public.Topics),
			}
		}
		out = append(out, n)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	return out, nil
}

func validConfidence(s string) bool {
	for _, c := range Confidences {
		if s == c {
			return true
		}
	}
	return false
}
