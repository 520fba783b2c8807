package main

import (
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// structListAnswers are answers for the list fast path: some it takes,
// some it leaves to the general decoding.
var structListAnswers = []string{
	string(statusAnswer(3)),
	string(statusAnswer(0)),
	wrapAnswer("<value><array><data><value><struct><member><name>name</name><value><string>a</string></value></member><member><name>group</name><value>g</value></member><member><name>status</name><value><int>80</int></value></member><member><name>description</name><value><string>OK</string></value></member></struct></value></data></array></value>"),
	// an int where a boolean is read: Python's truth, by the general path
	wrapAnswer("<value><array><data><value><struct><member><name>name</name><value>a</value></member><member><name>group</name><value>a</value></member><member><name>inuse</name><value><int>1</int></value></member><member><name>autostart</name><value><boolean>0</boolean></value></member><member><name>group_prio</name><value><int>999</int></value></member><member><name>process_prio</name><value><int>1</int></value></member></struct></value></data></array></value>"),
	wrapAnswer("<value><array><data><value><struct><member><name>name</name><value>a</value></member><member><name>group</name><value>a</value></member><member><name>inuse</name><value><boolean>1</boolean></value></member><member><name>autostart</name><value><boolean>0</boolean></value></member><member><name>group_prio</name><value><int>999</int></value></member><member><name>process_prio</name><value><int>1</int></value></member></struct></value></data></array></value>"),
	// a member missing, a member of the wrong type, a repeated member
	wrapAnswer("<value><array><data><value><struct><member><name>name</name><value>a</value></member></struct></value></data></array></value>"),
	wrapAnswer("<value><array><data><value><struct><member><name>name</name><value>a</value></member><member><name>group</name><value>g</value></member><member><name>status</name><value>80</value></member><member><name>description</name><value>x</value></member></struct></value></data></array></value>"),
	wrapAnswer("<value><array><data><value><struct><member><name>status</name><value>x</value></member><member><name>name</name><value>a</value></member><member><name>group</name><value>g</value></member><member><name>status</name><value><int>1</int></value></member><member><name>description</name><value>x</value></member></struct></value></data></array></value>"),
	wrapAnswer("<value><string>not a list</string></value>"),
}

func wrapAnswer(v string) string {
	return "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n" + v + "\n</param>\n</params>\n</methodResponse>\n"
}

// checkStructList: what the list fast path takes, the general decoding
// takes too, with the same result.
func checkStructList(t *testing.T, body string) {
	t.Helper()
	for _, dst := range []any{&[]processInfo{}, &[]result{}, &[]configInfo{}} {
		typ := reflect.TypeOf(dst).Elem()
		fast := reflect.New(typ)
		var d answerDecoder
		if !d.structList(body, fast.Elem()) {
			if !fast.Elem().IsNil() {
				t.Fatalf("%q into %s: refused, but dst was changed", body, typ)
			}
			continue
		}
		v, err := decodeResponse(body)
		if err != nil {
			t.Fatalf("%q into %s: fast path took it, decodeResponse: %v", body, typ, err)
		}
		slow := reflect.New(typ)
		if err := decodeAnswer(v, slow.Elem()); err != nil {
			t.Fatalf("%q into %s: fast path took it, decodeAnswer: %v", body, typ, err)
		}
		if diff := cmp.Diff(slow.Interface(), fast.Interface(), cmp.AllowUnexported(processInfo{}, result{}, configInfo{})); diff != "" {
			t.Fatalf("%q into %s: differs (-general +fast):\n%s", body, typ, diff)
		}
	}
}

// TestStructList checks the list fast path against the general decoding,
// and that it takes the common answers.
func TestStructList(t *testing.T) {
	for _, body := range structListAnswers {
		checkStructList(t, body)
	}
	for _, tt := range []struct {
		body string
		dst  any
		take bool
	}{
		{structListAnswers[0], &[]processInfo{}, true},
		{structListAnswers[1], &[]processInfo{}, true},
		{structListAnswers[2], &[]result{}, true},
		{structListAnswers[3], &[]configInfo{}, false},
		{structListAnswers[4], &[]configInfo{}, true},
		{structListAnswers[5], &[]result{}, false},
		{structListAnswers[6], &[]result{}, false},
		{structListAnswers[7], &[]result{}, false}, // a wrong type first: the general path decides
		{structListAnswers[0], &processInfo{}, false},
	} {
		var d answerDecoder
		if got := d.structList(tt.body, reflect.ValueOf(tt.dst).Elem()); got != tt.take {
			t.Errorf("%.200q into %T: taken %v, want %v", tt.body, tt.dst, got, tt.take)
		}
	}
}

// FuzzStructList is TestStructList's comparison on arbitrary answers.
func FuzzStructList(f *testing.F) {
	for _, body := range structListAnswers {
		f.Add(body)
	}
	f.Fuzz(checkStructList)
}
