package avatar

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// SVGContentType is the content type of an offline portrait.
const SVGContentType = "image/svg+xml"

// offlineSize is the width and height of an offline portrait's view box.
const offlineSize = 512

// Offline draws a portrait of s without any model: an SVG whose colours come from the nickname and
// whose ring of shapes comes from the public topics, one shape per topic (its form, colour and place
// from the topic's hash). It holds no text at all, so nothing of s is written into it; the same
// subject always gives the same bytes.
func Offline(s Subject) []byte {
	seed := hash("person", s.Nickname, strings.Join(s.Topics, "\x00"))
	hue := int(seed[0]) * 360 / 256
	skin := []string{"#f1c7a5", "#e0ac69", "#c68642", "#8d5524", "#ffdbac", "#a86b3c"}[int(seed[1])%6]
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`,
		offlineSize, offlineSize, offlineSize, offlineSize)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="%s"/>`, offlineSize, offlineSize, hsl(hue, 45, 88))
	fmt.Fprintf(&b, `<circle cx="256" cy="256" r="%d" fill="%s"/>`, 200+int(seed[2])%40, hsl(hue, 50, 76))
	for i, topic := range s.Topics {
		th := hash("topic", topic)
		angle := 2*math.Pi*float64(i)/float64(len(s.Topics)) + float64(seed[3])/256*math.Pi
		radius := 185 + float64(th[1]%40)
		x := 256 + radius*math.Cos(angle)
		y := 236 + radius*math.Sin(angle)
		shape(&b, int(th[0])%5, int(x), int(y), 22+int(th[2])%20, int(th[3])*360/256,
			hsl(int(th[4])*360/256, 65, 55))
	}
	shirt := hsl((hue+180)%360, 55, 45)
	fmt.Fprintf(&b, `<path d="M96 512 C104 392 176 340 256 340 C336 340 408 392 416 512 Z" fill="%s"/>`, shirt)
	fmt.Fprintf(&b, `<rect x="232" y="300" width="48" height="56" rx="16" fill="%s"/>`, skin)
	fmt.Fprintf(&b, `<ellipse cx="256" cy="236" rx="%d" ry="%d" fill="%s"/>`, 78+int(seed[5])%12, 92, skin)
	hair := hsl(int(seed[6])*360/256, 35, 18+int(seed[7])%30)
	switch int(seed[8]) % 3 {
	case 0:
		fmt.Fprintf(&b, `<path d="M176 222 C176 110 336 110 336 222 C320 182 192 182 176 222 Z" fill="%s"/>`, hair)
	case 1:
		fmt.Fprintf(&b, `<path d="M172 250 C160 90 352 90 340 250 C330 196 300 170 256 172 C212 170 182 196 172 250 Z" fill="%s"/>`, hair)
	default:
		fmt.Fprintf(&b, `<ellipse cx="256" cy="160" rx="74" ry="30" fill="%s"/>`, hair)
	}
	eye := 24 + int(seed[9])%10
	fmt.Fprintf(&b, `<circle cx="%d" cy="236" r="7" fill="#2b2b2b"/><circle cx="%d" cy="236" r="7" fill="#2b2b2b"/>`,
		256-eye, 256+eye)
	fmt.Fprintf(&b, `<path d="M230 %d Q256 %d 282 %d" stroke="#2b2b2b" stroke-width="5" fill="none" stroke-linecap="round"/>`,
		276, 290+int(seed[10])%10, 276)
	b.WriteString(`</svg>`)
	return []byte(b.String())
}

// shape draws one of five forms of size r centred on (x, y), turned by rot degrees.
func shape(b *strings.Builder, kind, x, y, r, rot int, fill string) {
	fmt.Fprintf(b, `<g transform="translate(%d %d) rotate(%d)" fill="%s">`, x, y, rot, fill)
	switch kind {
	case 0:
		fmt.Fprintf(b, `<circle r="%d"/>`, r)
	case 1:
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" rx="%d"/>`, -r, -r, 2*r, 2*r, r/4)
	case 2:
		fmt.Fprintf(b, `<polygon points="0,%d %d,%d %d,%d"/>`, -r, r, r, -r, r)
	case 3:
		fmt.Fprintf(b, `<polygon points="0,%d %d,0 0,%d %d,0"/>`, -r, r, r, -r)
	default:
		fmt.Fprintf(b, `<circle r="%d" fill="none" stroke="%s" stroke-width="%d"/>`, r, fill, max(r/3, 4))
	}
	b.WriteString(`</g>`)
}

// hash is the SHA-256 of the parts, separated so that ("ab", "c") and ("a", "bc") differ.
func hash(parts ...string) [32]byte {
	h := sha256.New()
	for _, p := range parts {
		_ = binary.Write(h, binary.BigEndian, uint32(len(p)))
		h.Write([]byte(p))
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// hsl formats a colour for SVG.
func hsl(h, s, l int) string { return fmt.Sprintf("hsl(%d,%d%%,%d%%)", h, s, l) }
