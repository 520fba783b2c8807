package config

// optGetter reads one option of a section with a default, expanded: the
// nested get() of Python's read_config and processes_from_section.
type optGetter func(opt, def string) (string, error)

// optAs reads option opt (default def) through get and converts it with
// conv: the read-then-convert step of every typed option. Both errors are
// returned as they are; where Python adds the option's name or value to a
// conversion error, the caller converts itself.
func optAs[T any](get optGetter, opt, def string, conv func(string) (T, error)) (T, error) {
	v, err := get(opt, def)
	if err != nil {
		var zero T
		return zero, err
	}
	return conv(v)
}
