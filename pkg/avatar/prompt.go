package avatar

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// DefaultStyle is the style of a portrait when the person names none.
const DefaultStyle = "illustration"

// styles are the portrait styles a person may choose, each with the words the image model is given.
// A fixed list: the request's style is never passed to the model as free text.
var styles = map[string]string{
	"illustration": "a warm flat vector illustration with clean shapes",
	"watercolour":  "a soft watercolour painting on textured paper",
	"pixel":        "detailed pixel art with a limited palette",
	"clay":         "a friendly 3D clay figure with soft studio light",
	"ink":          "a fine ink line drawing with a single accent colour",
}

// ErrUnknownStyle is returned for a style outside Styles().
var ErrUnknownStyle = errors.New("unknown avatar style")

// Styles lists the styles Prompt accepts, sorted.
func Styles() []string {
	names := make([]string, 0, len(styles))
	for name := range styles {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Prompt returns the image prompt for a portrait of s's twin in style (DefaultStyle when empty). It
// describes a head-and-shoulders figure surrounded by motifs of the person's public topics, asks for
// no text and nothing unsafe, and stays well under the model's prompt limit.
func Prompt(s Subject, style string) (string, error) {
	if style == "" {
		style = DefaultStyle
	}
	look, ok := styles[style]
	if !ok {
		return "", fmt.Errorf("%w %q (one of %s)", ErrUnknownStyle, style, strings.Join(Styles(), ", "))
	}
	var b strings.Builder
	b.WriteString("Portrait avatar of a friendly, expressive person")
	if s.Nickname != "" {
		fmt.Fprintf(&b, " known as %s", s.Nickname)
	}
	b.WriteString(", head and shoulders, centred, looking at the viewer, as ")
	b.WriteString(look)
	b.WriteString(".")
	if len(s.Topics) > 0 {
		fmt.Fprintf(&b, " Small background motifs hint at their interests: %s.", strings.Join(s.Topics, ", "))
	}
	if len(s.Shades) > 0 {
		fmt.Fprintf(&b, " The mood reflects: %s.", strings.Join(s.Shades[:min(len(s.Shades), 4)], ", "))
	}
	b.WriteString(" Plain soft background, square composition, no text, no letters, no logos, fully clothed, safe for work.")
	return b.String(), nil
}
