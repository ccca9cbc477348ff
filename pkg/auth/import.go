package auth

import (
	"crypto/sha256"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/secondme"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/text"
)

// maxMemories bounds the key memories imported per person.
const maxMemories = 100

// imported is what SecondMe says of a person, fitted to the limits of our API (profile package), so
// that an imported profile is always one the person could have typed in.
type imported struct {
	Nickname string
	Avatar   string
	Bio      string
	Shades   []store.Shade
	Memories []store.Memory
	// MemoriesOK is false when the memory import failed (the login goes on without them).
	MemoriesOK bool
}

// profileFrom maps SecondMe's user info to nickname, avatar and bio.
func profileFrom(info secondme.UserInfo) (nickname, avatar, bio string) {
	nickname = clipText(info.Name, profile.MaxNickname, false)
	if nickname == "" {
		nickname = "SecondMe user"
	}
	bio = info.Bio
	if strings.TrimSpace(bio) == "" {
		bio = info.SelfIntroduction
	}
	return nickname, httpsOrEmpty(info.Avatar), clipText(bio, profile.MaxBio, true)
}

// shadesFrom maps SecondMe shades to ours. Private fields (the owner's twin only) prefer the
// third-person texts; the public part follows docs/secondme-api.md: description
// shadeDescriptionThirdViewPublic, then shadeDescriptionPublic; name shadeNamePublic (empty shows the
// shade's own name). Ids are stable across imports: derived from the person and SecondMe's shade id.
func shadesFrom(userID string, created time.Time, in []secondme.Shade) []store.Shade {
	out := make([]store.Shade, 0, min(len(in), profile.MaxShades))
	seen := map[string]bool{}
	for _, s := range in {
		if len(out) == profile.MaxShades {
			break
		}
		name := clipText(first(s.Name, s.NamePublic), profile.MaxShadeName, false)
		if name == "" {
			continue
		}
		key := "shade:" + first(s.ID, name)
		if seen[key] {
			continue
		}
		seen[key] = true
		sh := store.Shade{
			ID:          stableID(created, userID, key),
			Name:        name,
			Icon:        first(httpsOrEmpty(s.Icon), httpsOrEmpty(s.IconPublic)),
			Confidence:  confidence(s.ConfidenceLevel, s.ConfidenceLevelPublic),
			Description: clipText(first(s.DescriptionThirdView, s.Description), profile.MaxText, true),
			Content:     clipText(first(s.ContentThirdView, s.Content), profile.MaxText, true),
			Topics:      topics(s.SourceTopics),
		}
		pub := store.PublicShade{
			Name:        clipText(s.NamePublic, profile.MaxShadeName, false),
			Description: clipText(first(s.DescriptionThirdViewPublic, s.DescriptionPublic), profile.MaxText, true),
			Content:     clipText(first(s.ContentThirdViewPublic, s.ContentPublic), profile.MaxText, true),
			Topics:      topics(s.SourceTopicsPublic),
		}
		if s.HasPublicContent || pub.Name != "" || pub.Description != "" || pub.Content != "" || len(pub.Topics) > 0 {
			sh.Public = &pub
		}
		out = append(out, sh)
	}
	return out
}

// memoriesFrom maps key memories to ours (at most maxMemories, without empty ones).
func memoriesFrom(userID string, in []secondme.Memory) []store.Memory {
	out := make([]store.Memory, 0, min(len(in), maxMemories))
	seen := map[string]bool{}
	for _, m := range in {
		if len(out) == maxMemories {
			break
		}
		content := clipText(m.Content, profile.MaxText, true)
		subject := clipText(first(m.Object, m.Actor), profile.MaxShadeName, false)
		if content == "" && subject == "" {
			continue
		}
		key := "memory:" + first(m.ID, subject+"\x00"+content)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, store.Memory{ID: stableID(m.CreatedAt, userID, key), Subject: subject, Content: content, CreatedAt: m.CreatedAt})
	}
	return out
}

// stableID derives an id in our own format (a ULID) from a time and a key, the same on every import.
func stableID(t time.Time, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	var u ulid.ULID
	ms := uint64(0)
	if t.UnixMilli() > 0 {
		ms = uint64(t.UnixMilli())
	}
	if err := u.SetTime(min(ms, ulid.MaxTime())); err != nil {
		panic(err)
	}
	copy(u[6:], h[:10])
	return u.String()
}

// confidence returns the first valid confidence level, else profile.DefaultConfidence.
func confidence(levels ...string) string {
	for _, l := range levels {
		l = strings.ToUpper(strings.TrimSpace(l))
		for _, c := range profile.Confidences {
			if l == c {
				return c
			}
		}
	}
	return profile.DefaultConfidence
}

// topics cleans a topic list: single-line, clipped, without repeats, at most profile.MaxTopics.
func topics(in []string) []string {
	out := make([]string, 0, min(len(in), profile.MaxTopics))
	seen := map[string]bool{}
	for _, t := range in {
		if len(out) == profile.MaxTopics {
			break
		}
		t = clipText(t, profile.MaxTopic, false)
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	return out
}

// clipText makes s keep the text rule (package text: a body when multiline, else a name, whose newlines
// and tabs become spaces), trims it and clips it to max characters. A name with nothing visible is "".
func clipText(s string, max int, multiline bool) string {
	kind := text.Name
	if multiline {
		kind = text.Body
	}
	s = strings.TrimSpace(text.Clean(s, kind))
	if utf8.RuneCountInString(s) > max {
		s = strings.TrimSpace(text.Clean(string([]rune(s)[:max]), kind))
	}
	return s
}

// first returns the first non-blank string.
func first(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}
