//go:build race

package chaos

// raceEnabled reports whether the test binary runs with the race
// detector, so the service binaries are built with it too.
const raceEnabled = true
