package main

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/gosupervisor/gosupervisor/internal/namespec"
	"github.com/gosupervisor/gosupervisor/internal/xmlrpcvalue"
)

// The answers supervisorctl reads, as typed structs. decodeAnswer fills
// them from the decoded XML-RPC value; the xmlrpc tag names the struct
// member, ",optional" marks one an older server may not send.

// processInfo is supervisor.getProcessInfo's struct.
type processInfo struct {
	Name          string `xmlrpc:"name" json:"name"`
	Group         string `xmlrpc:"group" json:"group"`
	Description   string `xmlrpc:"description" json:"description"`
	Start         int64  `xmlrpc:"start" json:"start"`
	Stop          int64  `xmlrpc:"stop" json:"stop"`
	Now           int64  `xmlrpc:"now" json:"now"`
	State         int64  `xmlrpc:"state" json:"state"`
	StateName     string `xmlrpc:"statename" json:"statename"`
	SpawnErr      string `xmlrpc:"spawnerr" json:"spawnerr"`
	ExitStatus    int64  `xmlrpc:"exitstatus" json:"exitstatus"`
	Logfile       string `xmlrpc:"logfile" json:"logfile"`
	StdoutLogfile string `xmlrpc:"stdout_logfile" json:"stdout_logfile"`
	StderrLogfile string `xmlrpc:"stderr_logfile" json:"stderr_logfile"`
	PID           int64  `xmlrpc:"pid" json:"pid"`
}

// namespec is the name supervisorctl shows for the process.
func (p processInfo) namespec() string { return namespec.Make(p.Group, p.Name) }

// result is one entry of a multi-process result list (startAllProcesses
// and the like), or a fault turned into one.
type result struct {
	Name        string `xmlrpc:"name"`
	Group       string `xmlrpc:"group"`
	Status      int    `xmlrpc:"status"`
	Description string `xmlrpc:"description"`
}

// configInfo is one entry of supervisor.getAllConfigInfo.
type configInfo struct {
	Name        string `xmlrpc:"name"`
	Group       string `xmlrpc:"group"`
	InUse       bool   `xmlrpc:"inuse"`
	Autostart   bool   `xmlrpc:"autostart"`
	GroupPrio   int64  `xmlrpc:"group_prio"`
	ProcessPrio int64  `xmlrpc:"process_prio"`
}

// configChanges is supervisor.reloadConfig's [[added, changed, removed]].
type configChanges [][][]string

// lists returns the added, changed and removed group names.
func (c configChanges) lists() (added, changed, removed []string) {
	if len(c) == 0 {
		return nil, nil, nil
	}
	l := c[0]
	get := func(i int) []string {
		if i < len(l) {
			return l[i]
		}
		return nil
	}
	return get(0), get(1), get(2)
}

// answerError is an answer whose shape is not what the method promises.
type answerError struct {
	method string
	err    error
}

func (e *answerError) Error() string {
	return fmt.Sprintf("unexpected answer to %s: %v", e.method, e.err)
}
func (e *answerError) Unwrap() error { return e.err }

// callInto calls method and decodes its answer into dst (a pointer).
func (c *rpcClient) callInto(dst any, method string, args ...any) error {
	data, err := c.callBody(method, args)
	if err != nil {
		return err
	}
	var d answerDecoder
	if d.structList(data, reflect.ValueOf(dst).Elem()) {
		return nil
	}
	v, err := decodeResponse(data)
	if err != nil {
		return err
	}
	if err := d.decode(v, reflect.ValueOf(dst).Elem()); err != nil {
		return &answerError{method: method, err: err}
	}
	return nil
}

