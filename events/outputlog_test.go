package events

import "testing"

func TestListenerOutputLogLine(t *testing.T) {
	// Expected values printed by Python 3: '%r %s output:\n%s' % (name, channel, data)
	for _, tc := range []struct {
		name, channel string
		data          []byte
		want          string
	}{
		{"lis", "stdout", []byte("READY\n"), "'lis' stdout output:\nb'READY\\n'"},
		{"lis", "stdout", []byte("RESULT 2\nOKREADY\n"), "'lis' stdout output:\nb'RESULT 2\\nOKREADY\\n'"},
		{"it's", "stdout", []byte("\xff'"), "\"it's\" stdout output:\nb\"\\xff'\""},
		{"tab\tname\x01é", "stdout", nil, "'tab\\tname\\x01é' stdout output:\nb''"},
		{"a\u200bb\U000e0001", "stdout", nil, "'a\\u200bb\\U000e0001' stdout output:\nb''"},
	} {
		if got := ListenerOutputLogLine(tc.name, tc.channel, tc.data); got != tc.want {
			t.Errorf("ListenerOutputLogLine(%q, %q) = %q, want %q", tc.name, tc.data, got, tc.want)
		}
	}
}
