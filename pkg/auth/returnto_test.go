package auth

import "testing"

func TestSafeReturnTo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"/", "/"},
		{"/chats?tab=1#x", "/chats?tab=1#x"},
		{"/users/01J?x=https://a", "/users/01J?x=https://a"},
		{"", "/"},
		{"//evil.example", "/"},
		{"https://evil.example", "/"},
		{`/\evil`, "/"},
		{`\\evil.example`, "/"},
		{"/%2F%2Fevil.example", "/"},
		{"/%5Cevil", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.example", "/"},
		{"/a\r\nSet-Cookie: x", "/"},
		{"/a b", "/"},
		{"/\t/evil.example", "/"},
		{"/%ZZ", "/"},
	} {
		if got := SafeReturnTo(tc.in); got != tc.want {
			t.Errorf("SafeReturnTo(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzSafeReturnTo(f *testing.F) {
	for _, s := range []string{"/", "//evil", `/\evil`, "https://x", "/%2F%2Fx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := SafeReturnTo(s)
		if got != "/" && (got[0] != '/' || len(got) > 1 && (got[1] == '/' || got[1] == '\\')) {
			t.Fatalf("SafeReturnTo(%q) = %q, not a same-site path", s, got)
		}
	})
}
