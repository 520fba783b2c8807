//go:build race

package main

// raceEnabled builds the daemon under test with -race too, so the
// end-to-end tests also check the wiring's concurrency.
const raceEnabled = true
