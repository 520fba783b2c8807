// Package reliability holds the fault, hostile-client, fuzz and soak tests
// that run the real supervisord binary (built once per test run from
// ./cmd/supervisord) and, with -python, Python supervisord 4.2.5 side by
// side. It has no non-test code; README.md says what each scenario does
// and records the figures.
package reliability
