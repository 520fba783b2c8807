package namespec

import "testing"

func TestSplit(t *testing.T) {
	tests := []struct{ spec, group, process string }{
		{"foo", "foo", "foo"},
		{"g:p", "g", "p"},
		{"g:*", "g", ""},
		{"g:", "g", ""},
		{"g:p:q", "g", "p:q"},
		{":p", "", "p"},
		{"", "", ""},
		{"g:**", "g", "**"},
	}
	for _, tt := range tests {
		g, p := Split(tt.spec)
		if g != tt.group || p != tt.process {
			t.Errorf("Split(%q) = %q, %q; want %q, %q", tt.spec, g, p, tt.group, tt.process)
		}
	}
}

func TestMake(t *testing.T) {
	tests := []struct{ group, process, want string }{
		{"foo", "foo", "foo"},
		{"g", "p", "g:p"},
		{"g", "g_00", "g:g_00"},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := Make(tt.group, tt.process); got != tt.want {
			t.Errorf("Make(%q, %q) = %q, want %q", tt.group, tt.process, got, tt.want)
		}
		if tt.group != "" && tt.process != "" {
			if g, p := Split(Make(tt.group, tt.process)); g != tt.group || p != tt.process {
				t.Errorf("Split(Make(%q, %q)) = %q, %q", tt.group, tt.process, g, p)
			}
		}
	}
}
