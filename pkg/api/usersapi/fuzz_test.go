package usersapi

import (
	"errors"
	"reflect"
	"testing"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/text"
)

// checkRefusal fails unless err is a client error.
func checkRefusal(t *testing.T, err error) {
	t.Helper()
	var aerr *fault.Error
	if !errors.As(err, &aerr) || api.Status(aerr) >= 500 {
		t.Fatalf("refusal %v is not a client error", err)
	}
}

// keepsRule fails unless accepted text keeps the text rule for its kind.
func keepsRule(t *testing.T, s string, k text.Kind) {
	t.Helper()
	if why := text.Check(s, k); why != "" {
		t.Fatalf("accepted %q, which breaks the text rule: %s", s, why)
	}
}

// FuzzPatchInfo feeds arbitrary PATCH /api/user/info bodies to the decoder and the validation: they
// never panic, refuse with a 4xx, and a patch they accept is already normal.
func FuzzPatchInfo(f *testing.F) {
	f.Add([]byte(`{"nickname":"Ana","bio":"b","avatar":"https://e.com/a.png","discoverable":true,"allowTwinChat":false,"language":"zh-CN"}`))
	f.Add([]byte(`{"nickname":"  \u00e9  "}`))
	f.Add([]byte(`{"avatar":"javascript:x"}`))
	f.Add([]byte(`{"discoverable":"yes"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var p profile.Patch
		if err := api.DecodeBytes(body, &p); err != nil {
			checkRefusal(t, err)
			return
		}
		n, err := p.Validate()
		if err != nil {
			checkRefusal(t, err)
			return
		}
		again, err := n.Validate()
		if err != nil || !reflect.DeepEqual(again, n) {
			t.Fatalf("a valid patch changes when validated again: %+v -> %+v, %v", n, again, err)
		}
		if n.Nickname != nil {
			keepsRule(t, *n.Nickname, text.Name)
		}
		if n.Bio != nil {
			keepsRule(t, *n.Bio, text.Body)
		}
	})
}

// FuzzPutShades feeds arbitrary PUT /api/user/shades bodies to the decoder and the validation: they
// never panic, refuse with a 4xx, and a list they accept is already normal.
func FuzzPutShades(f *testing.F) {
	f.Add([]byte(`{"shades":[{"name":"Chess","confidence":"HIGH","topics":["chess"],"public":{"name":"Games","description":"","content":"","topics":[]}}]}`))
	f.Add([]byte(`{"shades":[{"id":"01HZZZZZZZZZZZZZZZZZZZZZZZ","name":" x ","public":null}]}`))
	f.Add([]byte(`{"shades":[{"name":""},{"name":"a","topics":["a","A"]}]}`))
	f.Add([]byte(`{"shades":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var b shadesBody
		if err := api.DecodeBytes(body, &b); err != nil {
			checkRefusal(t, err)
			return
		}
		if b.Shades == nil {
			return
		}
		n, err := profile.ValidateShades(*b.Shades)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		again, err := profile.ValidateShades(n)
		if err != nil || !reflect.DeepEqual(again, n) {
			t.Fatalf("valid shades change when validated again: %+v -> %+v, %v", n, again, err)
		}
		for _, s := range n {
			keepsRule(t, s.Name, text.Name)
			keepsRule(t, s.Description, text.Body)
			keepsRule(t, s.Content, text.Body)
			for _, topic := range s.Topics {
				keepsRule(t, topic, text.Name)
			}
			if p := s.Public; p != nil {
				keepsRule(t, p.Name, text.Name)
				keepsRule(t, p.Description, text.Body)
				keepsRule(t, p.Content, text.Body)
				for _, topic := range p.Topics {
					keepsRule(t, topic, text.Name)
				}
			}
		}
	})
}