// structList is the fast path of an answer that is a list of structs
// (getAllProcessInfo at 1,000 programs): the members go straight into
// dst, a slice of tagged structs, without a map per struct. It takes only
// what needs no conversion (a string into a string field, an int into an
// int field, ...) and every struct with all its required members; false
// leaves dst alone, and the general decoding (which owns conversions and
// errors) decides.
func (d *answerDecoder) structList(body string, dst reflect.Value) bool {
	if dst.Kind() != reflect.Slice || dst.Type().Elem().Kind() != reflect.Struct {
		return false
	}
	et := dst.Type().Elem()
	fields := d.structFields(et)
	if len(fields) > 64 {
		return false
	}
	byName := make(map[string]int, len(fields))
	var required uint64
	for i, f := range fields {
		byName[f.member] = i
		if !f.optional {
			required |= 1 << i
		}
	}
	list := reflect.New(dst.Type()).Elem()
	var cur reflect.Value
	var seen uint64
	complete := func() bool { return seen&required == required }
	_, ok := xmlrpcvalue.DecodePlainStructs(body, func(i int) bool {
		if i > 0 && !complete() {
			return false
		}
		list.Grow(1)
		list.SetLen(i + 1)
		cur, seen = list.Index(i), 0
		return true
	}, func(m *xmlrpcvalue.Member) bool {
		i, ok := byName[m.Name]
		if !ok {
			return true // a member the answer type does not read
		}
		f := cur.Field(fields[i].index)
		switch {
		case m.Kind == xmlrpcvalue.String && f.Kind() == reflect.String:
			f.SetString(m.Str)
		case m.Kind == xmlrpcvalue.Int && (f.Kind() == reflect.Int64 || f.Kind() == reflect.Int):
			f.SetInt(m.Int)
		case m.Kind == xmlrpcvalue.Bool && f.Kind() == reflect.Bool:
			f.SetBool(m.Bool)
		case m.Kind == xmlrpcvalue.Double && f.Kind() == reflect.Float64:
			f.SetFloat(m.Float)
		default:
			return false
		}
		seen |= 1 << i
		return true
	})
	if !ok || list.Len() > 0 && !complete() {
		return false
	}
	if list.IsNil() {
		list.Set(reflect.MakeSlice(dst.Type(), 0, 0))
	}
	dst.Set(list)
	return true
}

// decodeAnswer stores the decoded XML-RPC value v in dst.
func decodeAnswer(v any, dst reflect.Value) error {
	var d answerDecoder
	return d.decode(v, dst)
}

// answerDecoder stores decoded XML-RPC values in typed answers; it reads
// each struct type's tags once per answer (a list of 1,000 process infos
// is one struct type).
type answerDecoder struct {
	fields map[reflect.Type][]answerField
}

// answerField is a struct field with an xmlrpc tag.
type answerField struct {
	index    int
	member   string
	optional bool
}

func (d *answerDecoder) structFields(t reflect.Type) []answerField {
	if f, ok := d.fields[t]; ok {
		return f
	}
	var fields []answerField
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("xmlrpc")
		if tag == "" {
			continue
		}
		name, opt, _ := strings.Cut(tag, ",")
		fields = append(fields, answerField{index: i, member: name, optional: opt == "optional"})
	}
	if d.fields == nil {
		d.fields = map[reflect.Type][]answerField{}
	}
	d.fields[t] = fields
	return fields
}

// decode stores the decoded XML-RPC value v in dst: strings, int64
// (and int), bool, float64, slices and tagged structs.
func (d *answerDecoder) decode(v any, dst reflect.Value) error {
	switch dst.Kind() {
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("want a string, got %T", v)
		}
		dst.SetString(s)
	case reflect.Int, reflect.Int64:
		n, ok := v.(int64)
		if !ok {
			return fmt.Errorf("want an int, got %T", v)
		}
		dst.SetInt(n)
	case reflect.Bool:
		switch x := v.(type) {
		case bool:
			dst.SetBool(x)
		case int64: // Python's truth of an int
			dst.SetBool(x != 0)
		default:
			return fmt.Errorf("want a boolean, got %T", v)
		}
	case reflect.Float64:
		switch x := v.(type) {
		case float64:
			dst.SetFloat(x)
		case int64:
			dst.SetFloat(float64(x))
		default:
			return fmt.Errorf("want a double, got %T", v)
		}
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return fmt.Errorf("want an array, got %T", v)
		}
		s := reflect.MakeSlice(dst.Type(), len(l), len(l))
		for i, e := range l {
			if err := d.decode(e, s.Index(i)); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		dst.Set(s)
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("want a struct, got %T", v)
		}
		for _, f := range d.structFields(dst.Type()) {
			e, ok := m[f.member]
			if !ok {
				if f.optional {
					continue
				}
				return fmt.Errorf("no member %q", f.member)
			}
			if e == nil && f.optional {
				continue
			}
			if err := d.decode(e, dst.Field(f.index)); err != nil {
				return fmt.Errorf("%s: %w", f.member, err)
			}
		}
	default:
		return fmt.Errorf("cannot decode into %s", dst.Type())
	}
	return nil
}
